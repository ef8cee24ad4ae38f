// Per-call search parameters: lib/search-params.ts checks a call's options and passes them in
// one plain form; here they become FAISS's SearchParameters for the index's structure.
#pragma once

#include <faiss/Index.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/IDSelector.h>
#include <napi.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace faiss_native {

// Which ids a search or removal concerns (lib's IdFilter), pointing into the JS arrays given,
// which the job keeps alive.
struct IdFilter {
  enum class Kind { kIds, kBitmap, kRange } kind = Kind::kIds;
  const faiss::idx_t* ids = nullptr;
  size_t count = 0;
  const uint8_t* bitmap = nullptr;
  size_t bytes = 0;
  faiss::idx_t min = 0;  // [min, max)
  faiss::idx_t max = 0;
  bool invert = false;  // every id but those
};

// FAISS's selector for a filter. Built in the job: a set of ids is hashed, O(n).
class Selector {
 public:
  explicit Selector(const IdFilter& filter);
  const faiss::IDSelector& get() const { return *parts_.back(); }

 private:
  std::vector<std::unique_ptr<faiss::IDSelector>> parts_;
  std::vector<uint8_t> bitmap_;  // a set of ids made into a bitmap (see the constructor)
};

class PreparedListings;

// A filter made once for many searches (lib's IdFilter class, Python's IDSelector objects): its
// own copy of a bitmap, its selector built when made (a set of ids hashed or made a bitmap once,
// not on every call), and what filtered searches of IVF indexes listed of it.
class PreparedFilter {
 public:
  explicit PreparedFilter(const IdFilter& filter);  // copies what `filter` points into
  ~PreparedFilter();
  const faiss::IDSelector& selector() const { return selector_->get(); }
  PreparedListings& listings() const { return *listings_; }

 private:
  std::vector<uint8_t> bitmap_;
  std::unique_ptr<Selector> selector_;
  std::unique_ptr<PreparedListings> listings_;
};

// A call's filter as lib passes it (NativeIdFilter): one prepared before, whose selector is
// built already, or the call's own, whose selector the job builds (FilterSelector).
struct FilterArg {
  std::shared_ptr<const PreparedFilter> prepared;
  std::optional<IdFilter> own;
  explicit operator bool() const { return prepared || own; }
};

// The selector of a FilterArg: the prepared filter's, or one built here for the call's own
// (in the job: a set of ids is hashed, O(n)). Null without a filter.
class FilterSelector {
 public:
  explicit FilterSelector(const FilterArg& filter);
  FilterSelector(const FilterSelector&) = delete;  // sel_ may point into own_
  FilterSelector& operator=(const FilterSelector&) = delete;
  const faiss::IDSelector* get() const { return sel_; }

 private:
  std::optional<Selector> own_;
  const faiss::IDSelector* sel_ = nullptr;
};

struct SearchSpec {
  int64_t nprobe = 0;     // 0: the index's own
  int64_t maxCodes = -1;  // -1: the index's own
  int64_t efSearch = 0;   // 0: the index's own
  double kFactor = 0;     // 0: the index's own (IndexRefine's k_factor)
  int32_t qb = -1;        // -1: the index's own (a RaBitQ layer's query bits)
  FilterArg filter;
  int32_t plan = 0;  // a filtered search's plan (FilterPlan), 0 to choose
  bool filtered() const { return bool(filter); }
};

// lib's plain forms (NativeSearchParams, undefined for none; NativeIdFilter). The arrays they
// hold are added to keepAlive.
std::shared_ptr<const SearchSpec> ReadSearchSpec(const Napi::Value& value, std::vector<Napi::Object>& keepAlive);
FilterArg ReadFilterArg(const Napi::Value& value, std::vector<Napi::Object>& keepAlive);

// prepareFilter(filter: NativeIdFilter): the external lib's IdFilter class holds.
Napi::Value PrepareFilter(const Napi::CallbackInfo& info);

// FAISS's parameters for one search of `index`: their type follows its structure (IVF, HNSW,
// IndexRefine's), through IDMaps and pre-transforms, which pass them on. Null without a spec.
class SearchParams {
 public:
  SearchParams(const faiss::Index& index, const SearchSpec* spec);
  const faiss::SearchParameters* get() const { return top_; }

 private:
  faiss::SearchParameters* For(const faiss::Index& index, const SearchSpec& spec, faiss::IDSelector* sel);

  std::optional<FilterSelector> selector_;
  std::vector<std::unique_ptr<faiss::SearchParameters>> owned_;
  faiss::SearchParameters* top_ = nullptr;
};

// index.range_search with per-call parameters, also through IDMaps: FAISS's own
// IndexIDMap::range_search keeps only their selector (an nprobe would be lost).
void RangeSearchWith(const faiss::Index& index, faiss::idx_t n, const float* x, float radius, faiss::RangeSearchResult* result,
                     const faiss::SearchParameters* params);

}  // namespace faiss_native

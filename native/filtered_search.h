// Filtered search: which plan runs a search with a filter, and the plans FAISS lacks.
//  - FAISS's own filtered search (plan "index") keeps the allowed ids among those it meets. With
//    a selective filter it meets too few: HNSW's walk stops after efSearch candidates, allowed
//    or not (recall@10 0.30 at 1% allowed, 0.58 at 5%: scripts/bench/filtered-hnsw.mjs), and an
//    IVF search probes nprobe lists that hold few allowed ids. Forced only (plan: 'index').
//  - "widened": a search that meets about as many allowed ids as an unfiltered search meets
//    ids. IVF: the allowed codes of the nearest lists (listed through FilterCache's map of where
//    each id lies, or found by testing each id of a visited list), until that many are met;
//    HNSW: efSearch divided by the square root of the share allowed (FAISS's walk meets more
//    allowed ids than that share of efSearch).
//  - "exact": every allowed vector's distance. Flat batches gather the allowed rows for BLAS
//    (FAISS 1.12 tests every id of a flat index for every query and computes distances one at a
//    time: a batch with half the ids allowed ran at 0.12x the unfiltered batch,
//    scripts/bench/filtered.mjs); HNSW over flat vectors searches its allowed rows, over codes
//    scans its storage; IVF scores every allowed code.
#pragma once

#include <faiss/Index.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "search_params.h"

namespace faiss {
struct IndexIVF;
}

namespace faiss_native {

class IvfLocator;
struct AllowedCodes;

// A copy of a range or a bitmap filter, to recognise it when it comes again. Bitmaps that differ
// only in trailing zero bytes are the same filter (a set of ids searched as a bitmap ends at its
// largest id; the caller's bitmap of the same ids, at the index's size).
class FilterCopy {
 public:
  bool Matches(const faiss::IDSelector& sel) const;
  void Assign(const faiss::IDSelector& sel);  // empty for other selectors
  void Clear() { kind_ = 0; }

 private:
  char kind_ = 0;  // 'r' a range, 'b' a bitmap
  std::pair<faiss::idx_t, faiss::idx_t> range_;
  std::vector<uint8_t> bitmap_;  // without trailing zero bytes
};

// What filtered searches listed of one prepared filter (search_params.h): its allowed codes in
// each IVF index it searched (FilterCache's), while that index is unchanged; the last
// kPreparedIndexes indexes.
class PreparedListings {
 public:
  std::shared_ptr<const AllowedCodes> Find(uint64_t cache, uint64_t changes) const;
  void Store(uint64_t cache, uint64_t changes, std::shared_ptr<const AllowedCodes> allowed);

 private:
  struct Slot {
    uint64_t cache = 0;  // FilterCache::serial
    uint64_t changes = 0;
    std::shared_ptr<const AllowedCodes> allowed;
  };
  mutable std::mutex mutex_;
  std::vector<Slot> slots_;  // the most recently stored last
};

// What filtered searches of one index keep between calls until it changes (the change count of
// its lock, IndexLock): where each id's code lies in its IVF lists, and the allowed codes of
// the last range or bitmap filter listed, with a copy of it, so that a filter used again costs
// a comparison instead of a listing. A prepared filter's listings are kept with it instead.
class FilterCache {
 public:
  explicit FilterCache(const std::atomic<uint64_t>& changes);
  ~FilterCache();
  struct Seen {
    std::shared_ptr<const AllowedCodes> allowed;  // if `sel` is the filter listed last (or `prepared` was listed here)
    bool repeated = false;                        // `sel` is the previous search's filter (or prepared)
  };
  // What is known of `sel` (the selector of `prepared` where given) on `ivf`; remembers it as
  // the previous search's filter.
  Seen Lookup(const faiss::IndexIVF& ivf, const faiss::IDSelector& sel, PreparedListings* prepared);
  // The allowed codes of `sel` in `ivf` (under an IDMap's `idMap`), listed now and kept (with
  // `prepared` where given); null where the selector cannot list its ids (not a range, a bitmap
  // or a set) or an id is stored twice.
  std::shared_ptr<const AllowedCodes> List(const faiss::IndexIVF& ivf, const std::vector<faiss::idx_t>* idMap, const faiss::IDSelector& sel,
                                           PreparedListings* prepared);

 private:
  void ExpireLocked(const faiss::IndexIVF& ivf);  // drops what a change made stale

  const uint64_t serial_;  // this cache among all, for PreparedListings
  const std::atomic<uint64_t>& changes_;
  std::mutex mutex_;
  const faiss::IndexIVF* ivf_ = nullptr;
  uint64_t builtAt_ = 0;
  std::shared_ptr<const IvfLocator> locator_;
  std::shared_ptr<const AllowedCodes> listed_;
  FilterCopy listedFilter_;
  FilterCopy previousFilter_;
};

// The plan a filtered search ran (lib/search-params.ts names them).
enum class FilterPlan : int32_t { kNone = 0, kIndex = 1, kWidened = 2, kExact = 3 };

// Runs a search: with a filter, by the plan `spec->plan` forces or (0) the cheapest that keeps
// recall (see filtered_search.cc); `run` searches with given parameters where FAISS's own
// search applies (the caller's threaded splits included). Returns the plan, kNone without a filter.
using RunSearch = std::function<void(const faiss::SearchParameters*)>;
FilterPlan SearchFiltered(const faiss::Index& index, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances,
                          faiss::idx_t* labels, const SearchSpec* spec, const faiss::SearchParameters* params, FilterCache& cache,
                          const RunSearch& run);

// The share of the index's vectors a selector allows: counted from a range, a bitmap or a set
// (an upper bound where ids are not positions: under an IDMap, on IVF), otherwise estimated
// from 4096 vectors spread over the index.
double AllowedShare(const faiss::Index& index, const faiss::IDSelector& sel);

// How many searches took each plan (for the specs): the allowed-rows path, and widened searches.
uint64_t AllowedRowSearches();
uint64_t WidenedSearches();

}  // namespace faiss_native

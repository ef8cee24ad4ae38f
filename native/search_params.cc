#include "search_params.h"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFRaBitQ.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRaBitQ.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/FaissAssert.h>

#include <algorithm>
#include <string>

#include "filtered_search.h"
#include "index_handle.h"

namespace faiss_native {

namespace {

int64_t IntProperty(const Napi::Object& object, const char* key, int64_t fallback) {
  Napi::Value v = object.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : fallback;
}

faiss::idx_t IdProperty(const Napi::Object& object, const char* key) {
  bool lossless = true;
  return object.Get(key).As<Napi::BigInt>().Int64Value(&lossless);
}

}  // namespace

// A NativeIdFilter's own form ({ ids | bitmap | min, max, not }).
IdFilter ReadIdFilter(const Napi::Value& value, std::vector<Napi::Object>& keepAlive) {
  Napi::Object object = value.As<Napi::Object>();
  IdFilter filter;
  filter.invert = object.Get("not").ToBoolean();
  if (Napi::Value ids = object.Get("ids"); ids.IsTypedArray()) {
    auto array = ids.As<Napi::TypedArrayOf<int64_t>>();
    filter.kind = IdFilter::Kind::kIds;
    filter.ids = array.Data();
    filter.count = array.ElementLength();
    keepAlive.push_back(array);
  } else if (Napi::Value bitmap = object.Get("bitmap"); bitmap.IsTypedArray()) {
    auto array = bitmap.As<Napi::Uint8Array>();
    filter.kind = IdFilter::Kind::kBitmap;
    filter.bitmap = array.Data();
    filter.bytes = array.ElementLength();
    keepAlive.push_back(array);
  } else {
    filter.kind = IdFilter::Kind::kRange;
    filter.min = IdProperty(object, "min");
    filter.max = IdProperty(object, "max");
  }
  return filter;
}

std::shared_ptr<const SearchSpec> ReadSearchSpec(const Napi::Value& value, std::vector<Napi::Object>& keepAlive) {
  if (!value.IsObject()) return nullptr;
  Napi::Object object = value.As<Napi::Object>();
  auto spec = std::make_shared<SearchSpec>();
  spec->nprobe = IntProperty(object, "nprobe", 0);
  spec->maxCodes = IntProperty(object, "maxCodes", -1);
  spec->efSearch = IntProperty(object, "efSearch", 0);
  if (Napi::Value kFactor = object.Get("kFactor"); kFactor.IsNumber()) spec->kFactor = kFactor.As<Napi::Number>().DoubleValue();
  spec->qb = int32_t(IntProperty(object, "qb", -1));
  spec->plan = int32_t(IntProperty(object, "plan", 0));
  if (Napi::Value filter = object.Get("filter"); filter.IsObject()) spec->filter = ReadFilterArg(filter, keepAlive);
  return spec;
}

namespace {

// Marks the externals prepareFilter makes, so that no other external passes for one.
constexpr napi_type_tag kPreparedFilterTag = {0x6661697373206e61ull, 0x7469766520696466ull};

}  // namespace

FilterArg ReadFilterArg(const Napi::Value& value, std::vector<Napi::Object>& keepAlive) {
  Napi::Value prepared = value.As<Napi::Object>().Get("prepared");
  if (prepared.IsExternal() && prepared.As<Napi::Object>().CheckTypeTag(&kPreparedFilterTag)) {
    return {*prepared.As<Napi::External<std::shared_ptr<const PreparedFilter>>>().Data(), std::nullopt};
  }
  return {nullptr, ReadIdFilter(value, keepAlive)};
}

FilterSelector::FilterSelector(const FilterArg& filter) {
  if (filter.prepared) {
    sel_ = &filter.prepared->selector();
  } else if (filter.own) {
    sel_ = &own_.emplace(*filter.own).get();
  }
}

Napi::Value PrepareFilter(const Napi::CallbackInfo& info) {
  std::vector<Napi::Object> keepAlive;  // copied before this returns
  auto* prepared = new std::shared_ptr<const PreparedFilter>(std::make_shared<PreparedFilter>(ReadIdFilter(info[0], keepAlive)));
  auto external = Napi::External<std::shared_ptr<const PreparedFilter>>::New(
      info.Env(), prepared, [](Napi::Env, std::shared_ptr<const PreparedFilter>* held) { delete held; });
  external.TypeTag(&kPreparedFilterTag);
  return external;
}

PreparedFilter::PreparedFilter(const IdFilter& filter) : listings_(std::make_unique<PreparedListings>()) {
  IdFilter own = filter;
  if (own.kind == IdFilter::Kind::kBitmap) {
    bitmap_.assign(filter.bitmap, filter.bitmap + filter.bytes);
    own.bitmap = bitmap_.data();
  }
  selector_ = std::make_unique<Selector>(own);  // a set's ids are copied by it (hashed or made a bitmap)
}

PreparedFilter::~PreparedFilter() = default;

namespace {

// Whether a spec sets an IVF, HNSW or RaBitQ layer's parameters.
bool SetsLayerParams(const SearchSpec& spec) { return spec.nprobe != 0 || spec.maxCodes >= 0 || spec.efSearch != 0 || spec.qb >= 0; }

// A set of ids as a bitmap, when its ids are not negative and dense enough that the bitmap
// takes at most 16 bytes an id (plus 4 KiB): FAISS's IDSelectorBatch hashes every candidate
// against an unordered_set built for the call, which made a set of ids cost up to 4.8x the
// same filter as a bitmap (scripts/bench/filtered.mjs). Same members, so the same results.
bool DenseBitmap(const int64_t* ids, size_t count, std::vector<uint8_t>& bitmap) {
  int64_t max = -1;
  for (size_t i = 0; i < count; i++) {
    if (ids[i] < 0) return false;
    max = std::max(max, ids[i]);
  }
  const size_t bytes = size_t(max / 8 + 1);
  if (count == 0 || bytes > 16 * count + 4096) return false;
  bitmap.assign(bytes, 0);
  for (size_t i = 0; i < count; i++) bitmap[size_t(ids[i] >> 3)] |= uint8_t(1u << (ids[i] & 7));
  return true;
}

}  // namespace

Selector::Selector(const IdFilter& filter) {
  switch (filter.kind) {
    case IdFilter::Kind::kIds:
      if (DenseBitmap(filter.ids, filter.count, bitmap_)) {
        parts_.push_back(std::make_unique<faiss::IDSelectorBitmap>(bitmap_.size(), bitmap_.data()));
      } else {
        parts_.push_back(std::make_unique<faiss::IDSelectorBatch>(filter.count, filter.ids));
      }
      break;
    case IdFilter::Kind::kBitmap:
      parts_.push_back(std::make_unique<faiss::IDSelectorBitmap>(filter.bytes, filter.bitmap));
      break;
    case IdFilter::Kind::kRange:
      parts_.push_back(std::make_unique<faiss::IDSelectorRange>(filter.min, filter.max));
      break;
  }
  if (filter.invert) parts_.push_back(std::make_unique<faiss::IDSelectorNot>(parts_.back().get()));
}

SearchParams::SearchParams(const faiss::Index& index, const SearchSpec* spec) {
  if (spec == nullptr) return;
  const faiss::IDSelector* sel = selector_.emplace(spec->filter).get();
  // FAISS declares the selector non-const but only reads it.
  top_ = For(index, *spec, const_cast<faiss::IDSelector*>(sel));
}

faiss::SearchParameters* SearchParams::For(const faiss::Index& index, const SearchSpec& spec, faiss::IDSelector* sel) {
  // IDMaps translate the selector to their positions themselves; pre-transforms pass it on.
  if (auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(&index)) return For(*idmap->index, spec, sel);
  if (auto* pt = dynamic_cast<const faiss::IndexPreTransform*>(&index)) return For(*pt->index, spec, sel);
  if (auto* refine = dynamic_cast<const faiss::IndexRefine*>(&index)) {
    auto params = std::make_unique<faiss::IndexRefineSearchParameters>();
    params->k_factor = spec.kFactor > 0 ? float(spec.kFactor) : refine->k_factor;
    SearchSpec base = spec;
    base.kFactor = 0;  // this layer's
    // None where the base index takes none of them (IndexPQ refuses any parameters).
    params->base_index_params = (sel != nullptr || SetsLayerParams(base)) ? For(*refine->base_index, base, sel) : nullptr;
    return owned_.emplace_back(std::move(params)).get();
  }
  if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(&index)) {
    FAISS_THROW_IF_NOT_MSG(spec.efSearch == 0, "efSearch does not apply to an IVF index");
    std::unique_ptr<faiss::SearchParametersIVF> params;
    if (auto* rabitq = dynamic_cast<const faiss::IndexIVFRaBitQ*>(ivf)) {
      auto own = std::make_unique<faiss::IVFRaBitQSearchParameters>();
      own->qb = spec.qb >= 0 ? uint8_t(spec.qb) : rabitq->qb;
      params = std::move(own);
    } else {
      FAISS_THROW_IF_NOT_MSG(spec.qb < 0, "qb applies to RaBitQ indexes only");
      params = std::make_unique<faiss::SearchParametersIVF>();
    }
    params->nprobe = spec.nprobe > 0 ? size_t(spec.nprobe) : ivf->nprobe;
    // SearchParametersIVF's own default (0) would override the index's.
    params->max_codes = spec.maxCodes >= 0 ? size_t(spec.maxCodes) : ivf->max_codes;
    params->sel = sel;
    return owned_.emplace_back(std::move(params)).get();
  }
  if (auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(&index)) {
    FAISS_THROW_IF_NOT_MSG(spec.nprobe == 0 && spec.maxCodes < 0 && spec.qb < 0, "nprobe, maxCodes and qb do not apply to an HNSW index");
    auto params = std::make_unique<faiss::SearchParametersHNSW>();
    params->efSearch = spec.efSearch > 0 ? int(spec.efSearch) : hnsw->hnsw.efSearch;
    params->check_relative_distance = hnsw->hnsw.check_relative_distance;
    params->bounded_queue = hnsw->hnsw.search_bounded_queue;
    params->sel = sel;
    return owned_.emplace_back(std::move(params)).get();
  }
  FAISS_THROW_IF_NOT_FMT(spec.kFactor == 0, "kFactor cannot reach an IndexRefine layer through %s", TypeName(typeid(index)).c_str());
  if (auto* rabitq = dynamic_cast<const faiss::IndexRaBitQ*>(&index)) {
    FAISS_THROW_IF_NOT_MSG(spec.nprobe == 0 && spec.maxCodes < 0 && spec.efSearch == 0, "nprobe, maxCodes and efSearch do not apply to IndexRaBitQ");
    auto params = std::make_unique<faiss::RaBitQSearchParameters>();
    params->qb = spec.qb >= 0 ? uint8_t(spec.qb) : rabitq->qb;
    params->sel = sel;
    return owned_.emplace_back(std::move(params)).get();
  }
  FAISS_THROW_IF_NOT_FMT(!SetsLayerParams(spec),
                         "nprobe, maxCodes, efSearch and qb cannot reach an IVF, HNSW or RaBitQ layer through %s", TypeName(typeid(index)).c_str());
  auto params = std::make_unique<faiss::SearchParameters>();
  params->sel = sel;
  return owned_.emplace_back(std::move(params)).get();
}

void RangeSearchWith(const faiss::Index& index, faiss::idx_t n, const float* x, float radius, faiss::RangeSearchResult* result,
                     const faiss::SearchParameters* params) {
  auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(&index);
  if (idmap == nullptr || params == nullptr) {
    index.range_search(n, x, radius, result, params);
    return;
  }
  // As IndexIDMap::search does: the selector sees user ids through the id map. The parameters
  // are this call's own, so changing their selector for the call is safe.
  auto* mine = const_cast<faiss::SearchParameters*>(params);
  faiss::IDSelector* sel = mine->sel;
  faiss::IDSelectorTranslated translated(idmap->id_map, sel);
  if (sel != nullptr) mine->sel = &translated;
  try {
    RangeSearchWith(*idmap->index, n, x, radius, result, params);
  } catch (...) {
    mine->sel = sel;
    throw;
  }
  mine->sel = sel;
  for (size_t i = 0; i < result->lims[result->nq]; i++) {
    if (result->labels[i] >= 0) result->labels[i] = idmap->id_map[size_t(result->labels[i])];
  }
}

}  // namespace faiss_native

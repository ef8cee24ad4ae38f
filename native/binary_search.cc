// Binary searches: per-call nprobe and efSearch, filters, IDMaps (see binary_search.h).
#include "binary_search.h"

#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryHNSW.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/FaissAssert.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/ResultHandler.h>
#include <faiss/utils/Heap.h>
#include <faiss/utils/hamming.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

namespace faiss_native {

namespace {

using faiss::idx_t;
using Heap = faiss::CMax<int32_t, idx_t>;  // the k nearest so far, farthest on top

// Below this share allowed, or this many allowed codes, a filtered HNSW search scores every
// allowed code: a walk meets too few of them (the float HNSW's walk kept recall@10 0.58 at 5%
// allowed, scripts/bench/filtered-hnsw.mjs), and 64k Hamming distances cost about what a walk does.
constexpr double kExactShare = 0.05;
constexpr size_t kExactCodes = 65536;

// The k nearest of `rows` (positions into codes) for each query, by brute force.
void ExactRows(const uint8_t* codes, size_t codeSize, const std::vector<idx_t>& rows, idx_t n, const uint8_t* x, idx_t k, int32_t* distances,
               idx_t* labels) {
#pragma omp parallel for if (n > 1)
  for (idx_t i = 0; i < n; i++) {
    int32_t* d = distances + i * k;
    idx_t* l = labels + i * k;
    faiss::heap_heapify<Heap>(k, d, l);
    faiss::HammingComputerDefault hc(x + i * codeSize, int(codeSize));
    for (const idx_t row : rows) {
      const int32_t dis = hc.hamming(codes + row * codeSize);
      if (dis < d[0]) faiss::heap_replace_top<Heap>(k, d, l, dis, row);
    }
    faiss::heap_reorder<Heap>(k, d, l);
  }
}

FilterPlan SearchIvf(const faiss::IndexBinaryIVF& ivf, idx_t n, const uint8_t* x, idx_t k, int32_t* distances, idx_t* labels, size_t nprobe,
                     size_t maxCodes, const faiss::IDSelector* sel) {
  nprobe = std::min(nprobe, ivf.nlist);
  FAISS_THROW_IF_NOT_MSG(nprobe > 0, "nprobe must be at least 1");
  if (sel == nullptr) {
    std::vector<idx_t> lists(size_t(n) * nprobe);
    std::vector<int32_t> coarse(size_t(n) * nprobe);
    ivf.quantizer->search(n, x, idx_t(nprobe), coarse.data(), lists.data());
    faiss::IVFSearchParameters params;
    params.nprobe = nprobe;
    params.max_codes = maxCodes;
    ivf.search_preassigned(n, x, k, lists.data(), coarse.data(), distances, labels, false, &params);
    return FilterPlan::kNone;
  }
  const faiss::InvertedLists& invlists = *ivf.invlists;
  const size_t codeSize = ivf.code_size;
  const idx_t nlist = idx_t(ivf.nlist);
#pragma omp parallel for if (n > 1)
  for (idx_t i = 0; i < n; i++) {
    const uint8_t* q = x + i * codeSize;
    std::vector<idx_t> order(nlist);
    std::vector<int32_t> coarse(nlist);
    ivf.quantizer->search(1, q, nlist, coarse.data(), order.data());
    // What an unfiltered search would meet: the codes of the nprobe nearest lists.
    size_t target = 0;
    for (size_t j = 0; j < nprobe && order[j] >= 0; j++) target += invlists.list_size(order[j]);
    int32_t* d = distances + i * k;
    idx_t* l = labels + i * k;
    faiss::heap_heapify<Heap>(k, d, l);
    faiss::HammingComputerDefault hc(q, int(codeSize));
    size_t met = 0;
    for (idx_t j = 0; j < nlist && order[j] >= 0 && (size_t(j) < nprobe || met < target); j++) {
      const size_t size = invlists.list_size(order[j]);
      if (size == 0) continue;
      faiss::InvertedLists::ScopedCodes codes(&invlists, order[j]);
      faiss::InvertedLists::ScopedIds ids(&invlists, order[j]);
      for (size_t o = 0; o < size; o++) {
        if (!sel->is_member(ids[o])) continue;
        met++;
        const int32_t dis = hc.hamming(codes.get() + o * codeSize);
        if (dis < d[0]) faiss::heap_replace_top<Heap>(k, d, l, dis, ids[o]);
      }
    }
    faiss::heap_reorder<Heap>(k, d, l);
  }
  return FilterPlan::kWidened;
}

FilterPlan SearchHnsw(const faiss::IndexBinaryHNSW& index, idx_t n, const uint8_t* x, idx_t k, int32_t* distances, idx_t* labels, int efSearch,
                      const faiss::IDSelector* sel) {
  auto* storage = dynamic_cast<const faiss::IndexBinaryFlat*>(index.storage);
  FAISS_THROW_IF_NOT_MSG(storage != nullptr, "binary HNSW index whose storage is not IndexBinaryFlat");
  FilterPlan plan = FilterPlan::kNone;
  faiss::SearchParametersHNSW params;
  params.efSearch = efSearch;
  if (sel != nullptr) {
    std::vector<idx_t> allowed;
    for (idx_t i = 0; i < index.ntotal; i++) {
      if (sel->is_member(i)) allowed.push_back(i);
    }
    const double share = index.ntotal > 0 ? double(allowed.size()) / double(index.ntotal) : 0;
    if (share < kExactShare || allowed.size() <= kExactCodes) {
      ExactRows(storage->xb.data(), storage->code_size, allowed, n, x, k, distances, labels);
      return FilterPlan::kExact;
    }
    params.sel = const_cast<faiss::IDSelector*>(sel);  // FAISS's field is not const; it only reads
    params.efSearch = int(std::min(double(index.ntotal), std::max(efSearch, int(k)) / std::sqrt(share)));
    plan = FilterPlan::kWidened;
  }
  // As IndexBinaryHNSW::search, with the parameters it refuses: distances as floats, then whole.
  std::vector<float> scores(size_t(n) * size_t(k));
  using Handler = faiss::HeapBlockResultHandler<faiss::HNSW::C>;
  Handler block(size_t(n), scores.data(), labels, size_t(k));
#pragma omp parallel if (n > 1)
  {
    faiss::VisitedTable visited(index.ntotal);
    std::unique_ptr<faiss::DistanceComputer> dis(index.get_distance_computer());
    Handler::SingleResultHandler result(block);
#pragma omp for
    for (idx_t i = 0; i < n; i++) {
      result.begin(i);
      dis->set_query(reinterpret_cast<const float*>(x + i * index.code_size));
      index.hnsw.search(*dis, result, visited, &params);
      result.end();
    }
  }
  for (size_t j = 0; j < scores.size(); j++) distances[j] = labels[j] < 0 ? std::numeric_limits<int32_t>::max() : int32_t(std::lround(scores[j]));
  return plan;
}

}  // namespace

FilterPlan SearchBinary(const faiss::IndexBinary& index, idx_t n, const uint8_t* x, idx_t k, int32_t* distances, idx_t* labels,
                        const SearchSpec* spec) {
  const FilterSelector selector(spec != nullptr ? spec->filter : FilterArg{});
  const faiss::IDSelector* sel = selector.get();
  // An IDMap's sub-index searches positions: the filter sees them as the ids they stand for,
  // and the results are given those ids.
  const auto* idmap = dynamic_cast<const faiss::IndexBinaryIDMap*>(&index);
  const faiss::IndexBinary& inner = idmap != nullptr ? *idmap->index : index;
  std::unique_ptr<faiss::IDSelectorTranslated> translated;
  if (idmap != nullptr && sel != nullptr) {
    translated = std::make_unique<faiss::IDSelectorTranslated>(idmap->id_map, sel);
    sel = translated.get();
  }
  FilterPlan plan = FilterPlan::kNone;
  if (auto* ivf = dynamic_cast<const faiss::IndexBinaryIVF*>(&inner)) {
    const size_t nprobe = spec != nullptr && spec->nprobe > 0 ? size_t(spec->nprobe) : ivf->nprobe;
    const size_t maxCodes = spec != nullptr && spec->maxCodes >= 0 ? size_t(spec->maxCodes) : ivf->max_codes;
    plan = SearchIvf(*ivf, n, x, k, distances, labels, nprobe, maxCodes, sel);
  } else if (auto* hnsw = dynamic_cast<const faiss::IndexBinaryHNSW*>(&inner)) {
    plan = SearchHnsw(*hnsw, n, x, k, distances, labels, spec != nullptr && spec->efSearch > 0 ? int(spec->efSearch) : hnsw->hnsw.efSearch, sel);
  } else {
    faiss::SearchParameters params;
    params.sel = const_cast<faiss::IDSelector*>(sel);
    inner.search(n, x, k, distances, labels, sel != nullptr ? &params : nullptr);
    if (sel != nullptr) plan = FilterPlan::kIndex;
  }
  if (idmap != nullptr) {
    for (idx_t j = 0; j < n * k; j++) {
      if (labels[j] >= 0) labels[j] = idmap->id_map[size_t(labels[j])];
    }
  }
  return plan;
}

}  // namespace faiss_native

#include "filtered_flat.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/utils/Heap.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "index_handle.h"

namespace faiss_native {

namespace {

constexpr size_t kMaxGatheredBytes = size_t(256) << 20;
// HNSW takes the exact plan up to this share of allowed ids (1 / 20 = 5%).
// scripts/bench/filtered-hnsw.mjs (20k clustered vectors, d = 64, HNSW16, efSearch 64, one
// query at a time): the filtered walk's recall@10 was 0.069, 0.301 and 0.576 at 0.1%, 1% and
// 5% allowed (0.927 at 20%); the exact plan's is 1.0, at 0.16-0.20x, 0.27-0.33x and 0.59-0.77x
// the unfiltered walk's time (three runs, the allowed ids given as a set).
constexpr faiss::idx_t kHnswExactShare = 20;
std::atomic<uint64_t> allowedRowSearches{0};

// The allowed positions, ascending. Without an IDMap, straight from a range, a bitmap (a set of
// dense ids is one too: search_params.cc; eight ids a byte) or a set (its ids, sorted);
// otherwise the selector is asked about every id.
std::vector<faiss::idx_t> AllowedRows(const faiss::IDSelector& sel, faiss::idx_t ntotal, const faiss::idx_t* ids) {
  std::vector<faiss::idx_t> rows;
  if (ids == nullptr) {
    if (const auto* range = dynamic_cast<const faiss::IDSelectorRange*>(&sel)) {
      for (faiss::idx_t i = std::max<faiss::idx_t>(range->imin, 0); i < std::min(range->imax, ntotal); i++) rows.push_back(i);
      return rows;
    }
    if (const auto* bitmap = dynamic_cast<const faiss::IDSelectorBitmap*>(&sel)) {
      const size_t bytes = std::min(bitmap->n, size_t(ntotal + 7) / 8);
      for (size_t b = 0; b < bytes; b++) {
        for (unsigned bits = bitmap->bitmap[b]; bits != 0; bits &= bits - 1) {
          const auto i = faiss::idx_t(b * 8 + size_t(__builtin_ctz(bits)));
          if (i < ntotal) rows.push_back(i);
        }
      }
      return rows;
    }
    if (const auto* batch = dynamic_cast<const faiss::IDSelectorBatch*>(&sel)) {
      for (const faiss::idx_t id : batch->set) {
        if (id >= 0 && id < ntotal) rows.push_back(id);
      }
      std::sort(rows.begin(), rows.end());
      return rows;
    }
  }
  for (faiss::idx_t i = 0; i < ntotal; i++) {
    if (sel.is_member(ids != nullptr ? ids[i] : i)) rows.push_back(i);
  }
  return rows;
}

// Labels from positions in `rows` to the index's ids (the user's under an IDMap).
void MapLabels(const std::vector<faiss::idx_t>& rows, const faiss::idx_t* ids, size_t count, faiss::idx_t* labels) {
  for (size_t i = 0; i < count; i++) {
    if (labels[i] < 0) continue;
    const faiss::idx_t row = rows[size_t(labels[i])];
    labels[i] = ids != nullptr ? ids[row] : row;
  }
}

// Fewer queries than FAISS's BLAS threshold: each query's distances to the rows where they lie,
// into a heap, as FAISS's sequential exhaustive search does (same distance function, same
// order, same heap rules, so the same results as on gathered rows), without copying the rows:
// a copy of 5% of 100k x 128 cost 16x the HNSW walk it replaced (page faults on each call).
template <class C, float (*Distance)(const float*, const float*, size_t)>
void SearchRowsInPlace(const float* xb, size_t d, const std::vector<faiss::idx_t>& rows, faiss::idx_t n, const float* x,
                       faiss::idx_t k, float* distances, faiss::idx_t* labels) {
#pragma omp parallel for if (n > 1)
  for (faiss::idx_t i = 0; i < n; i++) {
    float* heapDistances = distances + i * k;
    faiss::idx_t* heapLabels = labels + i * k;
    faiss::heap_heapify<C>(size_t(k), heapDistances, heapLabels);
    const float* query = x + size_t(i) * d;
    for (size_t j = 0; j < rows.size(); j++) {
      const float dis = Distance(query, xb + size_t(rows[j]) * d, d);
      if (C::cmp(heapDistances[0], dis)) faiss::heap_replace_top<C>(size_t(k), heapDistances, heapLabels, dis, faiss::idx_t(j));
    }
    faiss::heap_reorder<C>(size_t(k), heapDistances, heapLabels);
  }
}

}  // namespace

bool SearchAllowedRows(const faiss::Index& index, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances,
                       faiss::idx_t* labels, const faiss::SearchParameters* params) {
  const faiss::IDSelector* sel = params != nullptr ? params->sel : nullptr;
  if (sel == nullptr) return false;
  // Under an IDMap the selector names the user's ids (SearchParams passes it on unchanged).
  const auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(&index);
  const faiss::Index& inner = idmap != nullptr ? *idmap->index : index;
  const auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(&inner);
  const faiss::Index* storage = hnsw != nullptr ? hnsw->storage : &inner;
  if (storage == nullptr || !IsPlainFlat(*storage) || storage->ntotal != inner.ntotal ||
      (storage->metric_type != faiss::METRIC_INNER_PRODUCT && storage->metric_type != faiss::METRIC_L2)) {
    return false;
  }
  if (hnsw == nullptr && n < faiss::distance_compute_blas_threshold) return false;
  const auto& flat = static_cast<const faiss::IndexFlat&>(*storage);
  const size_t d = size_t(flat.d);
  const faiss::idx_t* ids = idmap != nullptr ? idmap->id_map.data() : nullptr;

  const std::vector<faiss::idx_t> rows = AllowedRows(*sel, flat.ntotal, ids);
  const size_t m = rows.size();
  if (hnsw != nullptr && faiss::idx_t(m) * kHnswExactShare > flat.ntotal) return false;
  // No rows: the in-place path leaves the heaps empty, as FAISS does (BLAS is never called with
  // no rows: OpenBLAS exits the process on a zero size).
  if (n < faiss::distance_compute_blas_threshold || m == 0) {
    if (flat.metric_type == faiss::METRIC_INNER_PRODUCT) {
      SearchRowsInPlace<faiss::CMin<float, faiss::idx_t>, faiss::fvec_inner_product>(flat.get_xb(), d, rows, n, x, k, distances, labels);
    } else {
      SearchRowsInPlace<faiss::CMax<float, faiss::idx_t>, faiss::fvec_L2sqr>(flat.get_xb(), d, rows, n, x, k, distances, labels);
    }
    MapLabels(rows, ids, size_t(n) * size_t(k), labels);
    allowedRowSearches++;
    return true;
  }
  // One run of rows is searched where it lies; otherwise the rows are copied together.
  const bool contiguous = rows.back() - rows.front() + 1 == faiss::idx_t(m);
  if (!contiguous && m * d * sizeof(float) > kMaxGatheredBytes) return false;
  std::vector<float> gathered;
  const float* y = flat.get_xb();
  if (contiguous) {
    y += size_t(rows.front()) * d;
  } else {
    gathered.resize(m * d);
    for (size_t j = 0; j < m; j++) std::memcpy(gathered.data() + j * d, y + size_t(rows[j]) * d, d * sizeof(float));
    y = gathered.data();
  }
  // As IndexFlat::search on a flat index holding just these rows.
  if (flat.metric_type == faiss::METRIC_INNER_PRODUCT) {
    faiss::float_minheap_array_t res = {size_t(n), size_t(k), labels, distances};
    faiss::knn_inner_product(x, y, d, size_t(n), m, &res);
  } else {
    faiss::float_maxheap_array_t res = {size_t(n), size_t(k), labels, distances};
    faiss::knn_L2sqr(x, y, d, size_t(n), m, &res);
  }
  MapLabels(rows, ids, size_t(n) * size_t(k), labels);
  allowedRowSearches++;
  return true;
}

uint64_t AllowedRowSearches() { return allowedRowSearches.load(); }

}  // namespace faiss_native

#include "flat_search.h"

#include <faiss/IndexFlat.h>
#include <faiss/impl/ResultHandler.h>
#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <typeinfo>
#include <vector>

#include "threads.h"

namespace faiss_native {

namespace {

constexpr size_t kBlock = 8192;                 // database vectors a round; threads split each round
constexpr size_t kMinFloats = size_t(1) << 20;  // 4 MB: below it, waking threads costs more than it saves
std::atomic<uint64_t> splitSearches{0};

// Rounds of kBlock database vectors: threads compute the round's distances for every query
// (each vector read once), then each query's handler takes its row in id order, exactly as
// FAISS's exhaustive_*_seq feeds it.
template <class BlockHandler, class Distance>
void Scan(const faiss::IndexFlat& flat, faiss::idx_t n, const float* x, BlockHandler& res, int threads, Distance distance) {
  using Single = typename BlockHandler::SingleResultHandler;
  std::vector<std::unique_ptr<Single>> singles;
  for (faiss::idx_t i = 0; i < n; i++) {
    singles.push_back(std::make_unique<Single>(res));
    singles.back()->begin(size_t(i));
  }
  const size_t d = size_t(flat.d);
  const size_t ntotal = size_t(flat.ntotal);
  const float* xb = flat.get_xb();
  std::vector<float> round(size_t(n) * kBlock);
  for (size_t j0 = 0; j0 < ntotal; j0 += kBlock) {
    const int64_t nb = int64_t(std::min(kBlock, ntotal - j0));
#pragma omp parallel num_threads(threads)
    {
#pragma omp for schedule(static)
      for (int64_t j = 0; j < nb; j++) {
        const float* y = xb + (j0 + size_t(j)) * d;
        for (faiss::idx_t i = 0; i < n; i++) round[size_t(i) * kBlock + size_t(j)] = distance(x + size_t(i) * d, y, d);
      }
#pragma omp for schedule(static)
      for (faiss::idx_t i = 0; i < n; i++) {
        const float* row = round.data() + size_t(i) * kBlock;
        for (int64_t j = 0; j < nb; j++) singles[size_t(i)]->add_result(row[j], faiss::idx_t(j0 + size_t(j)));
      }
    }
  }
  for (auto& single : singles) single->end();
}

template <class C, class Distance>
void ScanWith(const faiss::IndexFlat& flat, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels,
              int threads, Distance distance) {
  // FAISS's choice of handler for k (dispatch_knn_ResultHandler).
  if (k == 1) {
    faiss::Top1BlockResultHandler<C, false> res(size_t(n), distances, labels);
    Scan(flat, n, x, res, threads, distance);
  } else {
    faiss::HeapBlockResultHandler<C, false> res(size_t(n), distances, labels, size_t(k));
    Scan(flat, n, x, res, threads, distance);
  }
}

}  // namespace

bool SearchFlatOnAllThreads(const faiss::Index& index, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances,
                            faiss::idx_t* labels) {
  const std::type_info& type = typeid(index);
  if (type != typeid(faiss::IndexFlat) && type != typeid(faiss::IndexFlatIP) && type != typeid(faiss::IndexFlatL2)) return false;
  if (index.metric_type != faiss::METRIC_INNER_PRODUCT && index.metric_type != faiss::METRIC_L2) return false;
  if (n < 1 || n >= faiss::distance_compute_blas_threshold || k >= faiss::distance_compute_min_k_reservoir) return false;
  if (size_t(index.ntotal) * size_t(index.d) < kMinFloats) return false;
  const int threads = omp_get_max_threads();
  if (threads < 2) return false;
  // Batches hold the gate already (RunQueries); one query takes every thread only when no
  // batch or add holds them, and otherwise scans on its own thread.
  std::unique_lock<std::mutex> parallel;
  if (n == 1) {
    parallel = TryParallelSection();
    if (!parallel.owns_lock()) return false;
  }
  const auto& flat = static_cast<const faiss::IndexFlat&>(index);
  if (index.metric_type == faiss::METRIC_INNER_PRODUCT) {
    ScanWith<faiss::CMin<float, faiss::idx_t>>(flat, n, x, k, distances, labels, threads, faiss::fvec_inner_product);
  } else {
    ScanWith<faiss::CMax<float, faiss::idx_t>>(flat, n, x, k, distances, labels, threads, faiss::fvec_L2sqr);
  }
  splitSearches++;
  return true;
}

uint64_t FlatSplitSearches() { return splitSearches.load(); }

}  // namespace faiss_native

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

constexpr size_t kBlock = 16384;                // database vectors a round; threads split each round
constexpr size_t kMinFloats = size_t(1) << 20;  // 4 MB: below it, waking threads costs more than it saves
std::atomic<uint64_t> splitSearches{0};

// Rounds of kBlock vectors: threads compute the round's distances, then the query's handler
// takes them in id order, exactly as FAISS's exhaustive_*_seq feeds it.
template <class BlockHandler, class Distance>
void Scan(const faiss::IndexFlat& flat, const float* query, BlockHandler& res, int threads, Distance distance) {
  typename BlockHandler::SingleResultHandler single(res);
  single.begin(0);
  const size_t d = size_t(flat.d);
  const size_t ntotal = size_t(flat.ntotal);
  const float* xb = flat.get_xb();
  std::vector<float> round(std::min(kBlock, ntotal));
  for (size_t j0 = 0; j0 < ntotal; j0 += kBlock) {
    const int64_t nb = int64_t(std::min(kBlock, ntotal - j0));
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t j = 0; j < nb; j++) round[j] = distance(query, xb + (j0 + size_t(j)) * d, d);
    for (int64_t j = 0; j < nb; j++) single.add_result(round[j], faiss::idx_t(j0 + size_t(j)));
  }
  single.end();
}

template <class C, class Distance>
void ScanWith(const faiss::IndexFlat& flat, const float* query, faiss::idx_t k, float* distances, faiss::idx_t* labels, int threads,
              Distance distance) {
  // FAISS's choice of handler for k (dispatch_knn_ResultHandler).
  if (k == 1) {
    faiss::Top1BlockResultHandler<C, false> res(1, distances, labels);
    Scan(flat, query, res, threads, distance);
  } else {
    faiss::HeapBlockResultHandler<C, false> res(1, distances, labels, size_t(k));
    Scan(flat, query, res, threads, distance);
  }
}

}  // namespace

bool SearchFlatOnAllThreads(const faiss::Index& index, const float* query, faiss::idx_t k, float* distances, faiss::idx_t* labels) {
  const std::type_info& type = typeid(index);
  if (type != typeid(faiss::IndexFlat) && type != typeid(faiss::IndexFlatIP) && type != typeid(faiss::IndexFlatL2)) return false;
  if (index.metric_type != faiss::METRIC_INNER_PRODUCT && index.metric_type != faiss::METRIC_L2) return false;
  if (k >= faiss::distance_compute_min_k_reservoir || size_t(index.ntotal) * size_t(index.d) < kMinFloats) return false;
  const int threads = omp_get_max_threads();
  if (threads < 2) return false;
  // Take every thread only when no batch or add holds them; otherwise scan on this one.
  std::unique_lock<std::mutex> parallel = TryParallelSection();
  if (!parallel.owns_lock()) return false;
  const auto& flat = static_cast<const faiss::IndexFlat&>(index);
  if (index.metric_type == faiss::METRIC_INNER_PRODUCT) {
    ScanWith<faiss::CMin<float, faiss::idx_t>>(flat, query, k, distances, labels, threads, faiss::fvec_inner_product);
  } else {
    ScanWith<faiss::CMax<float, faiss::idx_t>>(flat, query, k, distances, labels, threads, faiss::fvec_L2sqr);
  }
  splitSearches++;
  return true;
}

uint64_t FlatSplitSearches() { return splitSearches.load(); }

}  // namespace faiss_native

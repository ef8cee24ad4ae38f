#include "split_search.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/ResultHandler.h>
#include <faiss/invlists/InvertedLists.h>
#include <faiss/utils/Heap.h>
#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <exception>
#include <memory>
#include <typeinfo>
#include <vector>

#include "flat_kernel.h"
#include "index_handle.h"
#include "ivf_sq_scan.h"
#include "threads.h"

namespace faiss_native {

namespace {

constexpr size_t kBlock = 8192;                 // database vectors a round; threads split each round
// An IVF search holds the threads already: its coarse search splits from 1 MB of centroids.
constexpr size_t kMinQuantizerFloats = size_t(1) << 18;
std::atomic<uint64_t> flatSplits{0};
std::atomic<uint64_t> ivfSplits{0};

// ---- flat ----

bool FlatApplies(const faiss::Index& index, faiss::idx_t n, faiss::idx_t k, size_t minFloats = kMinFlatSplitFloats) {
  if (!IsPlainFlat(index)) return false;
  if (index.metric_type != faiss::METRIC_INNER_PRODUCT && index.metric_type != faiss::METRIC_L2) return false;
  if (n < 1 || n >= faiss::distance_compute_blas_threshold || k >= faiss::distance_compute_min_k_reservoir) return false;
  return size_t(index.ntotal) * size_t(index.d) >= minFloats;
}

// Rounds of kBlock database vectors: threads compute the round's distances for every query
// (each vector read once), then each query's handler takes its row in id order, exactly as
// FAISS's exhaustive_*_seq feeds it.
template <class BlockHandler, class Distance>
void FlatScan(const faiss::IndexFlat& flat, faiss::idx_t n, const float* x, BlockHandler& res, int threads, Distance distance) {
  const Distances4 four = FlatKernel(flat.metric_type, size_t(flat.d));
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
      // Four vectors a step: with the four-at-a-time kernel (FAISS's bits, flat_kernel.h) where
      // it applies, FAISS's distance function one at a time otherwise and for a short last step.
#pragma omp for schedule(static)
      for (int64_t j = 0; j < nb; j += 4) {
        const float* y = xb + (j0 + size_t(j)) * d;
        const float* rows[8];  // these four, then the next four (fetched on the first query's pass)
        for (size_t t = 0; t < 8; t++) rows[t] = y + t * d;
        for (faiss::idx_t i = 0; i < n; i++) {
          float* out = round.data() + size_t(i) * kBlock + size_t(j);
          if (four != nullptr && j + 4 <= nb) {
            four(x + size_t(i) * d, rows, d, out, i == 0 ? rows + 4 : nullptr);
          } else {
            for (int64_t t = 0; t < std::min<int64_t>(4, nb - j); t++) out[t] = distance(x + size_t(i) * d, y + size_t(t) * d, d);
          }
        }
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
void FlatScanWith(const faiss::IndexFlat& flat, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels,
                  int threads, Distance distance) {
  // FAISS's choice of handler for k (dispatch_knn_ResultHandler).
  if (k == 1) {
    faiss::Top1BlockResultHandler<C, false> res(size_t(n), distances, labels);
    FlatScan(flat, n, x, res, threads, distance);
  } else {
    faiss::HeapBlockResultHandler<C, false> res(size_t(n), distances, labels, size_t(k));
    FlatScan(flat, n, x, res, threads, distance);
  }
}

void SearchFlat(const faiss::Index& index, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels,
                int threads) {
  const auto& flat = static_cast<const faiss::IndexFlat&>(index);
  if (index.metric_type == faiss::METRIC_INNER_PRODUCT) {
    FlatScanWith<faiss::CMin<float, faiss::idx_t>>(flat, n, x, k, distances, labels, threads, faiss::fvec_inner_product);
  } else {
    FlatScanWith<faiss::CMax<float, faiss::idx_t>>(flat, n, x, k, distances, labels, threads, faiss::fvec_L2sqr);
  }
}

// ---- IVF ----

// Whether the probed lists hold enough codes (on average) for their scan to split.
bool ScanSplits(const faiss::IndexIVF& ivf, size_t nprobe) {
  return nprobe >= 2 && size_t(ivf.ntotal) * size_t(ivf.d) * nprobe / ivf.nlist >= kMinIvfSplitWork;
}

// The nprobe of an IVF-SQ search this file can run (its coarse search, its scan or both split),
// or 0.
size_t IvfProbes(const faiss::Index& index, faiss::idx_t n, int threads, const faiss::SearchParameters* params_in) {
  if (typeid(index) != typeid(faiss::IndexIVFScalarQuantizer) || n < 1 || n >= threads) return 0;
  const auto& ivf = static_cast<const faiss::IndexIVF&>(index);
  if (!DefaultIvfSearch(ivf, params_in)) return 0;
  const auto* params = static_cast<const faiss::SearchParametersIVF*>(params_in);
  const size_t nprobe = std::min(ivf.nlist, params ? params->nprobe : ivf.nprobe);
  if (!FlatApplies(*ivf.quantizer, n, faiss::idx_t(nprobe), kMinQuantizerFloats) && !ScanSplits(ivf, nprobe)) return 0;
  return nprobe;
}

// One query: threads take the probed lists (each with its own scanner) and store every code's
// distance; then the codes enter the heap in probe order with scan_codes's own comparison.
template <class C>
void IvfQuery(const faiss::IndexIVF& ivf, const float* x, faiss::idx_t k, const faiss::idx_t* keys, const float* coarse,
              size_t nprobe, float* simi, faiss::idx_t* idxi, const faiss::IVFSearchParameters* params, int threads) {
  const faiss::InvertedLists& lists = *ivf.invlists;
  std::vector<size_t> offsets(nprobe + 1, 0);
  for (size_t p = 0; p < nprobe; p++) {
    const faiss::idx_t key = keys[p];
    FAISS_THROW_IF_NOT_FMT(key < faiss::idx_t(ivf.nlist), "Invalid key=%" PRId64 " nlist=%zd\n", key, ivf.nlist);
    offsets[p + 1] = offsets[p] + (key < 0 ? 0 : lists.list_size(size_t(key)));
  }
  std::vector<float> dis(offsets[nprobe]);
  std::exception_ptr error;
#pragma omp parallel num_threads(threads)
  {
    try {
      std::unique_ptr<faiss::InvertedListScanner> scanner = IvfScanner(ivf, params);
      scanner->set_query(x);
      const CodeScorer score(*scanner);
#pragma omp for schedule(dynamic)
      for (size_t p = 0; p < nprobe; p++) {
        if (offsets[p + 1] == offsets[p]) continue;
        scanner->set_list(keys[p], coarse[p]);
        faiss::InvertedLists::ScopedCodes codes(&lists, size_t(keys[p]));
        score(offsets[p + 1] - offsets[p], codes.get(), dis.data() + offsets[p]);
      }
    } catch (...) {
#pragma omp critical
      error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  faiss::heap_heapify<C>(size_t(k), simi, idxi);
  for (size_t p = 0; p < nprobe; p++) {
    if (offsets[p + 1] == offsets[p]) continue;
    faiss::InvertedLists::ScopedIds ids(&lists, size_t(keys[p]));
    for (size_t j = offsets[p]; j < offsets[p + 1]; j++) {
      if (C::cmp(simi[0], dis[j])) faiss::heap_replace_top<C>(size_t(k), simi, idxi, dis[j], ids[j - offsets[p]]);
    }
  }
  faiss::heap_reorder<C>(size_t(k), simi, idxi);
}

// IndexIVF::search for queries fewer than the threads: the coarse search (split too when the
// quantizer is a large enough flat index), then each query's lists on every thread.
void SearchIvf(const faiss::Index& index, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels,
               const faiss::SearchParameters* params, size_t nprobe, int threads) {
  const auto& ivf = static_cast<const faiss::IndexIVF&>(index);
  const auto* ivfParams = static_cast<const faiss::SearchParametersIVF*>(params);
  std::vector<faiss::idx_t> keys(size_t(n) * nprobe);
  std::vector<float> coarse(size_t(n) * nprobe);
  if (FlatApplies(*ivf.quantizer, n, faiss::idx_t(nprobe), kMinQuantizerFloats)) {
    SearchFlat(*ivf.quantizer, n, x, faiss::idx_t(nprobe), coarse.data(), keys.data(), threads);
  } else {
    ivf.quantizer->search(n, x, faiss::idx_t(nprobe), coarse.data(), keys.data());
  }
  if (!ScanSplits(ivf, nprobe)) threads = 1;
  for (faiss::idx_t i = 0; i < n; i++) {
    const size_t at = size_t(i) * nprobe;
    float* simi = distances + i * k;
    faiss::idx_t* idxi = labels + i * k;
    if (index.metric_type == faiss::METRIC_INNER_PRODUCT) {
      IvfQuery<faiss::CMin<float, faiss::idx_t>>(ivf, x + i * ivf.d, k, keys.data() + at, coarse.data() + at, nprobe, simi, idxi, ivfParams, threads);
    } else {
      IvfQuery<faiss::CMax<float, faiss::idx_t>>(ivf, x + i * ivf.d, k, keys.data() + at, coarse.data() + at, nprobe, simi, idxi, ivfParams, threads);
    }
  }
}

}  // namespace

bool SearchOnAllThreads(const faiss::Index& index, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels,
                        const faiss::SearchParameters* params) {
  const int threads = omp_get_max_threads();
  if (threads < 2) return false;
  const bool flat = params == nullptr && FlatApplies(index, n, k);
  const size_t nprobe = flat ? 0 : IvfProbes(index, n, threads, params);
  if (!flat && nprobe == 0) return false;
  // Batches hold the gate already (RunQueries); one query takes every thread only when no
  // batch or add holds them, and otherwise runs on its own thread.
  std::unique_lock<std::mutex> parallel;
  if (n == 1) {
    parallel = TryParallelSection();
    if (!parallel.owns_lock()) return false;
  }
  if (flat) {
    SearchFlat(index, n, x, k, distances, labels, threads);
    flatSplits++;
  } else {
    SearchIvf(index, n, x, k, distances, labels, params, nprobe, threads);
    ivfSplits++;
  }
  return true;
}

uint64_t FlatSplitSearches() { return flatSplits.load(); }
uint64_t IvfSplitSearches() { return ivfSplits.load(); }

}  // namespace faiss_native

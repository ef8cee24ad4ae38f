// IVF-SQ list scans with FAISS's own arithmetic, four codes at a time.
//
// FAISS's AVX2 scanner (DCTemplate<..., 8> in faiss/impl/ScalarQuantizer.cpp) computes a code's
// distance as one chain of fused multiply-adds, 8 dimensions a link; each link waits for the
// one before, so a scan runs at the FMA latency, not its throughput. This scanner runs the very
// same operations, in the same order, on four codes side by side: every distance is bit for bit
// FAISS's (test/ivf-sq-scan.spec.ts) and the four chains overlap (scripts/bench/ivf-sq-scan.mjs
// measures the gain).
//
// It stands in for FAISS's scanner only where FAISS would have picked that 8-wide scanner: the
// AVX2 build of FAISS, d a multiple of 8, an 8- or 4-bit or fp16 quantizer, L2 or inner product.
// Elsewhere FAISS's own scanner runs: the generic and AVX-512 builds, arm64, bf16 and direct
// codes, and 6-bit codes, whose decoding (not the chain) bounds the scan, so that four at a time
// ran slower.
#pragma once

#include <faiss/Index.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/AuxIndexStructures.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace faiss_native {

// This scanner for the index where it applies (see above), FAISS's otherwise. `params` as
// IndexIVF::get_InvertedListScanner takes them (no selector, no stored pairs).
std::unique_ptr<faiss::InvertedListScanner> IvfScanner(const faiss::IndexIVF& ivf, const faiss::IVFSearchParameters* params);

class BulkScanner;  // this file's scanners

// The distances (as scan_codes compares them) of codes to a scanner's query and list: four at a
// time with this file's scanner, one distance_to_code each with FAISS's. Made once per scanner
// (finding which it is costs about as much as scoring a code); follows its set_list.
class CodeScorer {
 public:
  explicit CodeScorer(const faiss::InvertedListScanner& scanner);
  void operator()(size_t n, const uint8_t* codes, float* out) const;         // n consecutive codes
  void operator()(size_t n, const uint8_t* const* codes, float* out) const;  // n codes lying anywhere
 private:
  const faiss::InvertedListScanner& scanner_;
  const BulkScanner* bulk_;
};

// Whether a search of this IVF with these parameters is FAISS's default one: no selector, no
// quantizer parameters or list context, no max_codes, parallel_mode 0, lists without iterators.
// FAISS's IndexIVF::search then runs one slice of the queries per thread, as the paths here do.
bool DefaultIvfSearch(const faiss::IndexIVF& ivf, const faiss::SearchParameters* params);

// IndexIVF::search on an IndexIVFScalarQuantizer, with this scanner: the same query slices per
// thread, the same coarse search, lists and heaps, so the same results. Returns false having
// done nothing where the scanner does not apply or the search is not FAISS's default one
// (DefaultIvfSearch); the caller runs FAISS's.
bool SearchIvfSq(const faiss::Index& index, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels,
                 const faiss::SearchParameters* params);

// How many scanners of this file were made (for the specs).
uint64_t IvfSqScanners();

}  // namespace faiss_native

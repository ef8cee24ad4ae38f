#include "ivf_sq_scan.h"

#include <faiss/IndexScalarQuantizer.h>
#include <faiss/invlists/InvertedLists.h>
#include <faiss/utils/Heap.h>
#include <faiss/utils/utils.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstring>
#include <exception>
#include <string>
#include <typeinfo>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#define FAISS_NATIVE_SQ_AVX2 1
#include <immintrin.h>
#endif

namespace faiss_native {

// What CodeScorer reaches through, whatever the decoder and metric.
class BulkScanner : public faiss::InvertedListScanner {
 public:
  virtual void Bulk(size_t n, const uint8_t* codes, float* out) const = 0;
  virtual void Gathered(size_t n, const uint8_t* const* codes, float* out) const = 0;
};

namespace {

std::atomic<uint64_t> scanners{0};

#if FAISS_NATIVE_SQ_AVX2
// Only the code up to pop_options is compiled for AVX2. It runs only where FAISS's AVX2 build
// is linked (Applies), which the loader picks on CPUs that have AVX2, FMA and F16C.
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

// ---- FAISS's AVX2 decoding, copied operation for operation (faiss/impl/ScalarQuantizer.cpp:
// Codec*::decode_8_components, QuantizerTemplate<..., 8>, QuantizerFP16<8>) ----

// Each codec also says where dimension i's bits start in a code, and how many dimensions fill
// a cache line (for the prefetches of Distances).
struct Codec8bit {
  static constexpr size_t kLineDims = 64;
  static size_t Byte(size_t i) { return i; }
  static inline __m256 Decode(const uint8_t* code, size_t i) {
    // FAISS loads the 8 bytes as a uint64 and broadcasts them; the zero-extension reads the
    // same low 8 bytes straight from memory, one instruction fewer.
    const __m256i i32 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(code + i)));
    const __m256 f8 = _mm256_cvtepi32_ps(i32);
    return _mm256_fmadd_ps(f8, _mm256_set1_ps(1.f / 255.f), _mm256_set1_ps(0.5f / 255.f));
  }
};

struct Codec4bit {
  static constexpr size_t kLineDims = 128;
  static size_t Byte(size_t i) { return i >> 1; }
  static inline __m256 Decode(const uint8_t* code, size_t i) {
    uint32_t c4;
    std::memcpy(&c4, code + (i >> 1), sizeof c4);
    const uint32_t mask = 0x0f0f0f0f;
    const uint32_t c4ev = c4 & mask;
    const uint32_t c4od = (c4 >> 4) & mask;
    const __m128i c8 = _mm_unpacklo_epi8(_mm_set1_epi32(int(c4ev)), _mm_set1_epi32(int(c4od)));
    const __m128i c4lo = _mm_cvtepu8_epi32(c8);
    const __m128i c4hi = _mm_cvtepu8_epi32(_mm_srli_si128(c8, 4));
    __m256i i8 = _mm256_castsi128_si256(c4lo);
    i8 = _mm256_insertf128_si256(i8, c4hi, 1);
    __m256 f8 = _mm256_cvtepi32_ps(i8);
    f8 = _mm256_add_ps(f8, _mm256_set1_ps(0.5f));
    return _mm256_mul_ps(f8, _mm256_set1_ps(1.f / 15.f));
  }
};

// QuantizerTemplate<Codec, NON_UNIFORM, 8>: a range per dimension (trained = vmin[d], vdiff[d]).
template <class Codec>
struct NonUniform {
  static constexpr size_t kLineDims = Codec::kLineDims;
  static size_t Byte(size_t i) { return Codec::Byte(i); }
  const float* vmin;
  const float* vdiff;
  explicit NonUniform(const faiss::ScalarQuantizer& sq) : vmin(sq.trained.data()), vdiff(sq.trained.data() + sq.d) {}
  inline __m256 operator()(const uint8_t* code, size_t i) const {
    return _mm256_fmadd_ps(Codec::Decode(code, i), _mm256_loadu_ps(vdiff + i), _mm256_loadu_ps(vmin + i));
  }
};

// QuantizerTemplate<Codec, UNIFORM, 8>: one range (trained = vmin, vdiff).
template <class Codec>
struct Uniform {
  static constexpr size_t kLineDims = Codec::kLineDims;
  static size_t Byte(size_t i) { return Codec::Byte(i); }
  float vmin;
  float vdiff;
  explicit Uniform(const faiss::ScalarQuantizer& sq) : vmin(sq.trained[0]), vdiff(sq.trained[1]) {}
  inline __m256 operator()(const uint8_t* code, size_t i) const {
    return _mm256_fmadd_ps(Codec::Decode(code, i), _mm256_set1_ps(vdiff), _mm256_set1_ps(vmin));
  }
};

// QuantizerFP16<8>.
struct Fp16 {
  static constexpr size_t kLineDims = 32;
  static size_t Byte(size_t i) { return 2 * i; }
  explicit Fp16(const faiss::ScalarQuantizer&) {}
  inline __m256 operator()(const uint8_t* code, size_t i) const {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(code + 2 * i)));
  }
};

// SimilarityIP<8>::result_8 / SimilarityL2<8>::result_8.
inline float HorizontalSum(__m256 accu8) {
  const __m128 sum = _mm_add_ps(_mm256_castps256_ps128(accu8), _mm256_extractf128_ps(accu8, 1));
  const __m128 v0 = _mm_shuffle_ps(sum, sum, _MM_SHUFFLE(0, 0, 3, 2));
  const __m128 v1 = _mm_add_ps(sum, v0);
  const __m128 v2 = _mm_shuffle_ps(v1, v1, _MM_SHUFFLE(0, 0, 0, 1));
  const __m128 v3 = _mm_add_ps(v1, v2);
  return _mm_cvtss_f32(v3);
}

// DCTemplate<Quantizer, Similarity, 8>::compute_distance for B codes side by side: each code's
// chain is FAISS's (SimilarityIP<8>: fma(y, x, accu); SimilarityL2<8>: fma(y - x, y - x, accu)).
// Reading B codes at once hides the hardware prefetcher's stream from it (a memory-bound scan
// ran at 0.8x FAISS's speed), so the loop prefetches the next B codes (`next`) as it goes, a
// line at a time.
template <bool kIP, int B, class Decoder>
inline void Distances(const Decoder& decode, const float* y, size_t d, const uint8_t* const* codes, const uint8_t* const* next, float* out) {
  __m256 accu[B];
  for (int b = 0; b < B; b++) accu[b] = _mm256_setzero_ps();
  for (size_t i = 0; i < d; i += 8) {
    if (B > 1 && i % Decoder::kLineDims == 0) {
      for (int b = 0; b < B; b++) _mm_prefetch(reinterpret_cast<const char*>(next[b] + Decoder::Byte(i)), _MM_HINT_T0);
    }
    const __m256 yi = _mm256_loadu_ps(y + i);
    for (int b = 0; b < B; b++) {
      const __m256 x = decode(codes[b], i);
      if constexpr (kIP) {
        accu[b] = _mm256_fmadd_ps(yi, x, accu[b]);
      } else {
        const __m256 tmp = _mm256_sub_ps(yi, x);
        accu[b] = _mm256_fmadd_ps(tmp, tmp, accu[b]);
      }
    }
  }
  for (int b = 0; b < B; b++) out[b] = HorizontalSum(accu[b]);
}

constexpr int kSide = 4;  // codes a step: enough chains to cover the FMA latency, few enough registers

// IVFSQScannerIP / IVFSQScannerL2 (without selector or stored pairs) over the decoder above.
template <bool kIP, class Decoder>
class Scanner final : public BulkScanner {
 public:
  explicit Scanner(const faiss::IndexIVFScalarQuantizer& ivf)
      : decode_(ivf.sq), d_(size_t(ivf.d)), quantizer_(ivf.quantizer), byResidual_(ivf.by_residual), residual_(d_) {
    code_size = ivf.code_size;
    keep_max = kIP;
  }

  void set_query(const float* query) override {
    x_ = query;
    y_ = query;
  }

  void set_list(faiss::idx_t list, float coarseDis) override {
    list_no = list;
    if constexpr (kIP) {
      accu0_ = byResidual_ ? coarseDis : 0;
    } else if (byResidual_) {
      quantizer_->compute_residual(x_, residual_.data(), list);
      y_ = residual_.data();
    }
  }

  float distance_to_code(const uint8_t* code) const override {
    float dis;
    Distances<kIP, 1>(decode_, y_, d_, &code, nullptr, &dis);
    return kIP ? accu0_ + dis : dis;
  }

  void Bulk(size_t n, const uint8_t* codes, float* out) const override {
    const uint8_t* at[2 * kSide];
    size_t j = 0;
    for (; j + kSide <= n; j += kSide) {
      for (size_t b = 0; b < 2 * kSide; b++) at[b] = codes + (j + b) * code_size;  // past the end: prefetched only
      Distances<kIP, kSide>(decode_, y_, d_, at, at + kSide, out + j);
    }
    for (; j < n; j++) {
      at[0] = codes + j * code_size;
      Distances<kIP, 1>(decode_, y_, d_, at, nullptr, out + j);
    }
    AddCoarse(n, out);
  }

  void Gathered(size_t n, const uint8_t* const* codes, float* out) const override {
    // Scattered codes miss the cache more often: fetched two batches ahead.
    size_t j = 0;
    for (; j + kSide <= n; j += kSide) Distances<kIP, kSide>(decode_, y_, d_, codes + j, codes + std::min(j + 2 * kSide, n - kSide), out + j);
    for (; j < n; j++) Distances<kIP, 1>(decode_, y_, d_, codes + j, nullptr, out + j);
    AddCoarse(n, out);
  }

  size_t scan_codes(size_t n, const uint8_t* codes, const faiss::idx_t* ids, float* simi, faiss::idx_t* idxi, size_t k) const override {
    size_t updates = 0;
    float dis[kSide];
    for (size_t j = 0; j < n; j += kSide) {
      const size_t m = std::min(size_t(kSide), n - j);
      Bulk(m, codes + j * code_size, dis);
      // In code order, with scan_codes's comparison: the same heap as FAISS's.
      for (size_t t = 0; t < m; t++) {
        if constexpr (kIP) {
          if (dis[t] > simi[0]) {
            faiss::minheap_replace_top(k, simi, idxi, dis[t], ids[j + t]);
            updates++;
          }
        } else if (dis[t] < simi[0]) {
          faiss::maxheap_replace_top(k, simi, idxi, dis[t], ids[j + t]);
          updates++;
        }
      }
    }
    return updates;
  }

 private:
  // IVFSQScannerIP adds the query's inner product with the list's centroid (residual codes).
  void AddCoarse(size_t n, float* out) const {
    if constexpr (kIP) {
      for (size_t i = 0; i < n; i++) out[i] = accu0_ + out[i];
    }
  }

  Decoder decode_;
  size_t d_;
  const faiss::Index* quantizer_;
  bool byResidual_;
  std::vector<float> residual_;
  const float* x_ = nullptr;
  const float* y_ = nullptr;
  float accu0_ = 0;
};

template <class Decoder>
BulkScanner* ForMetric(const faiss::IndexIVFScalarQuantizer& ivf) {
  if (ivf.metric_type == faiss::METRIC_INNER_PRODUCT) return new Scanner<true, Decoder>(ivf);
  return new Scanner<false, Decoder>(ivf);
}

#pragma GCC pop_options
#endif

// Whether FAISS's own scanner for this index is the 8-wide one replicated above.
bool Applies(const faiss::IndexIVF& ivf) {
#if FAISS_NATIVE_SQ_AVX2
  static const bool avx2 = faiss::get_compile_options().find("AVX2") != std::string::npos;
  return avx2 && typeid(ivf) == typeid(faiss::IndexIVFScalarQuantizer) && ivf.d % 8 == 0 &&
         (ivf.metric_type == faiss::METRIC_INNER_PRODUCT || ivf.metric_type == faiss::METRIC_L2);
#else
  (void)ivf;
  return false;
#endif
}

// What makes this file's scanner for the index, or nullptr where it does not apply.
using Factory = BulkScanner* (*)(const faiss::IndexIVFScalarQuantizer&);
Factory FactoryFor(const faiss::IndexIVF& index) {
  if (!Applies(index)) return nullptr;
#if FAISS_NATIVE_SQ_AVX2
  using QT = faiss::ScalarQuantizer::QuantizerType;
  switch (static_cast<const faiss::IndexIVFScalarQuantizer&>(index).sq.qtype) {
    case QT::QT_8bit: return ForMetric<NonUniform<Codec8bit>>;
    case QT::QT_8bit_uniform: return ForMetric<Uniform<Codec8bit>>;
    case QT::QT_4bit: return ForMetric<NonUniform<Codec4bit>>;
    case QT::QT_4bit_uniform: return ForMetric<Uniform<Codec4bit>>;
    case QT::QT_fp16: return ForMetric<Fp16>;
    default: break;
  }
#endif
  return nullptr;
}

// IndexIVF::search_preassigned for parallel_mode 0, serial (as FAISS runs it inside a slice).
template <class C>
void ScanQueries(const faiss::IndexIVF& ivf, faiss::InvertedListScanner& scanner, faiss::idx_t n, const float* x, faiss::idx_t k,
                 const faiss::idx_t* keys, const float* coarse, size_t nprobe, float* distances, faiss::idx_t* labels) {
  const faiss::InvertedLists& lists = *ivf.invlists;
  for (faiss::idx_t i = 0; i < n; i++) {
    scanner.set_query(x + i * ivf.d);
    float* simi = distances + i * k;
    faiss::idx_t* idxi = labels + i * k;
    faiss::heap_heapify<C>(size_t(k), simi, idxi);
    for (size_t p = 0; p < nprobe; p++) {
      const faiss::idx_t key = keys[size_t(i) * nprobe + p];
      if (key < 0) continue;
      FAISS_THROW_IF_NOT_FMT(key < faiss::idx_t(ivf.nlist), "Invalid key=%" PRId64 " nlist=%zd\n", key, ivf.nlist);
      if (lists.is_empty(size_t(key), nullptr)) continue;
      scanner.set_list(key, coarse[size_t(i) * nprobe + p]);
      faiss::InvertedLists::ScopedCodes codes(&lists, size_t(key));
      faiss::InvertedLists::ScopedIds ids(&lists, size_t(key));
      scanner.scan_codes(lists.list_size(size_t(key)), codes.get(), ids.get(), simi, idxi, size_t(k));
    }
    faiss::heap_reorder<C>(size_t(k), simi, idxi);
  }
}

}  // namespace

bool DefaultIvfSearch(const faiss::IndexIVF& ivf, const faiss::SearchParameters* params_in) {
  const auto* params = dynamic_cast<const faiss::SearchParametersIVF*>(params_in);
  if (params_in != nullptr && (params == nullptr || params->sel != nullptr || params->quantizer_params != nullptr ||
                               params->inverted_list_context != nullptr)) {
    return false;
  }
  return (params ? params->max_codes : ivf.max_codes) == 0 && ivf.parallel_mode == 0 && !ivf.invlists->use_iterator;
}

std::unique_ptr<faiss::InvertedListScanner> IvfScanner(const faiss::IndexIVF& ivf, const faiss::IVFSearchParameters* params) {
  if (Factory make = FactoryFor(ivf)) {
    scanners++;
    return std::unique_ptr<faiss::InvertedListScanner>(make(static_cast<const faiss::IndexIVFScalarQuantizer&>(ivf)));
  }
  return std::unique_ptr<faiss::InvertedListScanner>(ivf.get_InvertedListScanner(false, nullptr, params));
}

CodeScorer::CodeScorer(const faiss::InvertedListScanner& scanner) : scanner_(scanner), bulk_(dynamic_cast<const BulkScanner*>(&scanner)) {}

void CodeScorer::operator()(size_t n, const uint8_t* codes, float* out) const {
  if (bulk_ != nullptr) return bulk_->Bulk(n, codes, out);
  for (size_t j = 0; j < n; j++) out[j] = scanner_.distance_to_code(codes + j * scanner_.code_size);
}

void CodeScorer::operator()(size_t n, const uint8_t* const* codes, float* out) const {
  if (bulk_ != nullptr) return bulk_->Gathered(n, codes, out);
  for (size_t j = 0; j < n; j++) out[j] = scanner_.distance_to_code(codes[j]);
}

bool SearchIvfSq(const faiss::Index& index, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels,
                 const faiss::SearchParameters* params) {
  const auto* ivf = dynamic_cast<const faiss::IndexIVF*>(&index);
  if (ivf == nullptr || n < 1 || !DefaultIvfSearch(*ivf, params) || FactoryFor(*ivf) == nullptr) return false;
  const auto* ivfParams = static_cast<const faiss::SearchParametersIVF*>(params);
  const size_t nprobe = std::min(ivf->nlist, ivfParams ? ivfParams->nprobe : ivf->nprobe);
  FAISS_THROW_IF_NOT(nprobe > 0);
  // IndexIVF::search: one slice of the queries per thread, each with its own coarse search.
  const int nt = int(std::min<faiss::idx_t>(omp_get_max_threads(), n));
  std::exception_ptr error;
#pragma omp parallel for if (nt > 1)
  for (int slice = 0; slice < nt; slice++) {
    const faiss::idx_t i0 = n * slice / nt;
    const faiss::idx_t i1 = n * (slice + 1) / nt;
    if (i1 <= i0) continue;
    try {
      const faiss::idx_t m = i1 - i0;
      std::vector<faiss::idx_t> keys(size_t(m) * nprobe);
      std::vector<float> coarse(size_t(m) * nprobe);
      ivf->quantizer->search(m, x + i0 * ivf->d, faiss::idx_t(nprobe), coarse.data(), keys.data());
      std::unique_ptr<faiss::InvertedListScanner> scanner = IvfScanner(*ivf, ivfParams);
      if (ivf->metric_type == faiss::METRIC_INNER_PRODUCT) {
        ScanQueries<faiss::CMin<float, faiss::idx_t>>(*ivf, *scanner, m, x + i0 * ivf->d, k, keys.data(), coarse.data(), nprobe,
                                                      distances + i0 * k, labels + i0 * k);
      } else {
        ScanQueries<faiss::CMax<float, faiss::idx_t>>(*ivf, *scanner, m, x + i0 * ivf->d, k, keys.data(), coarse.data(), nprobe,
                                                      distances + i0 * k, labels + i0 * k);
      }
    } catch (...) {
#pragma omp critical
      error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  return true;
}

uint64_t IvfSqScanners() { return scanners.load(); }

}  // namespace faiss_native

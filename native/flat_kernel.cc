#include "flat_kernel.h"

#include <faiss/utils/distances.h>
#include <faiss/utils/utils.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#define FAISS_NATIVE_FLAT_AVX2 1
#include <immintrin.h>
#endif

namespace faiss_native {

namespace {

#if FAISS_NATIVE_FLAT_AVX2
// Only the code up to pop_options is compiled for AVX2; it runs only where FAISS's AVX2 build
// is linked, which the loader picks on CPUs that have AVX2 and FMA.
#pragma GCC push_options
#pragma GCC target("avx2,fma")

// The horizontal sum GCC emits at the end of fvec_inner_product / fvec_L2sqr:
// (lo + hi), then (v0 + v2) + (v1 + v3).
inline float HorizontalSum(__m256 accu) {
  const __m128 v = _mm_add_ps(_mm256_castps256_ps128(accu), _mm256_extractf128_ps(accu, 1));
  const __m128 w = _mm_add_ps(v, _mm_movehl_ps(v, v));
  return _mm_cvtss_f32(_mm_add_ss(w, _mm_shuffle_ps(w, w, 0x55)));
}

template <bool kIP>
void Four(const float* x, const float* const* y, size_t d, float* out, const float* const* next) {
  __m256 accu[4];
  for (int t = 0; t < 4; t++) accu[t] = _mm256_setzero_ps();
  for (size_t i = 0; i < d; i += 8) {
    if (next != nullptr && i % 16 == 0) {
      for (int t = 0; t < 4; t++) _mm_prefetch(reinterpret_cast<const char*>(next[t] + i), _MM_HINT_T0);
    }
    const __m256 xi = _mm256_loadu_ps(x + i);
    for (int t = 0; t < 4; t++) {
      const __m256 yi = _mm256_loadu_ps(y[t] + i);
      if constexpr (kIP) {
        accu[t] = _mm256_fmadd_ps(xi, yi, accu[t]);
      } else {
        const __m256 diff = _mm256_sub_ps(xi, yi);
        accu[t] = _mm256_fmadd_ps(diff, diff, accu[t]);
      }
    }
  }
  for (int t = 0; t < 4; t++) out[t] = HorizontalSum(accu[t]);
}

#pragma GCC pop_options

// Whether Four<kIP> gives FAISS's bits on random vectors, for several d (a multiple of 8).
template <bool kIP>
bool SameAsFaiss() {
  std::mt19937 rng(20261205);
  std::normal_distribution<float> normal;
  for (size_t d : {8, 16, 24, 40, 64, 96, 128, 200, 256, 384, 768, 1024, 1536}) {
    std::vector<float> x(d), y(8 * d);
    for (float& v : x) v = normal(rng);
    for (float& v : y) v = normal(rng);
    float got[4];
    const float* rows[4] = {y.data(), y.data() + d, y.data() + 2 * d, y.data() + 3 * d};
    Four<kIP>(x.data(), rows, d, got, nullptr);
    for (size_t t = 0; t < 4; t++) {
      const float want = kIP ? faiss::fvec_inner_product(x.data(), y.data() + t * d, d) : faiss::fvec_L2sqr(x.data(), y.data() + t * d, d);
      if (std::memcmp(&want, &got[t], sizeof want) != 0) return false;
    }
  }
  return true;
}
#endif

}  // namespace

Distances4 FlatKernel(faiss::MetricType metric, size_t d) {
#if FAISS_NATIVE_FLAT_AVX2
  static const bool avx2 = faiss::get_compile_options().find("AVX2") != std::string::npos;
  if (!avx2 || d == 0 || d % 8 != 0) return nullptr;
  if (metric == faiss::METRIC_INNER_PRODUCT) {
    static const bool same = SameAsFaiss<true>();
    return same ? Four<true> : nullptr;
  }
  if (metric == faiss::METRIC_L2) {
    static const bool same = SameAsFaiss<false>();
    return same ? Four<false> : nullptr;
  }
#else
  (void)metric;
  (void)d;
#endif
  return nullptr;
}

}  // namespace faiss_native

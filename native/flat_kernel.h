// Flat distances four database vectors at a time, with FAISS's own arithmetic.
//
// FAISS's AVX2 build compiles fvec_inner_product and fvec_L2sqr (auto-vectorized) into one
// chain of fused multiply-adds per vector pair, 8 floats a link, then a fixed horizontal sum:
// a scan of vectors already in cache runs at the FMA latency. Distances4 runs the same chain
// for one query and four vectors side by side, so each distance is FAISS's bit for bit and the
// chains overlap. As the chain is the compiler's choice, not FAISS's source, FlatKernel checks
// on first use that Distances4 gives fvec_inner_product's and fvec_L2sqr's bits on random
// vectors of several sizes, and is null (the caller runs FAISS's functions) if it does not,
// or where the chain is not that one (FAISS's generic and AVX-512 builds, arm64, d % 8 != 0).
#pragma once

#include <faiss/MetricType.h>

#include <cstddef>

namespace faiss_native {

// Distances from query x to the four vectors y[0..3], into out[0..3], as fvec_inner_product(x,
// y[t], d) or fvec_L2sqr(x, y[t], d) computes them. `next`: four vectors to fetch into cache
// meanwhile (the next ones to come), or nullptr.
using Distances4 = void (*)(const float* x, const float* const* y, size_t d, float* out, const float* const* next);

// Distances4 for the metric and d where it gives FAISS's bits, or nullptr.
Distances4 FlatKernel(faiss::MetricType metric, size_t d);

}  // namespace faiss_native

// Native-side argument access. lib/ validates every argument with a friendly message first;
// these checks only guard the boundary, plus the NaN/Infinity scan, which runs in the job
// (off the event loop for async calls).
#pragma once

#include <faiss/Index.h>
#include <napi.h>

#include <cstddef>

namespace faiss_native {

// A Float32Array argument holding whole d-dimensional vectors.
Napi::Float32Array VectorsArg(const Napi::CallbackInfo& info, size_t i, int d);
// A Float32Array argument of at least `length` elements (an output buffer).
Napi::Float32Array FloatsArg(const Napi::CallbackInfo& info, size_t i, size_t length);
// A BigInt64Array argument of at least `length` elements.
Napi::TypedArrayOf<int64_t> IdsArg(const Napi::CallbackInfo& info, size_t i, size_t length);
// An Int32Array of at least 2 elements that a job reports its progress in ({done, total}).
Napi::Int32Array ProgressArg(const Napi::CallbackInfo& info, size_t i);
// A non-negative integer argument.
int64_t CountArg(const Napi::CallbackInfo& info, size_t i);

// Throws InvalidArgument naming `name` and the first bad position if x holds NaN or Infinity.
void CheckFinite(const float* x, size_t n, int d, const char* name);

// Largest |value| an HNSW index takes: FAISS's HNSW search loops forever (and then reads out of
// bounds) when every candidate's distance is infinite or NaN, which values past about 1e19
// cause by overflowing float. 1e15 keeps any distance finite up to d = 8e7.
constexpr float kMaxGraphMagnitude = 1e15f;

// Throws InvalidArgument naming the first value of x beyond `bound` in magnitude.
void CheckMagnitude(const float* x, size_t n, int d, const char* name, float bound);

// Whether any of x[0..count) is NaN or infinite (CheckFinite's fast pass, without the message).
bool AnyNonFinite(const float* x, size_t count);

}  // namespace faiss_native

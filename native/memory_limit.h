// The memory limit of one call (lib/memory.ts sets it, setMemoryLimit): native allocations
// sized by a call's arguments (an add's growth, training samples, a new IVF's lists, range
// search results) are checked against it before they are made, so that a careless argument
// is a RangeError and not the kernel's OOM killer ending the process.
#pragma once

#include <faiss/Index.h>
#include <napi.h>

#include <cstddef>
#include <string>

namespace faiss_native {

// Exported as setMemoryLimit(bytes): the limit of this environment (AddonData::memoryLimit).
Napi::Value SetMemoryLimit(const Napi::CallbackInfo& info);

// Throws InvalidArgument (a RangeError) naming `what` and the sizes when `bytes` is over
// `limit`. `bytes` is a double so that products of large arguments cannot wrap.
void CheckMemory(size_t limit, double bytes, const std::string& what);

// Bytes the index grows by per vector added: codes, ids, and the side tables kept per vector.
double BytesPerVector(const faiss::Index& index);

// Bytes training on n vectors allocates besides the input: k-means samples, assignments and
// centroids for an IVF layer, per-dimension copies for scalar quantizers.
double TrainingBytes(const faiss::Index& index, faiss::idx_t n);

}  // namespace faiss_native

// FAISS's OpenMP thread count. omp_set_num_threads applies to the calling thread only, so
// the count is kept here and applied by every job on the thread that runs it.
#pragma once

#include <napi.h>

namespace faiss_native {

// Applies the count set by setNumThreads (if any) to the current thread.
void ApplyThreadCount();

Napi::Value SetNumThreads(const Napi::CallbackInfo& info);
Napi::Value GetNumThreads(const Napi::CallbackInfo& info);

}  // namespace faiss_native

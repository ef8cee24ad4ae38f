// FAISS's OpenMP thread count. omp_set_num_threads applies to the calling thread only, so
// the count is kept here and applied by every job on the thread that runs it.
#pragma once

#include <napi.h>

#include <mutex>

namespace faiss_native {

// Applies the count set by setNumThreads (if any) to the current thread.
void ApplyThreadCount();

// Held by every job that runs FAISS's OpenMP/BLAS parallel regions (batches, adds, training):
// one such job at a time uses all the threads, instead of several teams oversubscribing the
// cores (measured: 4 concurrent batch searches took 4.5x longer than one batch of the same
// total size). Single-query searches are single-threaded in FAISS; a flat or IVF-SQ one takes
// every thread when the gate is free (split_search.h) and stays on its own thread when it is not.
// Take it after the index lock, so no cycle can form.
std::unique_lock<std::mutex> ParallelSection();

// The gate if it is free now, else an unlocked lock (the caller then stays on one thread).
std::unique_lock<std::mutex> TryParallelSection();

Napi::Value SetNumThreads(const Napi::CallbackInfo& info);
Napi::Value GetNumThreads(const Napi::CallbackInfo& info);

}  // namespace faiss_native

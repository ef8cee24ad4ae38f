// Thread count shared by the main thread and the libuv pool.
#include "threads.h"

#include <omp.h>

#include <atomic>

namespace faiss_native {

namespace {
std::atomic<int> requestedThreads{0};  // 0: OpenMP's default (OMP_NUM_THREADS or the cores)
std::mutex parallelGate;
}  // namespace

std::unique_lock<std::mutex> ParallelSection() { return std::unique_lock<std::mutex>(parallelGate); }

std::unique_lock<std::mutex> TryParallelSection() { return std::unique_lock<std::mutex>(parallelGate, std::try_to_lock); }

void ApplyThreadCount() {
  int n = requestedThreads.load();
  if (n > 0 && omp_get_max_threads() != n) omp_set_num_threads(n);
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  requestedThreads = info[0].As<Napi::Number>().Int32Value();
  ApplyThreadCount();
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  int n = requestedThreads.load();
  return Napi::Number::New(info.Env(), n > 0 ? n : omp_get_max_threads());
}

}  // namespace faiss_native

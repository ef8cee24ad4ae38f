// Runs an operation either on the calling thread (the *Sync methods) or on the libuv pool
// behind a Promise, so each index operation is written once.
#pragma once

#include <napi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "errors.h"

namespace faiss_native {

// The FAISS call. For async calls it runs on a pool thread, so it must not touch JS.
using Work = std::function<void()>;
// Builds the JS result on the main thread after Work succeeded.
using Finish = std::function<Napi::Value(Napi::Env)>;

// The Finish of jobs that resolve to undefined (results were written into caller's arrays).
inline Napi::Value NoResult(Napi::Env env) { return env.Undefined(); }

// A Buffer over bytes a job made: it takes over the vector's memory, no copy.
inline Napi::Value BufferOf(Napi::Env env, const std::shared_ptr<std::vector<uint8_t>>& bytes) {
  auto* owner = new std::shared_ptr<std::vector<uint8_t>>(bytes);
  return Napi::Buffer<uint8_t>::New(env, bytes->data(), bytes->size(),
                                    [](Napi::Env, uint8_t*, std::shared_ptr<std::vector<uint8_t>>* o) { delete o; }, owner);
}

class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, Work work, Finish finish, const std::vector<Napi::Object>& keepAlive);
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override;

 private:
  Work work_;
  Finish finish_;
  Napi::Promise::Deferred deferred_;
  Failure failure_;
  bool failed_ = false;
  // Inputs and outputs (typed arrays, the index object) stay alive until the job settles.
  std::vector<Napi::ObjectReference> keepAlive_;
};

// Sync: runs work and finish now. Async: queues the work and returns a Promise of finish's value.
Napi::Value RunJob(Napi::Env env, bool async, Work work, Finish finish,
                   const std::vector<Napi::Object>& keepAlive);

}  // namespace faiss_native

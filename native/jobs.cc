// Sync and Promise execution of index operations.
#include "jobs.h"

#include "threads.h"

namespace faiss_native {

JobWorker::JobWorker(Napi::Env env, Work work, Finish finish, const std::vector<Napi::Object>& keepAlive)
    : Napi::AsyncWorker(env, "faiss-native"),
      work_(std::move(work)),
      finish_(std::move(finish)),
      deferred_(Napi::Promise::Deferred::New(env)) {
  keepAlive_.reserve(keepAlive.size());
  for (const Napi::Object& object : keepAlive) keepAlive_.push_back(Napi::Persistent(object));
}

void JobWorker::Execute() {
  try {
    ApplyThreadCount();
    work_();
  } catch (...) {
    // Kept here rather than passed to SetError: AsyncWorker would build its JS error before
    // OnOK could check that the environment still runs JavaScript.
    failure_ = DescribeCurrentException();
    failed_ = true;
  }
}

// Settles the Promise. When the job outlives its environment (a worker thread terminated with
// jobs in flight), nothing can be resolved any more, and nothing may throw out of this libuv
// callback (it would abort the process): the completion is dropped, and the worker's
// destruction frees the job's memory.
void JobWorker::OnOK() {
  try {
    if (failed_) {
      deferred_.Reject(ToJsError(Env(), failure_).Value());
    } else {
      deferred_.Resolve(finish_(Env()));
    }
  } catch (const Napi::Error& error) {
    try {
      deferred_.Reject(error.Value());  // finish_ refused (e.g. a result too large for V8)
    } catch (...) {
    }
  } catch (...) {
  }
}

Napi::Value RunJob(Napi::Env env, bool async, Work work, Finish finish,
                   const std::vector<Napi::Object>& keepAlive) {
  if (!async) {
    ApplyThreadCount();
    Guarded(env, work);
    return finish(env);
  }
  // Napi::AsyncWorker deletes itself after OnOK.
  auto* worker = new JobWorker(env, std::move(work), std::move(finish), keepAlive);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace faiss_native

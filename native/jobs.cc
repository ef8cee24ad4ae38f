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
    failure_ = DescribeCurrentException();
    SetError(failure_.message);
  }
}

void JobWorker::OnOK() {
  try {
    deferred_.Resolve(finish_(Env()));
  } catch (const Napi::Error& error) {
    deferred_.Reject(error.Value());
  }
}

void JobWorker::OnError(const Napi::Error&) { deferred_.Reject(ToJsError(Env(), failure_).Value()); }

Napi::Value RunJob(Napi::Env env, bool async, Work work, Finish finish,
                   const std::vector<Napi::Object>& keepAlive) {
  if (!async) {
    ApplyThreadCount();
    Guarded(env, work);
    return finish(env);
  }
  // Napi::AsyncWorker deletes itself after OnOK/OnError.
  auto* worker = new JobWorker(env, std::move(work), std::move(finish), keepAlive);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace faiss_native

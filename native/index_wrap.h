// IndexWrap: the JS object behind every index class in lib/. It owns a FAISS index through a
// shared handle, so jobs still running after dispose() or garbage collection keep it alive.
#pragma once

#include <faiss/Index.h>
#include <napi.h>

#include <atomic>
#include <memory>
#include <shared_mutex>

namespace faiss_native {

struct IndexHandle {
  explicit IndexHandle(std::unique_ptr<faiss::Index> owned);

  std::unique_ptr<faiss::Index> index;
  // Shared for searches, exclusive for anything that changes the index.
  std::shared_mutex mutex;
  // Mirrors of index state, so getters on the main thread never wait for a running add.
  std::atomic<int64_t> ntotal{0};
  std::atomic<bool> isTrained{false};
  std::atomic<int64_t> bytes{0};

  // Refreshes the mirrors; call with the mutex held.
  void Refresh();
};

class IndexWrap : public Napi::ObjectWrap<IndexWrap> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new Index(description, d, metric): any index_factory description.
  explicit IndexWrap(const Napi::CallbackInfo& info);
  ~IndexWrap() override;

 private:
  Napi::Value GetD(const Napi::CallbackInfo& info);
  Napi::Value GetNtotal(const Napi::CallbackInfo& info);
  Napi::Value GetIsTrained(const Napi::CallbackInfo& info);
  Napi::Value GetMetricType(const Napi::CallbackInfo& info);

  // add(x) / addSync(x)
  template <bool Async>
  Napi::Value Add(const Napi::CallbackInfo& info);
  // search(x, k, distances, labels) / searchSync(...): FAISS writes into the given arrays.
  template <bool Async>
  Napi::Value Search(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  // The live handle, or a TypeError after dispose().
  std::shared_ptr<IndexHandle> Live(Napi::Env env) const;
  // Tells V8 how much native memory this index holds, so GC pressure is right.
  void ReportMemory(Napi::Env env);

  std::shared_ptr<IndexHandle> handle_;
  int d_ = 0;
  int64_t reportedBytes_ = 0;
};

}  // namespace faiss_native

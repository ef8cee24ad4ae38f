// IndexWrap: the JS object behind every index class in lib/. It holds a shared IndexHandle,
// so jobs still running after dispose() or garbage collection keep the index alive.
#pragma once

#include <faiss/impl/HNSW.h>
#include <napi.h>

#include <memory>

#include "index_handle.h"

namespace faiss_native {

class IndexWrap : public Napi::ObjectWrap<IndexWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // A new JS object for a handle (used by the creators in index_create.cc).
  static Napi::Object Create(Napi::Env env, std::shared_ptr<IndexHandle> handle);
  // The live handle of a JS index object, or a TypeError (not an index, or disposed).
  static std::shared_ptr<IndexHandle> HandleOf(Napi::Env env, const Napi::Value& value);

  // Only called through Create, with the handle in an External.
  explicit IndexWrap(const Napi::CallbackInfo& info);
  ~IndexWrap() override;

 private:
  Napi::Value GetD(const Napi::CallbackInfo& info);
  Napi::Value GetNtotal(const Napi::CallbackInfo& info);
  Napi::Value GetIsTrained(const Napi::CallbackInfo& info);
  Napi::Value GetMetricType(const Napi::CallbackInfo& info);
  Napi::Value GetClassName(const Napi::CallbackInfo& info);
  Napi::Value GetNlist(const Napi::CallbackInfo& info);
  Napi::Value GetCodeSize(const Napi::CallbackInfo& info);  // of an IVF layer's entries
  Napi::Value GetOnDisk(const Napi::CallbackInfo& info);    // the data file of on-disk lists, else undefined
  Napi::Value GetPrefetchThreads(const Napi::CallbackInfo& info);
  void SetPrefetchThreads(const Napi::CallbackInfo& info, const Napi::Value& value);
  Napi::Value GetNprobe(const Napi::CallbackInfo& info);
  void SetNprobe(const Napi::CallbackInfo& info, const Napi::Value& value);
  // efSearch and efConstruction of an HNSW layer.
  template <int faiss::HNSW::*Setting>
  Napi::Value GetHnsw(const Napi::CallbackInfo& info);
  template <int faiss::HNSW::*Setting>
  void SetHnsw(const Napi::CallbackInfo& info, const Napi::Value& value);
  Napi::Value GetHnswInfo(const Napi::CallbackInfo& info);  // { M, maxLevel, entryPoint } of an HNSW layer
  Napi::Value GetPqInfo(const Napi::CallbackInfo& info);    // { M, nbits } of an IVF-PQ layer
  Napi::Value GetQtype(const Napi::CallbackInfo& info);
  Napi::Value GetByResidual(const Napi::CallbackInfo& info);
  Napi::Value GetKFactor(const Napi::CallbackInfo& info);  // of a refinement layer
  void SetKFactor(const Napi::CallbackInfo& info, const Napi::Value& value);
  Napi::Value GetQb(const Napi::CallbackInfo& info);  // of a RaBitQ layer
  void SetQb(const Napi::CallbackInfo& info, const Napi::Value& value);

  // Each Async=true form returns a Promise and runs on the libuv pool; Async=false is *Sync.
  template <bool Async>
  Napi::Value Train(const Napi::CallbackInfo& info);  // (x, progress?: Int32Array [done, total])
  template <bool Async>
  Napi::Value Add(const Napi::CallbackInfo& info);  // (x)
  template <bool Async>
  Napi::Value AddWithIds(const Napi::CallbackInfo& info);  // (x, ids)
  template <bool Async>
  Napi::Value Search(const Napi::CallbackInfo& info);  // (x, k, distances, labels, params)
  template <bool Async>
  Napi::Value RangeSearch(const Napi::CallbackInfo& info);  // (x, radius, params)
  template <bool Async>
  Napi::Value Rescore(const Napi::CallbackInfo& info);  // (x, candidates, kIn, k, distances, labels)
  template <bool Async>
  Napi::Value Reconstruct(const Napi::CallbackInfo& info);  // (key, out)
  template <bool Async>
  Napi::Value ReconstructN(const Napi::CallbackInfo& info);  // (i0, n, out)
  template <bool Async>
  Napi::Value RemoveIds(const Napi::CallbackInfo& info);  // (filter) -> number removed
  template <bool Async>
  Napi::Value Reset(const Napi::CallbackInfo& info);
  template <bool Async>
  Napi::Value MergeFrom(const Napi::CallbackInfo& info);  // (other, addId): moves other's vectors here
  template <bool Async>
  Napi::Value ReplaceInvlists(const Napi::CallbackInfo& info);  // (path): the IVF layer's lists into an on-disk data file
  template <bool Async>
  Napi::Value MergeOnDisk(const Napi::CallbackInfo& info);  // (shardPaths, path, shiftIds)
  template <bool Async>
  Napi::Value Serialize(const Napi::CallbackInfo& info);  // -> Buffer
  template <bool Async>
  Napi::Value Write(const Napi::CallbackInfo& info);  // (path)
  Napi::Value MakeDirectMap(const Napi::CallbackInfo& info);
  Napi::Value Quantizer(const Napi::CallbackInfo& info);  // an IVF's quantizer, as a view
  Napi::Value SubIndex(const Napi::CallbackInfo& info);   // an IDMap's sub-index, as a view
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<IndexHandle> Live(Napi::Env env) const;
  // Live, and allowed to change (not memory-mapped), else a TypeError.
  std::shared_ptr<IndexHandle> Changeable(Napi::Env env) const;
  // A change of the index: runs under the exclusive lock, then refreshes mirrors and memory;
  // resolves to result's value (undefined without one).
  Napi::Value RunChange(Napi::Env env, bool async, std::function<void(faiss::Index&)> change,
                        const std::vector<Napi::Object>& keepAlive, std::function<Napi::Value(Napi::Env)> result = nullptr);
  // A view of an index inside this one, sharing its lock and keeping it alive.
  Napi::Value View(Napi::Env env, faiss::Index* inner);
  // Tells V8 how much native memory this index holds, so GC pressure is right.
  void ReportMemory(Napi::Env env);

  std::shared_ptr<IndexHandle> handle_;
  int d_ = 0;
  int64_t reportedBytes_ = 0;
};

}  // namespace faiss_native

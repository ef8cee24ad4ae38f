// Index creation: index_factory, IVF + scalar quantizer, IDMap wrappers, files and buffers.
#include "index_create.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>

#include <memory>

#include "addon_data.h"
#include "args.h"
#include "errors.h"
#include "index_io.h"
#include "index_wrap.h"
#include "jobs.h"
#include "memory_limit.h"

namespace faiss_native {

namespace {

// createFactory(d, description, metric)
Napi::Value CreateFactory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int d = info[0].As<Napi::Number>().Int32Value();
  std::string description = info[1].As<Napi::String>();
  auto metric = faiss::MetricType(info[2].As<Napi::Number>().Int32Value());
  faiss::Index* index = Guarded(env, [&] { return faiss::index_factory(d, description.c_str(), metric); });
  return IndexWrap::Create(env, NewHandle(index));
}

// createScalarQuantizer(d, qtype, metric)
Napi::Value CreateScalarQuantizer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int d = info[0].As<Napi::Number>().Int32Value();
  auto qtype = faiss::ScalarQuantizer::QuantizerType(info[1].As<Napi::Number>().Int32Value());
  auto metric = faiss::MetricType(info[2].As<Napi::Number>().Int32Value());
  faiss::Index* index = Guarded(env, [&] { return new faiss::IndexScalarQuantizer(d, qtype, metric); });
  return IndexWrap::Create(env, NewHandle(index));
}

// An index built on another one the caller holds (`part`): they share one lock, and the new
// index keeps the part alive.
Napi::Value CreateOver(Napi::Env env, const std::shared_ptr<IndexHandle>& part, faiss::Index* index) {
  auto handle = std::make_shared<IndexHandle>(std::shared_ptr<faiss::Index>(index), part->mutex, true);
  handle->parts.push_back(part);
  handle->file = part->file;
  return IndexWrap::Create(env, handle);
}

// createIVFScalarQuantizer(quantizer | null, d, nlist, qtype, metric, byResidual)
Napi::Value CreateIVFScalarQuantizer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int d = info[1].As<Napi::Number>().Int32Value();
  size_t nlist = size_t(CountArg(info, 2));
  auto qtype = faiss::ScalarQuantizer::QuantizerType(info[3].As<Napi::Number>().Int32Value());
  auto metric = faiss::MetricType(info[4].As<Napi::Number>().Int32Value());
  bool byResidual = info[5].As<Napi::Boolean>();
  // Each list starts as two empty vectors, allocated (and zeroed) here for all nlist at once.
  using Lists = faiss::ArrayInvertedLists;
  Guarded(env, [&] {
    CheckMemory(AddonData::Of(env)->memoryLimit, double(nlist) * (sizeof(Lists::codes[0]) + sizeof(Lists::ids[0])),
                "an IVF index with nlist=" + std::to_string(nlist));
  });
  if (info[0].IsNull()) {
    // Builds and owns its flat quantizer of the same metric, like the factory's "IVF<nlist>,SQ<n>".
    return IndexWrap::Create(env, NewHandle(Guarded(env, [&] {
                               auto quantizer = std::make_unique<faiss::IndexFlat>(d, metric);
                               auto* ivf = new faiss::IndexIVFScalarQuantizer(quantizer.get(), d, nlist, qtype, metric, byResidual);
                               ivf->own_fields = true;
                               quantizer.release();
                               return static_cast<faiss::Index*>(ivf);
                             })));
  }
  auto quantizer = IndexWrap::HandleOf(env, info[0]);
  std::unique_lock lock(*quantizer->mutex);
  faiss::Index* ivf = Guarded(env, [&] {
    return new faiss::IndexIVFScalarQuantizer(quantizer->index.get(), d, nlist, qtype, metric, byResidual);
  });
  lock.unlock();
  return CreateOver(env, quantizer, ivf);
}

// createIDMap(index, two): IndexIDMap, or IndexIDMap2 (which can also reconstruct by id).
Napi::Value CreateIDMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto sub = IndexWrap::HandleOf(env, info[0]);
  bool two = info[1].As<Napi::Boolean>();
  std::unique_lock lock(*sub->mutex);
  faiss::Index* idmap = Guarded(env, [&]() -> faiss::Index* {
    if (two) return new faiss::IndexIDMap2(sub->index.get());
    return new faiss::IndexIDMap(sub->index.get());
  });
  lock.unlock();
  return CreateOver(env, sub, idmap);
}

// A job that yields a new index, wrapped on the main thread.
Napi::Value RunCreate(Napi::Env env, bool async, std::function<std::shared_ptr<IndexHandle>()> create,
                      const std::vector<Napi::Object>& keepAlive) {
  auto handle = std::make_shared<std::shared_ptr<IndexHandle>>();
  Work work = [handle, create = std::move(create)] { *handle = create(); };
  Finish finish = [handle](Napi::Env env) -> Napi::Value { return IndexWrap::Create(env, *handle); };
  return RunJob(env, async, std::move(work), std::move(finish), keepAlive);
}

LoadTypes LoadTypesOf(const Napi::Value& trusted) {
  return trusted.ToBoolean() ? LoadTypes::kAny : LoadTypes::kChecked;
}

// readIndex(path, ioFlags, trusted) / readIndexSync
template <bool Async>
Napi::Value ReadIndex(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  int flags = info[1].As<Napi::Number>().Int32Value();
  LoadTypes types = LoadTypesOf(info[2]);
  return RunCreate(info.Env(), Async, [path, flags, types] {
    LoadedIndex loaded = ReadIndexFile(path, flags, types);
    return NewHandle(loaded.index.release(), std::move(loaded.file));
  }, {});
}

// deserializeIndex(bytes: Uint8Array, trusted) / deserializeIndexSync
template <bool Async>
Napi::Value Deserialize(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "expected a Uint8Array");
  auto bytes = info[0].As<Napi::Uint8Array>();
  const uint8_t* data = bytes.Data();
  size_t size = bytes.ByteLength();
  LoadTypes types = LoadTypesOf(info[1]);
  return RunCreate(info.Env(), Async, [data, size, types] { return NewHandle(DeserializeIndex(data, size, types)); }, {bytes});
}

}  // namespace

void ExportCreators(Napi::Env env, Napi::Object exports) {
  exports.Set("createFactory", Napi::Function::New<CreateFactory>(env, "createFactory"));
  exports.Set("createScalarQuantizer", Napi::Function::New<CreateScalarQuantizer>(env, "createScalarQuantizer"));
  exports.Set("createIVFScalarQuantizer", Napi::Function::New<CreateIVFScalarQuantizer>(env, "createIVFScalarQuantizer"));
  exports.Set("createIDMap", Napi::Function::New<CreateIDMap>(env, "createIDMap"));
  exports.Set("readIndex", Napi::Function::New<ReadIndex<true>>(env, "readIndex"));
  exports.Set("readIndexSync", Napi::Function::New<ReadIndex<false>>(env, "readIndexSync"));
  exports.Set("deserializeIndex", Napi::Function::New<Deserialize<true>>(env, "deserializeIndex"));
  exports.Set("deserializeIndexSync", Napi::Function::New<Deserialize<false>>(env, "deserializeIndexSync"));
}

}  // namespace faiss_native

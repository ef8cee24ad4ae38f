// The binary family's handle, its JS class (BinaryIndexWrap) and its creators.
#include "binary_index.h"

#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryHNSW.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/IndexIDMap.h>
#include <faiss/impl/FaissAssert.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <faiss/invlists/InvertedLists.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <typeinfo>

#include "addon_data.h"
#include "args.h"
#include "binary_search.h"
#include "errors.h"
#include "index_io.h"
#include "jobs.h"
#include "memory_limit.h"
#include "search_params.h"
#include "threads.h"

namespace faiss_native {

BinaryHandle::BinaryHandle(std::shared_ptr<faiss::IndexBinary> index, std::shared_ptr<IndexLock> mutex)
    : index(std::move(index)), mutex(std::move(mutex)) {
  Refresh();
}

BinaryHandle::~BinaryHandle() {
  for (const auto& part : parts) part->usedBy--;
}

void BinaryHandle::Refresh() {
  mutex->changes++;
  ntotal = index->ntotal;
  isTrained = index->is_trained;
  bytes = NativeBytes(*index);
}

void BinaryHandle::AddPart(std::shared_ptr<BinaryHandle> part) {
  part->usedBy++;
  parts.push_back(std::move(part));
}

int64_t NativeBytes(const faiss::IndexBinary& index) {
  if (auto* flat = dynamic_cast<const faiss::IndexBinaryFlat*>(&index)) return int64_t(flat->xb.size());
  if (auto* ivf = dynamic_cast<const faiss::IndexBinaryIVF*>(&index)) {
    int64_t total = ivf->ntotal * int64_t(ivf->code_size + sizeof(faiss::idx_t));
    return total + (ivf->own_fields && ivf->quantizer != nullptr ? NativeBytes(*ivf->quantizer) : 0);
  }
  if (auto* hnsw = dynamic_cast<const faiss::IndexBinaryHNSW*>(&index)) {
    const faiss::HNSW& g = hnsw->hnsw;
    int64_t total = int64_t(g.neighbors.size() * sizeof(g.neighbors[0]) + g.offsets.size() * sizeof(g.offsets[0]) +
                            g.levels.size() * sizeof(g.levels[0]));
    return total + (hnsw->own_fields && hnsw->storage != nullptr ? NativeBytes(*hnsw->storage) : 0);
  }
  if (auto* idmap = dynamic_cast<const faiss::IndexBinaryIDMap*>(&index)) {
    return int64_t(idmap->id_map.size() * sizeof(faiss::idx_t)) + (idmap->own_fields ? NativeBytes(*idmap->index) : 0);
  }
  return 0;
}

std::string ClassName(const faiss::IndexBinary& index) {
  // The IDMaps are template instances, whose C++ names Python does not use.
  if (typeid(index) == typeid(faiss::IndexBinaryIDMap2)) return "IndexBinaryIDMap2";
  if (typeid(index) == typeid(faiss::IndexBinaryIDMap)) return "IndexBinaryIDMap";
  std::string name = TypeName(typeid(index));
  return name.rfind("faiss::", 0) == 0 ? name.substr(7) : name;
}

namespace {

using ReadLock = std::shared_lock<os::SharedMutex>;
using WriteLock = std::unique_lock<os::SharedMutex>;

// Bytes an index grows by per vector added: its code, an id where it keeps ids, HNSW links.
double BytesPerVector(const faiss::IndexBinary& index) {
  double bytes = index.code_size;
  if (dynamic_cast<const faiss::IndexBinaryIVF*>(&index) || dynamic_cast<const faiss::IndexBinaryIDMap*>(&index)) bytes += sizeof(faiss::idx_t);
  if (auto* hnsw = dynamic_cast<const faiss::IndexBinaryHNSW*>(&index)) bytes += 2.0 * hnsw->hnsw.nb_neighbors(0) * sizeof(int32_t) + 12;
  if (auto* idmap = dynamic_cast<const faiss::IndexBinaryIDMap*>(&index)) bytes += BytesPerVector(*idmap->index) - index.code_size;
  return bytes;
}

// A Uint8Array argument of whole codes (codeSize bytes each), or of at least `length` bytes.
Napi::Uint8Array BytesArg(const Napi::CallbackInfo& info, size_t i, size_t codeSize, size_t length = 0) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), "expected a Uint8Array");
  }
  auto bytes = info[i].As<Napi::Uint8Array>();
  if (bytes.ElementLength() % codeSize != 0 || bytes.ElementLength() < length) {
    throw Napi::RangeError::New(info.Env(), "Uint8Array of the wrong length");
  }
  return bytes;
}

// An Int32Array of at least `length` elements (search distances).
Napi::Int32Array Int32sArg(const Napi::CallbackInfo& info, size_t i, size_t length) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      info[i].As<Napi::Int32Array>().ElementLength() < length) {
    throw Napi::TypeError::New(info.Env(), "expected an Int32Array of nq * k elements");
  }
  return info[i].As<Napi::Int32Array>();
}

class BinaryIndexWrap : public Napi::ObjectWrap<BinaryIndexWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    Napi::Function ctor = DefineClass(
        env, "IndexBinary",
        {
            InstanceAccessor<&BinaryIndexWrap::GetD>("d"),
            InstanceAccessor<&BinaryIndexWrap::GetNtotal>("ntotal"),
            InstanceAccessor<&BinaryIndexWrap::GetIsTrained>("isTrained"),
            InstanceAccessor<&BinaryIndexWrap::GetClassName>("className"),
            InstanceAccessor<&BinaryIndexWrap::GetNlist>("nlist"),
            InstanceAccessor<&BinaryIndexWrap::GetNprobe, &BinaryIndexWrap::SetNprobe>("nprobe"),
            InstanceAccessor<&BinaryIndexWrap::GetHnsw<&faiss::HNSW::efSearch>, &BinaryIndexWrap::SetHnsw<&faiss::HNSW::efSearch>>("efSearch"),
            InstanceAccessor<&BinaryIndexWrap::GetHnsw<&faiss::HNSW::efConstruction>, &BinaryIndexWrap::SetHnsw<&faiss::HNSW::efConstruction>>(
                "efConstruction"),
            InstanceMethod<&BinaryIndexWrap::Train<true>>("train"),
            InstanceMethod<&BinaryIndexWrap::Train<false>>("trainSync"),
            InstanceMethod<&BinaryIndexWrap::Add<true>>("add"),
            InstanceMethod<&BinaryIndexWrap::Add<false>>("addSync"),
            InstanceMethod<&BinaryIndexWrap::AddWithIds<true>>("addWithIds"),
            InstanceMethod<&BinaryIndexWrap::AddWithIds<false>>("addWithIdsSync"),
            InstanceMethod<&BinaryIndexWrap::Search<true>>("search"),
            InstanceMethod<&BinaryIndexWrap::Search<false>>("searchSync"),
            InstanceMethod<&BinaryIndexWrap::Reconstruct<true>>("reconstruct"),
            InstanceMethod<&BinaryIndexWrap::Reconstruct<false>>("reconstructSync"),
            InstanceMethod<&BinaryIndexWrap::RemoveIds<true>>("removeIds"),
            InstanceMethod<&BinaryIndexWrap::RemoveIds<false>>("removeIdsSync"),
            InstanceMethod<&BinaryIndexWrap::Reset<true>>("reset"),
            InstanceMethod<&BinaryIndexWrap::Reset<false>>("resetSync"),
            InstanceMethod<&BinaryIndexWrap::Serialize<true>>("serialize"),
            InstanceMethod<&BinaryIndexWrap::Serialize<false>>("serializeSync"),
            InstanceMethod<&BinaryIndexWrap::Write<true>>("write"),
            InstanceMethod<&BinaryIndexWrap::Write<false>>("writeSync"),
            InstanceMethod<&BinaryIndexWrap::MakeDirectMap>("makeDirectMap"),
            InstanceMethod<&BinaryIndexWrap::Dispose>("dispose"),
        });
    AddonData::Of(env)->binaryIndexClass = Napi::Persistent(ctor);
    return ctor;
  }

  static Napi::Object Create(Napi::Env env, std::shared_ptr<BinaryHandle> handle) {
    return AddonData::Of(env)->binaryIndexClass.New({Napi::External<std::shared_ptr<BinaryHandle>>::New(env, &handle)});
  }

  static std::shared_ptr<BinaryHandle> HandleOf(Napi::Env env, const Napi::Value& value) {
    if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(AddonData::Of(env)->binaryIndexClass.Value())) {
      throw Napi::TypeError::New(env, "expected a binary index");
    }
    return Unwrap(value.As<Napi::Object>())->Live(env);
  }

  explicit BinaryIndexWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BinaryIndexWrap>(info) {
    if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "indexes are created by faiss-native's classes");
    handle_ = *info[0].As<Napi::External<std::shared_ptr<BinaryHandle>>>().Data();
    d_ = handle_->index->d;
    codeSize_ = size_t(handle_->index->code_size);
    ReportMemory(info.Env());
  }

  ~BinaryIndexWrap() override {
    if (reportedBytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -reportedBytes_);
  }

 private:
  std::shared_ptr<BinaryHandle> Live(Napi::Env env) const {
    if (!handle_) throw Napi::TypeError::New(env, "index is disposed");
    return handle_;
  }

  void ReportMemory(Napi::Env env) {
    const int64_t now = handle_ ? handle_->bytes.load() : 0;
    if (now != reportedBytes_) Napi::MemoryManagement::AdjustExternalMemory(env, now - reportedBytes_);
    reportedBytes_ = now;
  }

  // The IVF or HNSW layer (itself or under an IDMap), or nullptr.
  template <class Layer>
  Layer* Find() const {
    faiss::IndexBinary* index = handle_ ? handle_->index.get() : nullptr;
    if (auto* idmap = dynamic_cast<faiss::IndexBinaryIDMap*>(index)) index = idmap->index;
    return dynamic_cast<Layer*>(index);
  }

  Napi::Value GetD(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), d_); }

  Napi::Value GetNtotal(const Napi::CallbackInfo& info) {
    auto handle = Live(info.Env());
    if (ReadLock lock{*handle->mutex, std::try_to_lock}) handle->ntotal = handle->index->ntotal;
    return Napi::Number::New(info.Env(), double(handle->ntotal.load()));
  }

  Napi::Value GetIsTrained(const Napi::CallbackInfo& info) {
    auto handle = Live(info.Env());
    if (ReadLock lock{*handle->mutex, std::try_to_lock}) handle->isTrained = handle->index->is_trained;
    return Napi::Boolean::New(info.Env(), handle->isTrained.load());
  }

  Napi::Value GetClassName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), ClassName(*Live(info.Env())->index)); }

  Napi::Value GetNlist(const Napi::CallbackInfo& info) {
    Live(info.Env());
    auto* ivf = Find<faiss::IndexBinaryIVF>();
    return ivf ? Napi::Number::New(info.Env(), double(ivf->nlist)) : info.Env().Undefined();
  }

  // Read without the lock: only the main thread writes it (as IndexWrap's nprobe).
  Napi::Value GetNprobe(const Napi::CallbackInfo& info) {
    Live(info.Env());
    auto* ivf = Find<faiss::IndexBinaryIVF>();
    return ivf ? Napi::Number::New(info.Env(), double(ivf->nprobe)) : info.Env().Undefined();
  }

  void SetNprobe(const Napi::CallbackInfo& info, const Napi::Value& value) {
    auto handle = Live(info.Env());
    auto* ivf = Find<faiss::IndexBinaryIVF>();
    if (ivf == nullptr) throw Napi::TypeError::New(info.Env(), "nprobe: this index has no IVF layer");
    const auto nprobe = size_t(value.As<Napi::Number>().Int64Value());
    WriteLock lock(*handle->mutex);  // waits for running searches
    ivf->nprobe = nprobe;
  }

  template <int faiss::HNSW::*Setting>
  Napi::Value GetHnsw(const Napi::CallbackInfo& info) {
    Live(info.Env());
    auto* hnsw = Find<faiss::IndexBinaryHNSW>();
    return hnsw ? Napi::Number::New(info.Env(), double(hnsw->hnsw.*Setting)) : info.Env().Undefined();
  }

  template <int faiss::HNSW::*Setting>
  void SetHnsw(const Napi::CallbackInfo& info, const Napi::Value& value) {
    auto handle = Live(info.Env());
    auto* hnsw = Find<faiss::IndexBinaryHNSW>();
    if (hnsw == nullptr) throw Napi::TypeError::New(info.Env(), "this index has no HNSW layer");
    const int setting = value.As<Napi::Number>().Int32Value();
    WriteLock lock(*handle->mutex);
    hnsw->hnsw.*Setting = setting;
  }

  // A change under the exclusive lock, then the mirrors and memory refreshed (IndexWrap::RunChange).
  Napi::Value RunChange(Napi::Env env, bool async, std::function<void(faiss::IndexBinary&)> change, const std::vector<Napi::Object>& keepAlive,
                        std::function<Napi::Value(Napi::Env)> result = nullptr) {
    auto handle = Live(env);
    if (handle->usedBy > 0) {
      throw Napi::TypeError::New(env, "index is part of another (the quantizer of an IVF, the index of an IDMap) and changes only through it");
    }
    Work work = ChangeWork(handle, std::move(change));
    std::vector<Napi::Object> alive(keepAlive);
    alive.push_back(Value());
    Finish finish = [this, result = std::move(result)](Napi::Env env) {
      ReportMemory(env);
      return result ? result(env) : env.Undefined();
    };
    return RunJob(env, async, std::move(work), std::move(finish), alive);
  }

  template <bool Async>
  Napi::Value Train(const Napi::CallbackInfo& info) {
    Napi::Uint8Array x = BytesArg(info, 0, codeSize_);
    const uint8_t* data = x.Data();
    const auto n = faiss::idx_t(x.ElementLength() / codeSize_);
    const size_t limit = AddonData::Of(info.Env())->memoryLimit;
    return RunChange(info.Env(), Async, [data, n, limit](faiss::IndexBinary& index) {
      // IVF's k-means runs on the codes decoded to floats (a sample of 256 a centroid at most).
      if (auto* ivf = dynamic_cast<faiss::IndexBinaryIVF*>(&index)) {
        const double sample = std::min(double(n), 256.0 * double(ivf->nlist));
        CheckMemory(limit, sample * index.d * (sizeof(float) + 1) + double(n) * 12, "training on " + std::to_string(n) + " vectors");
      }
      index.train(n, data);
    }, {x});
  }

  template <bool Async>
  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Uint8Array x = BytesArg(info, 0, codeSize_);
    const uint8_t* data = x.Data();
    const auto n = faiss::idx_t(x.ElementLength() / codeSize_);
    const size_t limit = AddonData::Of(info.Env())->memoryLimit;
    return RunChange(info.Env(), Async, [data, n, limit](faiss::IndexBinary& index) {
      CheckMemory(limit, double(n) * BytesPerVector(index), "adding " + std::to_string(n) + " vectors to " + ClassName(index));
      index.add(n, data);
    }, {x});
  }

  template <bool Async>
  Napi::Value AddWithIds(const Napi::CallbackInfo& info) {
    Napi::Uint8Array x = BytesArg(info, 0, codeSize_);
    const auto n = faiss::idx_t(x.ElementLength() / codeSize_);
    auto ids = IdsArg(info, 1, size_t(n));
    const uint8_t* data = x.Data();
    const faiss::idx_t* xids = ids.Data();
    const size_t limit = AddonData::Of(info.Env())->memoryLimit;
    return RunChange(info.Env(), Async, [data, n, xids, limit](faiss::IndexBinary& index) {
      CheckMemory(limit, double(n) * BytesPerVector(index), "adding " + std::to_string(n) + " vectors to " + ClassName(index));
      index.add_with_ids(n, data, xids);
    }, {x, ids});
  }

  template <bool Async>
  Napi::Value RemoveIds(const Napi::CallbackInfo& info) {
    std::vector<Napi::Object> keepAlive;
    FilterArg filter = ReadFilterArg(info[0], keepAlive);
    auto removed = std::make_shared<size_t>(0);
    return RunChange(
        info.Env(), Async,
        [filter, removed](faiss::IndexBinary& index) { *removed = index.remove_ids(*FilterSelector(filter).get()); },
        keepAlive, [removed](Napi::Env env) { return Napi::Number::New(env, double(*removed)); });
  }

  template <bool Async>
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    return RunChange(info.Env(), Async, [](faiss::IndexBinary& index) { index.reset(); }, {});
  }

  Napi::Value MakeDirectMap(const Napi::CallbackInfo& info) {
    auto handle = Live(info.Env());
    auto* ivf = Find<faiss::IndexBinaryIVF>();
    if (ivf == nullptr) throw Napi::TypeError::New(info.Env(), "makeDirectMap: this index has no IVF layer");
    WriteLock lock(*handle->mutex);
    Guarded(info.Env(), [ivf] { ivf->make_direct_map(true); });
    return info.Env().Undefined();
  }

  // (x, k, distances: Int32Array, labels, params) -> the plan of a filtered search
  template <bool Async>
  Napi::Value Search(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto handle = Live(env);
    Napi::Uint8Array x = BytesArg(info, 0, codeSize_);
    const auto n = faiss::idx_t(x.ElementLength() / codeSize_);
    const auto k = faiss::idx_t(CountArg(info, 1));
    if (k < 1) throw Napi::RangeError::New(env, "k must be at least 1");
    auto distances = Int32sArg(info, 2, size_t(n * k));
    auto labels = IdsArg(info, 3, size_t(n * k));
    std::vector<Napi::Object> keepAlive{x, distances, labels};
    auto spec = ReadSearchSpec(info[4], keepAlive);
    const uint8_t* data = x.Data();
    int32_t* d = distances.Data();
    faiss::idx_t* ids = labels.Data();
    auto plan = std::make_shared<FilterPlan>(FilterPlan::kNone);
    Work work = [handle, data, n, k, d, ids, spec, plan] {
      ReadLock lock(*handle->mutex);
      std::unique_lock<std::mutex> parallel;
      if (n > 1) parallel = ParallelSection();
      *plan = SearchBinary(*handle->index, n, data, k, d, ids, spec.get());
    };
    Finish finish = [plan](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, double(*plan)); };
    return RunJob(env, Async, std::move(work), std::move(finish), keepAlive);
  }

  // (key, out: Uint8Array): positions for flat and HNSW, ids for IDMap2 and IVF (with a direct map)
  template <bool Async>
  Napi::Value Reconstruct(const Napi::CallbackInfo& info) {
    auto handle = Live(info.Env());
    bool lossless = true;
    const int64_t key = info[0].IsBigInt() ? info[0].As<Napi::BigInt>().Int64Value(&lossless) : CountArg(info, 0);
    if (!lossless) throw Napi::RangeError::New(info.Env(), "key does not fit in 64 bits");
    auto out = BytesArg(info, 1, codeSize_, codeSize_);
    uint8_t* dest = out.Data();
    Work work = [handle, key, dest] {
      ReadLock lock(*handle->mutex);
      const faiss::IndexBinary& index = *handle->index;
      // Flat and HNSW read the codes at the key unchecked.
      if ((dynamic_cast<const faiss::IndexBinaryFlat*>(&index) || dynamic_cast<const faiss::IndexBinaryHNSW*>(&index)) &&
          (key < 0 || key >= index.ntotal)) {
        throw InvalidArgument("key " + std::to_string(key) + " is outside 0.." + std::to_string(index.ntotal) + " (ntotal)");
      }
      index.reconstruct(key, dest);
    };
    return RunJob(info.Env(), Async, std::move(work), NoResult, {out});
  }

  template <bool Async>
  Napi::Value Serialize(const Napi::CallbackInfo& info) {
    auto handle = Live(info.Env());
    auto bytes = std::make_shared<std::vector<uint8_t>>();
    Work work = [handle, bytes] {
      ReadLock lock(*handle->mutex);
      *bytes = SerializeIndex(*handle->index);
    };
    Finish finish = [bytes](Napi::Env env) -> Napi::Value { return BufferOf(env, bytes); };
    return RunJob(info.Env(), Async, std::move(work), std::move(finish), {});
  }

  template <bool Async>
  Napi::Value Write(const Napi::CallbackInfo& info) {
    auto handle = Live(info.Env());
    std::string path = info[0].As<Napi::String>();
    Work work = [handle, path] {
      ReadLock lock(*handle->mutex);
      WriteIndexAtomic(*handle->index, path);
    };
    return RunJob(info.Env(), Async, std::move(work), NoResult, {});
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    handle_.reset();
    ReportMemory(info.Env());
    return info.Env().Undefined();
  }

  std::shared_ptr<BinaryHandle> handle_;
  int d_ = 0;
  size_t codeSize_ = 1;
  int64_t reportedBytes_ = 0;
};

// Binary dimensions are bits, whole bytes of them.
int BitsArg(const Napi::CallbackInfo& info, size_t i) {
  const int d = info[i].As<Napi::Number>().Int32Value();
  if (d <= 0 || d % 8 != 0) throw Napi::RangeError::New(info.Env(), "d must be a positive multiple of 8 (bits)");
  return d;
}

Napi::Value Wrap(Napi::Env env, faiss::IndexBinary* index) {
  return BinaryIndexWrap::Create(env, std::make_shared<BinaryHandle>(std::shared_ptr<faiss::IndexBinary>(index), std::make_shared<IndexLock>()));
}

// An index built over one the caller holds, sharing its lock and keeping it alive.
template <class Make>
Napi::Value CreateOver(Napi::Env env, const std::shared_ptr<BinaryHandle>& part, Make&& make) {
  std::unique_lock lock(*part->mutex);
  faiss::IndexBinary* index = Guarded(env, [&]() -> faiss::IndexBinary* { return make(part->index.get()); });
  lock.unlock();
  auto handle = std::make_shared<BinaryHandle>(std::shared_ptr<faiss::IndexBinary>(index), part->mutex);
  handle->AddPart(part);
  return BinaryIndexWrap::Create(env, handle);
}

// createBinaryFlat(d)
Napi::Value CreateFlat(const Napi::CallbackInfo& info) {
  const int d = BitsArg(info, 0);
  return Wrap(info.Env(), Guarded(info.Env(), [d] { return new faiss::IndexBinaryFlat(d); }));
}

// createBinaryHNSW(d, M)
Napi::Value CreateHnsw(const Napi::CallbackInfo& info) {
  const int d = BitsArg(info, 0);
  const int M = info[1].As<Napi::Number>().Int32Value();
  return Wrap(info.Env(), Guarded(info.Env(), [d, M] { return new faiss::IndexBinaryHNSW(d, M); }));
}

// createBinaryIVF(quantizer, d, nlist)
Napi::Value CreateIvf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto quantizer = BinaryIndexWrap::HandleOf(env, info[0]);
  const int d = BitsArg(info, 1);
  const auto nlist = size_t(CountArg(info, 2));
  if (quantizer->index->d != d) throw Napi::RangeError::New(env, "quantizer has d=" + std::to_string(quantizer->index->d) + " bits, the index " + std::to_string(d));
  using Lists = faiss::ArrayInvertedLists;
  Guarded(env, [&] {
    CheckMemory(AddonData::Of(env)->memoryLimit, double(nlist) * (sizeof(Lists::codes[0]) + sizeof(Lists::ids[0])),
                "an IVF index with nlist=" + std::to_string(nlist));
  });
  return CreateOver(env, quantizer, [&](faiss::IndexBinary* q) { return new faiss::IndexBinaryIVF(q, d, nlist); });
}

// createBinaryIDMap(index, two)
Napi::Value CreateIdMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool two = info[1].ToBoolean();
  return CreateOver(env, BinaryIndexWrap::HandleOf(env, info[0]), [two](faiss::IndexBinary* sub) -> faiss::IndexBinary* {
    if (two) return new faiss::IndexBinaryIDMap2(sub);
    return new faiss::IndexBinaryIDMap(sub);
  });
}

// binaryFactory(d, description): FAISS's index_binary_factory, for the types faiss-native loads.
Napi::Value Factory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int d = BitsArg(info, 0);
  const std::string description = info[1].As<Napi::String>();
  std::unique_ptr<faiss::IndexBinary> index(Guarded(env, [&] {
    try {
      return faiss::index_binary_factory(d, description.c_str());
    } catch (const faiss::FaissException&) {
      Failure failure = DescribeCurrentException();
      failure.message = "cannot parse binary factory string '" + description + "': " + failure.message;
      throw FailureException(failure);
    }
  }));
  // BHash indexes and the like: FAISS makes them, but faiss-native neither searches nor loads them.
  Guarded(env, [&] { ValidateLoaded(*index); });
  return Wrap(env, index.release());
}

// binarize(x: Float32Array, d, thresholds?: Float32Array of d): a bit per value, 1 where it is
// above 0 (or its dimension's threshold), 8 to a byte, first in the high bit (numpy's
// packbits(x > 0, axis=-1)). On the calling thread: one pass over the floats, at memory speed.
Napi::Value Binarize(const Napi::CallbackInfo& info) {
  const int d = info[1].As<Napi::Number>().Int32Value();
  Napi::Float32Array x = VectorsArg(info, 0, d);
  const std::vector<float> zeros(info[2].IsTypedArray() ? 0 : size_t(d), 0.0f);
  const float* thresholds = info[2].IsTypedArray() ? FloatsArg(info, 2, size_t(d)).Data() : zeros.data();
  const size_t n = x.ElementLength() / size_t(d);
  const size_t rowBytes = (size_t(d) + 7) / 8;
  auto out = Napi::Uint8Array::New(info.Env(), n * rowBytes);
  const float* in = x.Data();
  uint8_t* bits = out.Data();
  for (size_t i = 0; i < n; i++) {
    const float* row = in + i * size_t(d);
    uint8_t* dest = bits + i * rowBytes;
    for (size_t j = 0; j < size_t(d); j++) dest[j / 8] |= uint8_t(row[j] > thresholds[j]) << (7 - j % 8);  // NaN: 0
  }
  return out;
}

// A job that yields a new index, wrapped on the main thread.
Napi::Value RunCreate(Napi::Env env, bool async, std::function<std::unique_ptr<faiss::IndexBinary>()> create, const std::vector<Napi::Object>& keepAlive) {
  auto made = std::make_shared<std::unique_ptr<faiss::IndexBinary>>();
  Work work = [made, create = std::move(create)] { *made = create(); };
  Finish finish = [made](Napi::Env env) -> Napi::Value { return Wrap(env, made->release()); };
  return RunJob(env, async, std::move(work), std::move(finish), keepAlive);
}

// readIndexBinary(path) / readIndexBinarySync
template <bool Async>
Napi::Value Read(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  return RunCreate(info.Env(), Async, [path] { return ReadIndexBinaryFile(path); }, {});
}

// deserializeIndexBinary(bytes) / deserializeIndexBinarySync
template <bool Async>
Napi::Value Deserialize(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "expected a Uint8Array");
  auto bytes = info[0].As<Napi::Uint8Array>();
  const uint8_t* data = bytes.Data();
  const size_t size = bytes.ByteLength();
  return RunCreate(info.Env(), Async, [data, size] { return DeserializeIndexBinary(data, size); }, {bytes});
}

}  // namespace

void ExportBinary(Napi::Env env, Napi::Object exports) {
  BinaryIndexWrap::Define(env);
  exports.Set("createBinaryFlat", Napi::Function::New<CreateFlat>(env, "createBinaryFlat"));
  exports.Set("createBinaryHNSW", Napi::Function::New<CreateHnsw>(env, "createBinaryHNSW"));
  exports.Set("createBinaryIVF", Napi::Function::New<CreateIvf>(env, "createBinaryIVF"));
  exports.Set("createBinaryIDMap", Napi::Function::New<CreateIdMap>(env, "createBinaryIDMap"));
  exports.Set("binarize", Napi::Function::New<Binarize>(env, "binarize"));
  exports.Set("binaryFactory", Napi::Function::New<Factory>(env, "binaryFactory"));
  exports.Set("readIndexBinary", Napi::Function::New<Read<true>>(env, "readIndexBinary"));
  exports.Set("readIndexBinarySync", Napi::Function::New<Read<false>>(env, "readIndexBinarySync"));
  exports.Set("deserializeIndexBinary", Napi::Function::New<Deserialize<true>>(env, "deserializeIndexBinary"));
  exports.Set("deserializeIndexBinarySync", Napi::Function::New<Deserialize<false>>(env, "deserializeIndexBinarySync"));
}

}  // namespace faiss_native

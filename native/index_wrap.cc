// IndexWrap: construction, state getters, add and search.
#include "index_wrap.h"

#include <faiss/IndexFlatCodes.h>
#include <faiss/index_factory.h>

#include <string>

#include "addon_data.h"
#include "errors.h"
#include "jobs.h"

namespace faiss_native {

namespace {

// Bytes of vector data the index holds natively (what V8 cannot see).
int64_t NativeBytes(const faiss::Index& index) {
  if (auto* flat = dynamic_cast<const faiss::IndexFlatCodes*>(&index)) return static_cast<int64_t>(flat->codes.size());
  return 0;
}

// Checks a Float32Array argument holds whole vectors of dimension d; lib/ has already said
// so in a friendlier way, this only guards the native boundary.
Napi::Float32Array VectorsArg(const Napi::CallbackInfo& info, size_t i, int d) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), "expected a Float32Array");
  }
  auto array = info[i].As<Napi::Float32Array>();
  if (array.ElementLength() % d != 0) throw Napi::RangeError::New(info.Env(), "vector length is not a multiple of d");
  return array;
}

}  // namespace

IndexHandle::IndexHandle(std::unique_ptr<faiss::Index> owned) : index(std::move(owned)) { Refresh(); }

void IndexHandle::Refresh() {
  ntotal = index->ntotal;
  isTrained = index->is_trained;
  bytes = NativeBytes(*index);
}

Napi::Function IndexWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "Index",
                                    {
                                        InstanceAccessor<&IndexWrap::GetD>("d"),
                                        InstanceAccessor<&IndexWrap::GetNtotal>("ntotal"),
                                        InstanceAccessor<&IndexWrap::GetIsTrained>("isTrained"),
                                        InstanceAccessor<&IndexWrap::GetMetricType>("metricType"),
                                        InstanceMethod<&IndexWrap::Add<true>>("add"),
                                        InstanceMethod<&IndexWrap::Add<false>>("addSync"),
                                        InstanceMethod<&IndexWrap::Search<true>>("search"),
                                        InstanceMethod<&IndexWrap::Search<false>>("searchSync"),
                                        InstanceMethod<&IndexWrap::Dispose>("dispose"),
                                    });
  AddonData::Of(env)->indexClass = Napi::Persistent(ctor);
  return ctor;
}

IndexWrap::IndexWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IndexWrap>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "Index(description: string, d: number, metric: number)");
  }
  std::string description = info[0].As<Napi::String>();
  d_ = info[1].As<Napi::Number>().Int32Value();
  auto metric = static_cast<faiss::MetricType>(info[2].As<Napi::Number>().Int32Value());
  std::unique_ptr<faiss::Index> index(Guarded(env, [&] { return faiss::index_factory(d_, description.c_str(), metric); }));
  handle_ = std::make_shared<IndexHandle>(std::move(index));
  ReportMemory(env);
}

IndexWrap::~IndexWrap() {
  if (reportedBytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -reportedBytes_);
}

std::shared_ptr<IndexHandle> IndexWrap::Live(Napi::Env env) const {
  if (!handle_) throw Napi::TypeError::New(env, "index is disposed");
  return handle_;
}

void IndexWrap::ReportMemory(Napi::Env env) {
  int64_t now = handle_ ? handle_->bytes.load() : 0;
  if (now != reportedBytes_) Napi::MemoryManagement::AdjustExternalMemory(env, now - reportedBytes_);
  reportedBytes_ = now;
}

Napi::Value IndexWrap::GetD(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), d_); }

Napi::Value IndexWrap::GetNtotal(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Live(info.Env())->ntotal.load()));
}

Napi::Value IndexWrap::GetIsTrained(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Live(info.Env())->isTrained.load());
}

Napi::Value IndexWrap::GetMetricType(const Napi::CallbackInfo& info) {
  // Set at construction and never changed, so reading it needs no lock.
  return Napi::Number::New(info.Env(), Live(info.Env())->index->metric_type);
}

template <bool Async>
Napi::Value IndexWrap::Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto handle = Live(env);
  Napi::Float32Array x = VectorsArg(info, 0, d_);
  const float* data = x.Data();  // honours the view's byteOffset
  auto n = static_cast<faiss::idx_t>(x.ElementLength() / d_);
  Work work = [handle, data, n] {
    std::unique_lock lock(handle->mutex);
    handle->index->add(n, data);
    handle->Refresh();
  };
  Finish finish = [this](Napi::Env env) {
    ReportMemory(env);
    return env.Undefined();
  };
  return RunJob(env, Async, std::move(work), std::move(finish), {x, Value()});
}

template <bool Async>
Napi::Value IndexWrap::Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto handle = Live(env);
  Napi::Float32Array x = VectorsArg(info, 0, d_);
  auto n = static_cast<faiss::idx_t>(x.ElementLength() / d_);
  auto k = static_cast<faiss::idx_t>(info[1].As<Napi::Number>().Int64Value());
  if (k < 1) throw Napi::RangeError::New(env, "k must be at least 1");
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
      !info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array) {
    throw Napi::TypeError::New(env, "search(x, k, distances: Float32Array, labels: BigInt64Array)");
  }
  auto distances = info[2].As<Napi::Float32Array>();
  auto labels = info[3].As<Napi::TypedArrayOf<int64_t>>();
  if (distances.ElementLength() < static_cast<size_t>(n * k) || labels.ElementLength() < static_cast<size_t>(n * k)) {
    throw Napi::RangeError::New(env, "result arrays are shorter than nq * k");
  }
  const float* data = x.Data();
  float* d = distances.Data();
  faiss::idx_t* ids = labels.Data();
  Work work = [handle, data, n, k, d, ids] {
    std::shared_lock lock(handle->mutex);
    handle->index->search(n, data, k, d, ids);
  };
  Finish finish = [](Napi::Env env) { return env.Undefined(); };
  return RunJob(env, Async, std::move(work), std::move(finish), {x, distances, labels});
}

Napi::Value IndexWrap::Dispose(const Napi::CallbackInfo& info) {
  // Running jobs hold their own reference to the handle; the index is freed when the last ends.
  handle_.reset();
  ReportMemory(info.Env());
  return info.Env().Undefined();
}

}  // namespace faiss_native

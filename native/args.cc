// Argument access and the finiteness scan.
#include "args.h"

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <string>

#include "errors.h"

namespace faiss_native {

namespace {

bool IsTyped(const Napi::Value& v, napi_typedarray_type type) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
}

}  // namespace

Napi::Float32Array VectorsArg(const Napi::CallbackInfo& info, size_t i, int d) {
  if (!IsTyped(info[i], napi_float32_array)) throw Napi::TypeError::New(info.Env(), "expected a Float32Array of vectors");
  auto array = info[i].As<Napi::Float32Array>();
  if (array.ElementLength() % d != 0) throw Napi::RangeError::New(info.Env(), "vector length is not a multiple of d");
  return array;
}

Napi::Float32Array FloatsArg(const Napi::CallbackInfo& info, size_t i, size_t length) {
  if (!IsTyped(info[i], napi_float32_array)) throw Napi::TypeError::New(info.Env(), "expected a Float32Array");
  auto array = info[i].As<Napi::Float32Array>();
  if (array.ElementLength() < length) throw Napi::RangeError::New(info.Env(), "Float32Array too short");
  return array;
}

Napi::TypedArrayOf<int64_t> IdsArg(const Napi::CallbackInfo& info, size_t i, size_t length) {
  if (!IsTyped(info[i], napi_bigint64_array)) throw Napi::TypeError::New(info.Env(), "expected a BigInt64Array");
  auto array = info[i].As<Napi::TypedArrayOf<int64_t>>();
  if (array.ElementLength() < length) throw Napi::RangeError::New(info.Env(), "BigInt64Array too short");
  return array;
}

Napi::Int32Array ProgressArg(const Napi::CallbackInfo& info, size_t i) {
  if (!IsTyped(info[i], napi_int32_array)) throw Napi::TypeError::New(info.Env(), "expected an Int32Array");
  auto array = info[i].As<Napi::Int32Array>();
  if (array.ElementLength() < 2) throw Napi::RangeError::New(info.Env(), "Int32Array too short");
  return array;
}

int64_t CountArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a number");
  int64_t v = info[i].As<Napi::Number>().Int64Value();
  if (v < 0) throw Napi::RangeError::New(info.Env(), "expected a non-negative integer");
  return v;
}

bool AnyNonFinite(const float* x, size_t count) {
  // Branch-free OR over the exponent bits vectorises.
  uint32_t bad = 0;
  for (size_t i = 0; i < count; i++) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    bad |= (bits & 0x7f800000u) == 0x7f800000u;
  }
  return bad != 0;
}

void CheckFinite(const float* x, size_t n, int d, const char* name) {
  const size_t total = n * size_t(d);
  if (!AnyNonFinite(x, total)) return;
  // The slow search for the first bad value runs only on failure.
  for (size_t i = 0; i < total; i++) {
    if (!std::isfinite(x[i])) {
      throw InvalidArgument(std::string(name) + " must hold finite numbers; got " + (std::isnan(x[i]) ? "NaN" : "Infinity") +
                            " at vector " + std::to_string(i / d) + ", component " + std::to_string(i % d));
    }
  }
}

}  // namespace faiss_native

namespace faiss_native {

void CheckMagnitude(const float* x, size_t n, int d, const char* name, float bound) {
  const size_t total = n * size_t(d);
  for (size_t i = 0; i < total; i++) {
    if (std::fabs(x[i]) > bound) {
      char value[32];
      std::snprintf(value, sizeof value, "%g", double(x[i]));
      throw InvalidArgument(std::string(name) + " holds " + value + " at vector " + std::to_string(i / d) + ", component " +
                            std::to_string(i % d) + "; HNSW indexes take values up to 1e15 in magnitude (larger ones overflow its distances)");
    }
  }
}

}  // namespace faiss_native

// Module entry point: one per SIMD variant, each linked to its own FAISS build.
#include <faiss/Index.h>
#include <faiss/utils/utils.h>
#include <napi.h>

#include "addon_data.h"
#include "errors.h"
#include "index_wrap.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace faiss_native;
  env.SetInstanceData(new AddonData());
  exports.Set("Index", IndexWrap::Define(env));
  exports.Set("setErrorClass", Napi::Function::New<SetErrorClass>(env, "setErrorClass"));
  exports.Set("faissVersion", Napi::String::New(env, faiss::get_version()));
  // What the linked FAISS library was compiled with, e.g. "OPTIMIZE AVX512 ".
  exports.Set("compileOptions", Napi::String::New(env, faiss::get_compile_options()));
  return exports;
}

}  // namespace

NODE_API_MODULE(faiss_native, Init)

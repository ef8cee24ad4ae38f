// Module entry point: one per SIMD variant, each linked to its own FAISS build.
#include <faiss/utils/distances.h>
#include <faiss/utils/utils.h>
#include <dlfcn.h>
#include <napi.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <cstdlib>
#include <mutex>

#include "addon_data.h"
#include "args.h"
#include "errors.h"
#include "index_create.h"
#include "index_wrap.h"
#include "memory_limit.h"
#include "split_search.h"
#include "threads.h"

namespace {

using namespace faiss_native;

// normalizeL2(x, d): scales each vector to unit L2 norm, in place (faiss.normalize_L2).
Napi::Value NormalizeL2(const Napi::CallbackInfo& info) {
  int d = info[1].As<Napi::Number>().Int32Value();
  Napi::Float32Array x = VectorsArg(info, 0, d);
  faiss::fvec_renorm_L2(size_t(d), x.ElementLength() / d, x.Data());
  return x;
}

// glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB); after
// that, index-sized blocks come from the heap, and a server that keeps reloading an index grew
// without bound (scripts/check/soak.mjs: RSS 130 -> 198 MiB in 90 s). A fixed threshold keeps large
// blocks mapped, so freeing an old index returns its memory. A MALLOC_MMAP_THRESHOLD_ set by
// the user wins.
void FixMmapThreshold() {
#ifdef __GLIBC__
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, 4 << 20);
  });
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  FixMmapThreshold();
  env.SetInstanceData(new AddonData());
  IndexWrap::Define(env);
  ExportCreators(env, exports);
  exports.Set("setErrorClass", Napi::Function::New<SetErrorClass>(env, "setErrorClass"));
  exports.Set("normalizeL2", Napi::Function::New<NormalizeL2>(env, "normalizeL2"));
  exports.Set("setMemoryLimit", Napi::Function::New<SetMemoryLimit>(env, "setMemoryLimit"));
  exports.Set("setNumThreads", Napi::Function::New<SetNumThreads>(env, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New<GetNumThreads>(env, "getNumThreads"));
  exports.Set("flatSplitSearches", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(FlatSplitSearches()));
  }, "flatSplitSearches"));
  exports.Set("ivfSplitSearches", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(IvfSplitSearches()));
  }, "ivfSplitSearches"));
  exports.Set("openblasCore", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    // Looked up, not linked: FAISS built against another BLAS has no such symbol.
    using CoreName = char* (*)();
    auto corename = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    return Napi::String::New(info.Env(), corename ? corename() : "");
  }, "openblasCore"));
  exports.Set("faissVersion", Napi::String::New(env, faiss::get_version()));
  // What the linked FAISS library was compiled with, e.g. "OPTIMIZE AVX512 ".
  exports.Set("compileOptions", Napi::String::New(env, faiss::get_compile_options()));
  return exports;
}

}  // namespace

NODE_API_MODULE(faiss_native, Init)

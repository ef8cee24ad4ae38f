// Module entry point: one per SIMD variant, each linked to its own FAISS build.
#include <faiss/utils/distances.h>
#include <faiss/utils/utils.h>
#include <napi.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <utility>

#include "addon_data.h"
#include "args.h"
#include "binary_index.h"
#include "errors.h"
#include "filtered_search.h"
#include "flat_kernel.h"
#include "index_create.h"
#include "index_wrap.h"
#include "ivf_sq_scan.h"
#include "memory_limit.h"
#include "merge_results.h"
#include "os.h"
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

// The CPU's SIMD features the variants need, named as /proc/cpuinfo names them, for the
// loader where there is no /proc/cpuinfo (Windows). GCC's checks include whether the OS saves
// the AVX and AVX-512 registers.
Napi::Value CpuFlags(const Napi::CallbackInfo& info) {
  Napi::Array flags = Napi::Array::New(info.Env());
#if defined(__x86_64__)
  // GCC 10 (the Debian 11 prebuilds) cannot ask __builtin_cpu_supports for F16C: CPUID leaf 1.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
  const std::pair<const char*, bool> features[] = {
      {"avx2", __builtin_cpu_supports("avx2")},         {"fma", __builtin_cpu_supports("fma")},
      {"f16c", f16c},                                   {"popcnt", __builtin_cpu_supports("popcnt")},
      {"avx512f", __builtin_cpu_supports("avx512f")},   {"avx512cd", __builtin_cpu_supports("avx512cd")},
      {"avx512vl", __builtin_cpu_supports("avx512vl")}, {"avx512dq", __builtin_cpu_supports("avx512dq")},
      {"avx512bw", __builtin_cpu_supports("avx512bw")},
  };
  for (const auto& [name, present] : features) {
    if (present) flags.Set(flags.Length(), name);
  }
#endif
  return flags;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  os::TuneAllocator();
  env.SetInstanceData(new AddonData());
  IndexWrap::Define(env);
  ExportCreators(env, exports);
  ExportBinary(env, exports);
  exports.Set("setErrorClass", Napi::Function::New<SetErrorClass>(env, "setErrorClass"));
  exports.Set("cpuFlags", Napi::Function::New<CpuFlags>(env, "cpuFlags"));
  exports.Set("normalizeL2", Napi::Function::New<NormalizeL2>(env, "normalizeL2"));
  exports.Set("mergeResults", Napi::Function::New<MergeResults>(env, "mergeResults"));
  exports.Set("prepareFilter", Napi::Function::New<PrepareFilter>(env, "prepareFilter"));
  exports.Set("setMemoryLimit", Napi::Function::New<SetMemoryLimit>(env, "setMemoryLimit"));
  exports.Set("setNumThreads", Napi::Function::New<SetNumThreads>(env, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New<GetNumThreads>(env, "getNumThreads"));
  exports.Set("flatSplitSearches", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(FlatSplitSearches()));
  }, "flatSplitSearches"));
  exports.Set("ivfSplitSearches", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(IvfSplitSearches()));
  }, "ivfSplitSearches"));
  exports.Set("flatKernelApplies", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    const auto metric = faiss::MetricType(info[0].As<Napi::Number>().Int32Value());
    return Napi::Boolean::New(info.Env(), FlatKernel(metric, info[1].As<Napi::Number>().Uint32Value()) != nullptr);
  }, "flatKernelApplies"));
  exports.Set("ivfSqScanners", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(IvfSqScanners()));
  }, "ivfSqScanners"));
  exports.Set("allowedRowSearches", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(AllowedRowSearches()));
  }, "allowedRowSearches"));
  exports.Set("widenedSearches", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(WidenedSearches()));
  }, "widenedSearches"));
  exports.Set("openblasCore", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), os::OpenblasCore());
  }, "openblasCore"));
  exports.Set("faissVersion", Napi::String::New(env, faiss::get_version()));
  // What the linked FAISS library was compiled with, e.g. "OPTIMIZE AVX512 ".
  exports.Set("compileOptions", Napi::String::New(env, faiss::get_compile_options()));
  return exports;
}

}  // namespace

NODE_API_MODULE(faiss_native, Init)

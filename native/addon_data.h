// Per-environment state (main thread and each worker thread get their own).
#pragma once

#include <napi.h>

#include <cstddef>

namespace faiss_native {

struct AddonData {
  Napi::FunctionReference errorClass;  // lib/errors.ts FaissError
  Napi::FunctionReference indexClass;  // IndexWrap's constructor
  Napi::FunctionReference binaryIndexClass;  // binary_index.cc's
  size_t memoryLimit = size_t(1) << 30;  // lib/memory.ts sets it at load (memory_limit.h)

  static AddonData* Of(Napi::Env env) { return env.GetInstanceData<AddonData>(); }
};

}  // namespace faiss_native

// Per-environment state (main thread and each worker thread get their own).
#pragma once

#include <napi.h>

namespace faiss_native {

struct AddonData {
  Napi::FunctionReference errorClass;  // lib/errors.ts FaissError
  Napi::FunctionReference indexClass;  // IndexWrap's constructor

  static AddonData* Of(Napi::Env env) { return env.GetInstanceData<AddonData>(); }
};

}  // namespace faiss_native

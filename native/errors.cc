// Exception translation: FAISS, allocation and other C++ failures to JS errors.
#include "errors.h"

#include <faiss/impl/FaissException.h>

#include <new>
#include <string>

#include "addon_data.h"
#include "load_guard.h"

namespace faiss_native {

Failure DescribeCurrentException() {
  try {
    throw;
  } catch (const InvalidArgument& e) {
    return {"INVALID_ARGUMENT", e.what()};
  } catch (const FailureException& e) {
    return e.failure;
  } catch (const faiss::FaissException& e) {
    // FAISS prefixes its message with the failing check and source location; keep all of it.
    return {"FAISS_ERROR", e.what()};
  } catch (const LoadBudgetExceeded& e) {
    return {"CORRUPT_INDEX", "index data asks for " + std::to_string(e.requested) +
                                 " bytes at once, more than its size can hold (a corrupted count or size)"};
  } catch (const std::bad_alloc&) {
    return {"OUT_OF_MEMORY", "out of memory"};
  } catch (const std::exception& e) {
    return {"NATIVE_ERROR", e.what()};
  } catch (...) {
    return {"NATIVE_ERROR", "unknown C++ exception"};
  }
}

Napi::Error ToJsError(Napi::Env env, const Failure& failure) {
  if (failure.code == "INVALID_ARGUMENT") return Napi::RangeError::New(env, failure.message);
  AddonData* data = AddonData::Of(env);
  if (data == nullptr || data->errorClass.IsEmpty()) {
    Napi::Error error = Napi::Error::New(env, failure.message);
    error.Set("code", failure.code);
    return error;
  }
  Napi::Object error = data->errorClass.New({Napi::String::New(env, failure.message), Napi::String::New(env, failure.code)});
  return Napi::Error(env, error);
}

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  AddonData::Of(info.Env())->errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

}  // namespace faiss_native

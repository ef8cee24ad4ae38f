// Exception translation: FAISS, allocation and other C++ failures to JS errors.
#include "errors.h"

#include <faiss/impl/FaissException.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <regex>
#include <string>

#include "addon_data.h"
#include "load_guard.h"

namespace faiss_native {

namespace {

// FAISS's messages read "Error in <function> at <source file>:<line>: Error: '<check>' failed"
// or "...: <text>". The message leads with the cause; the whole text stays in faissMessage.
Failure FromFaiss(const faiss::FaissException& e) {
  const std::string full = e.what();
  std::string cause = full;
  if (full.rfind("Error in ", 0) == 0) {
    // The source location ends with ":<line>: "; the cause follows it.
    static const std::regex location(R"(:\d+: )");
    std::smatch m;
    if (std::regex_search(full, m, location)) cause = m.suffix();
  }
  static const std::regex check(R"(^Error: '(.*)' failed:?\s*(.*)$)");
  std::smatch m;
  if (std::regex_match(cause, m, check)) {
    cause = "FAISS's check " + m[1].str() + " failed" + (m[2].length() > 0 ? ": " + m[2].str() : "");
  }
  return {"FAISS_ERROR", cause, full};
}

}  // namespace

void ThrowFileError(const std::string& verb, const std::string& path, const std::string& given) {
  const int err = errno;
  std::string why = std::strerror(err);
  if (err == ENOENT && verb != "read") why = "the folder does not exist";
  if (err == ENOENT && verb == "read") why = "no such file";
  if (!given.empty()) why = given;
  throw FailureException({"IO_ERROR", "cannot " + verb + " " + path + ": " + why, ""});
}

Failure DescribeCurrentException() {
  try {
    throw;
  } catch (const InvalidArgument& e) {
    return {"INVALID_ARGUMENT", e.what(), ""};
  } catch (const FailureException& e) {
    return e.failure;
  } catch (const faiss::FaissException& e) {
    return FromFaiss(e);
  } catch (const LoadBudgetExceeded& e) {
    return {"CORRUPT_INDEX",
            "index data asks for " + std::to_string(e.requested) + " bytes at once, more than its size can hold (a corrupted count or size)",
            ""};
  } catch (const std::bad_alloc&) {
    return {"OUT_OF_MEMORY", "out of memory", ""};
  } catch (const std::exception& e) {
    return {"NATIVE_ERROR", e.what(), ""};
  } catch (...) {
    return {"NATIVE_ERROR", "unknown C++ exception", ""};
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
  if (!failure.faissMessage.empty()) error.Set("faissMessage", failure.faissMessage);
  return Napi::Error(env, error);
}

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  AddonData::Of(info.Env())->errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

}  // namespace faiss_native

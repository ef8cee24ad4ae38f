// Turns every C++ exception into a JS error, so no FAISS failure can abort the process.
#pragma once

#include <napi.h>

#include <exception>
#include <stdexcept>
#include <string>

namespace faiss_native {

// Bad input found by the native layer itself (e.g. NaN in vectors); becomes a RangeError.
struct InvalidArgument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// What went wrong, captured on any thread; becomes a JS error on the main thread.
struct Failure {
  std::string code;  // FAISS_ERROR, CORRUPT_INDEX, FILE_CHANGED, IO_ERROR, OUT_OF_MEMORY, NATIVE_ERROR, INVALID_ARGUMENT
  std::string message;
  // FAISS's own text with its function and source location, when FAISS threw (JS: faissMessage).
  std::string faissMessage = {};
};

// A failure rethrown after its original exception had to be discarded (see index_io.cc).
struct FailureException : std::exception {
  explicit FailureException(Failure failure) : failure(std::move(failure)) {}
  const char* what() const noexcept override { return failure.message.c_str(); }
  Failure failure;
};

// A file operation that failed with errno: "cannot <verb> <path>: <why>" (IO_ERROR), where
// why is errno's meaning unless given.
[[noreturn]] void ThrowFileError(const std::string& verb, const std::string& path, const std::string& why = "");

// Classifies the exception being handled (InvalidArgument, FaissException, bad_alloc, ...).
Failure DescribeCurrentException();

// INVALID_ARGUMENT becomes a RangeError; anything else a FaissError (the class lib/errors.ts
// registers at load time) with code and message.
Napi::Error ToJsError(Napi::Env env, const Failure& failure);

// Runs fn on the main thread, rethrowing any C++ exception as a JS error.
template <typename Fn>
auto Guarded(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw ToJsError(env, DescribeCurrentException());
  }
}

// Exported as setErrorClass(FaissError): remembers the JS class used by ToJsError.
Napi::Value SetErrorClass(const Napi::CallbackInfo& info);

}  // namespace faiss_native

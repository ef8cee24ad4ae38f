// native/os.h on Windows (MinGW-w64), and the delay-load hook that binds Node-API to the
// running executable.
#ifdef _WIN32

#include <windows.h>
#include <delayimp.h>
#include <io.h>
#include <malloc.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>

#include "os.h"

// Node-API comes from a delay-load import library of node.exe (scripts/release/windows-
// toolchain.mjs): its functions bind on first call, here, to the executable that loaded the
// addon, whatever its name (a renamed node.exe, Electron), as node-gyp's win_delay_load_hook does.
static FARPROC WINAPI BindNodeApiToHost(unsigned event, PDelayLoadInfo info) {
  if (event == dliNotePreLoadLibrary && _stricmp(info->szDll, "node.exe") == 0) return FARPROC(GetModuleHandleW(nullptr));
  return nullptr;
}
extern "C" {
PfnDliHook __pfnDliNotifyHook2 = BindNodeApiToHost;
}

namespace faiss_native::os {

namespace {

std::wstring Wide(const std::string& utf8) {
  const int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), int(utf8.size()), nullptr, 0);
  std::wstring out(size_t(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), int(utf8.size()), out.data(), n);
  return out;
}

HANDLE HandleOf(FILE* file) { return HANDLE(_get_osfhandle(_fileno(file))); }

void SetErrnoFrom(DWORD error) {
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      errno = ENOENT;
      break;
    case ERROR_DISK_FULL:
      errno = ENOSPC;
      break;
    default:
      errno = EACCES;
  }
}

}  // namespace

// ---- Files

FILE* OpenFile(const std::string& path, const char* mode) {
  return _wfopen(Wide(path).c_str(), Wide(mode).c_str());
}

bool StampOf(FILE* file, FileStamp* stamp) {
  LARGE_INTEGER size;
  FILETIME written;
  if (!GetFileSizeEx(HandleOf(file), &size) || !GetFileTime(HandleOf(file), nullptr, nullptr, &written)) return false;
  const int64_t ticks = int64_t((uint64_t(written.dwHighDateTime) << 32) | written.dwLowDateTime);  // 100 ns
  *stamp = {uint64_t(size.QuadPart), ticks * 100};
  return true;
}

bool SyncFile(FILE* file) { return FlushFileBuffers(HandleOf(file)) != 0; }

bool RenameOver(const std::string& from, const std::string& to, std::string* why) {
  const std::wstring source = Wide(from), target = Wide(to);
  DWORD error = 0;
  // A virus scanner or indexer that opened the new file a moment ago makes the rename fail for
  // a moment; retried for about 0.1 s. (A target mapped by an index fails the same way, for as
  // long as the index lives, so the retries stay short.)
  for (int attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) Sleep(20);
    if (MoveFileExW(source.c_str(), target.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) return true;
    error = GetLastError();
    if (error != ERROR_ACCESS_DENIED && error != ERROR_SHARING_VIOLATION && error != ERROR_LOCK_VIOLATION) break;
  }
  SetErrnoFrom(error);
  if (error == ERROR_ACCESS_DENIED || error == ERROR_SHARING_VIOLATION || error == ERROR_LOCK_VIOLATION ||
      error == ERROR_USER_MAPPED_FILE) {
    *why = "the file is in use: Windows cannot replace a file while it is memory-mapped (an index read from it with "
           "{ mmap: true } and not disposed) or open in another program; write to a new file name instead";
  }
  return false;
}

long ProcessId() { return long(GetCurrentProcessId()); }

bool ProcessGone(long pid) {
  HANDLE process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, DWORD(pid));
  if (process == nullptr) return GetLastError() == ERROR_INVALID_PARAMETER;  // no such process
  DWORD code = 0;
  const bool gone = GetExitCodeProcess(process, &code) && code != STILL_ACTIVE;
  CloseHandle(process);
  return gone;
}

// ---- Locks

static_assert(sizeof(SRWLOCK) == sizeof(void*), "an SRWLOCK is one pointer");
#define SRW reinterpret_cast<PSRWLOCK>(&srw_)
void SharedMutex::lock() { AcquireSRWLockExclusive(SRW); }
bool SharedMutex::try_lock() { return TryAcquireSRWLockExclusive(SRW) != 0; }
void SharedMutex::unlock() { ReleaseSRWLockExclusive(SRW); }
void SharedMutex::lock_shared() { AcquireSRWLockShared(SRW); }
bool SharedMutex::try_lock_shared() { return TryAcquireSRWLockShared(SRW) != 0; }
void SharedMutex::unlock_shared() { ReleaseSRWLockShared(SRW); }
#undef SRW

// ---- Memory

size_t PageSize() {
  SYSTEM_INFO info;
  GetSystemInfo(&info);
  return info.dwPageSize;
}

// The C runtime has no aligned_alloc; _aligned_malloc's blocks must go back through
// _aligned_free, so every block is one of them.
void* Allocate(size_t bytes, size_t alignment) { return _aligned_malloc(bytes, std::max<size_t>(alignment, 16)); }

void Free(void* p) noexcept { _aligned_free(p); }

// Nothing to tune: the Windows heap gives blocks over 512 KiB (64-bit) their own virtual
// memory, released when they are freed, so a reloaded index's memory goes back by itself.
void TuneAllocator() {}

void ReturnFreeMemory() { _heapmin(); }

bool PopulateForWrite(void*, size_t) { return false; }

// ---- Fault guards

namespace {

// An integer division fault inside RunCatchingDivideFault: the vectored handler resumes the
// thread in JumpBack (stack aligned as for a call), which returns to the __builtin_setjmp.
thread_local void** tDivideJump = nullptr;

[[noreturn]] __attribute__((noinline)) void JumpBack() { __builtin_longjmp(tDivideJump, 1); }

LONG CALLBACK OnException(EXCEPTION_POINTERS* e) {
  const DWORD code = e->ExceptionRecord->ExceptionCode;
  if ((code != EXCEPTION_INT_DIVIDE_BY_ZERO && code != EXCEPTION_INT_OVERFLOW) || tDivideJump == nullptr) {
    return EXCEPTION_CONTINUE_SEARCH;
  }
  CONTEXT* c = e->ContextRecord;
  c->Rsp = (c->Rsp & ~DWORD64(15)) - 8;
  c->Rip = DWORD64(&JumpBack);
  return EXCEPTION_CONTINUE_EXECUTION;
}

}  // namespace

bool RunCatchingDivideFault(const std::function<void()>& body) {
  static std::once_flag once;
  std::call_once(once, [] { AddVectoredExceptionHandler(1, OnException); });
  void* jump[5];
  if (__builtin_setjmp(jump) != 0) {
    tDivideJump = nullptr;
    return false;
  }
  tDivideJump = jump;
  try {
    body();
  } catch (...) {
    tDivideJump = nullptr;
    throw;
  }
  tDivideJump = nullptr;
  return true;
}

// Windows refuses to truncate a file while a view of it is mapped (ERROR_USER_MAPPED_FILE), so
// a mapped read can never run past the end of its file: nothing to watch.
int WatchMapping(const void*, size_t) { return -1; }
bool MappingFaulted(int) { return false; }
void UnwatchMapping(int) {}

// ---- BLAS

std::string OpenblasCore() {
  // scipy-openblas's DLL, which the Windows build ships beside the .node (its names prefixed).
  HMODULE blas = GetModuleHandleW(L"libscipy_openblas.dll");
  using CoreName = char* (*)();
  auto corename = blas ? reinterpret_cast<CoreName>(GetProcAddress(blas, "scipy_openblas_get_corename")) : nullptr;
  return corename ? corename() : "";
}

}  // namespace faiss_native::os

#endif  // _WIN32

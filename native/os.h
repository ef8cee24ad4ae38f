// What the binding asks of the operating system, in one place: files, memory, the fault
// guards, and the BLAS library beside the addon. One implementation per OS:
//   os_posix.cc    Linux, glibc and musl
//   os_windows.cc  Windows (MinGW-w64)
// Each file compiles to nothing on the other OS, so both are always in native/sources.json.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#ifndef _WIN32
#include <shared_mutex>
#endif

namespace faiss_native::os {

// ---- Files (paths are UTF-8). Failures set errno, which ThrowFileError describes.

// fopen, with a UTF-8 path on Windows too.
FILE* OpenFile(const std::string& path, const char* mode);

// What identifies the contents of an open file: its size and modification time.
struct FileStamp {
  uint64_t size = 0;
  int64_t modifiedNs = 0;
  bool operator==(const FileStamp& o) const { return size == o.size && modifiedNs == o.modifiedNs; }
};
bool StampOf(FILE* file, FileStamp* stamp);

// Flushes the file's data to the disk (after fflush).
bool SyncFile(FILE* file);

// Renames `from` over `to` in one step, so readers see the old file or the new one, never a
// part; then makes the rename durable. Windows cannot replace a file while it is memory-mapped:
// `why` then says so (otherwise it is left empty and errno is set).
bool RenameOver(const std::string& from, const std::string& to, std::string* why);

long ProcessId();
// True when no process has this id any more (a temp file's writer that was killed).
bool ProcessGone(long pid);

// ---- Locks

// The reader-writer lock of each index. On Windows, libstdc++'s std::shared_mutex over
// winpthreads allocates its lock on first use and never frees it (its destructor is the
// default one, as for a statically initialised lock): about 800 bytes lost with every index
// (scripts/check/leak-check.mjs under Wine). Windows' slim reader-writer lock allocates nothing.
#ifdef _WIN32
class SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;
  void lock();
  bool try_lock();
  void unlock();
  void lock_shared();
  bool try_lock_shared();
  void unlock_shared();

 private:
  void* srw_ = nullptr;  // an SRWLOCK: one pointer, zero when free (SRWLOCK_INIT)
};
#else
using SharedMutex = std::shared_mutex;
#endif

// ---- Memory

size_t PageSize();

// The allocator of the binding's operator new/delete (load_guard.cc): every block it returns
// is freed with Free, whatever its alignment.
void* Allocate(size_t bytes, size_t alignment);
void Free(void* p) noexcept;

// Settings that keep a server that keeps reloading indexes from growing (once per process).
void TuneAllocator();
// Gives the heap's free memory back to the system (after shrinking an index's lists).
void ReturnFreeMemory();

// Asks the system to map the pages of [begin, begin + bytes) for writing now (on the calling
// thread), instead of one fault at a time later; false where it cannot.
bool PopulateForWrite(void* begin, size_t bytes);

// ---- Fault guards

// Runs `body`; an integer division fault in it (FAISS dividing by a size read from a corrupt
// file) abandons it and returns false. Frames of `body` are left without running their
// destructors, as a signal handler's jump would: the caller frees what they built.
bool RunCatchingDivideFault(const std::function<void()>& body);

// A memory-mapped file's range, watched so that a read the file can no longer back (it was
// truncated while mapped) does not kill the process: it reads zeros and the range is marked
// faulted. Returns a handle, or -1 where the system itself forbids truncating a mapped file
// (Windows).
int WatchMapping(const void* begin, size_t bytes);
bool MappingFaulted(int handle);
void UnwatchMapping(int handle);

// ---- BLAS

// OpenBLAS's kernels in use (e.g. "Haswell"), or "" when the BLAS loaded is not OpenBLAS.
std::string OpenblasCore();

}  // namespace faiss_native::os

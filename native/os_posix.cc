// native/os.h on Linux (glibc and musl).
#ifndef _WIN32

#include <dlfcn.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "os.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older C headers (the Debian 11 prebuild's) lack it
#endif

namespace faiss_native::os {

// ---- Files

FILE* OpenFile(const std::string& path, const char* mode) { return std::fopen(path.c_str(), mode); }

bool StampOf(FILE* file, FileStamp* stamp) {
  struct stat st;
  if (fstat(fileno(file), &st) != 0) return false;
  *stamp = {uint64_t(st.st_size), int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  return true;
}

bool SyncFile(FILE* file) { return fsync(fileno(file)) == 0; }

bool RenameOver(const std::string& from, const std::string& to, std::string*) {
  if (std::rename(from.c_str(), to.c_str()) != 0) return false;
  // Make the rename itself durable.
  const std::string dir = to.find('/') == std::string::npos ? "." : to.substr(0, to.rfind('/') + 1);
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  return true;
}

long ProcessId() { return long(getpid()); }

bool ProcessGone(long pid) { return kill(pid_t(pid), 0) != 0 && errno == ESRCH; }

// ---- Memory

size_t PageSize() { return size_t(sysconf(_SC_PAGESIZE)); }

void* Allocate(size_t bytes, size_t alignment) {
  if (alignment <= alignof(std::max_align_t)) return std::malloc(bytes);
  return std::aligned_alloc(alignment, (bytes + alignment - 1) / alignment * alignment);
}

void Free(void* p) noexcept { std::free(p); }

// glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB); after
// that, index-sized blocks come from the heap, and a server that keeps reloading an index grew
// without bound (scripts/check/soak.mjs: RSS 130 -> 198 MiB in 90 s). A fixed threshold keeps
// large blocks mapped, so freeing an old index returns its memory. A MALLOC_MMAP_THRESHOLD_ set
// by the user wins. musl's allocator maps large blocks and unmaps them when freed as it is.
void TuneAllocator() {
#ifdef __GLIBC__
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, 4 << 20);
  });
#endif
}

void ReturnFreeMemory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

// A kernel before 5.14 refuses the advice (EINVAL) and the faults happen as before.
bool PopulateForWrite(void* begin, size_t bytes) { return madvise(begin, bytes, MADV_POPULATE_WRITE) == 0; }

// ---- Fault guards

namespace {

// SIGFPE during RunCatchingDivideFault jumps back to it; anywhere else it keeps the action
// it had before.
thread_local sigjmp_buf* tDivideJump = nullptr;
struct sigaction previousSigfpe;

void OnSigfpe(int sig, siginfo_t* info, void* context) {
  if (tDivideJump != nullptr) siglongjmp(*tDivideJump, 1);
  if (previousSigfpe.sa_flags & SA_SIGINFO) {
    previousSigfpe.sa_sigaction(sig, info, context);
  } else {
    sigaction(SIGFPE, &previousSigfpe, nullptr);  // the fault repeats on return, with the action it had
  }
}

// The mapped ranges, readable from a signal handler: fixed slots of atomics, no locks.
struct Range {
  std::atomic<uintptr_t> begin{0}, end{0};  // begin 0: slot free
  std::atomic<bool> faulted{false};
};
constexpr int kSlots = 4096;
Range ranges[kSlots];
struct sigaction previousSigbus;

// A read past the end of a truncated file: map zeros over the rest of the range so that the
// read (and every later one) completes, and mark the range. Faults elsewhere go to the handler
// that was there before.
void OnSigbus(int sig, siginfo_t* info, void* context) {
  const auto address = uintptr_t(info->si_addr);
  for (Range& range : ranges) {
    const uintptr_t begin = range.begin.load(std::memory_order_acquire), end = range.end.load(std::memory_order_acquire);
    if (begin == 0 || address < begin || address >= end) continue;
    const uintptr_t page = address & ~uintptr_t(sysconf(_SC_PAGESIZE) - 1);
    // mmap is a plain system call, safe here in practice; the zeros replace only pages past
    // the new end of file (everything above a missing page is missing too).
    if (mmap(reinterpret_cast<void*>(page), end - page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
      range.faulted.store(true, std::memory_order_release);
      return;
    }
    break;
  }
  if (previousSigbus.sa_flags & SA_SIGINFO) {
    previousSigbus.sa_sigaction(sig, info, context);
  } else if (previousSigbus.sa_handler != SIG_DFL && previousSigbus.sa_handler != SIG_IGN) {
    previousSigbus.sa_handler(sig);
  } else {
    sigaction(SIGBUS, &previousSigbus, nullptr);  // the fault repeats on return, now with the default action
  }
}

void InstallHandler(int sig, void (*handler)(int, siginfo_t*, void*), int flags, struct sigaction* previous) {
  struct sigaction action = {};
  action.sa_sigaction = handler;
  action.sa_flags = SA_SIGINFO | flags;
  sigemptyset(&action.sa_mask);
  if (sigaction(sig, &action, previous) != 0) throw std::runtime_error(std::string("cannot install a signal handler: ") + std::strerror(errno));
}

}  // namespace

bool RunCatchingDivideFault(const std::function<void()>& body) {
  static std::once_flag once;
  std::call_once(once, [] { InstallHandler(SIGFPE, OnSigfpe, SA_NODEFER, &previousSigfpe); });
  sigjmp_buf jump;
  if (sigsetjmp(jump, 1) != 0) {
    tDivideJump = nullptr;
    return false;
  }
  tDivideJump = &jump;
  try {
    body();
  } catch (...) {
    tDivideJump = nullptr;
    throw;
  }
  tDivideJump = nullptr;
  return true;
}

int WatchMapping(const void* begin, size_t bytes) {
  static std::once_flag once;
  std::call_once(once, [] { InstallHandler(SIGBUS, OnSigbus, SA_ONSTACK | SA_RESTART, &previousSigbus); });
  const size_t page = PageSize();
  const auto from = uintptr_t(begin), to = from + (bytes + page - 1) / page * page;
  for (int i = 0; i < kSlots; i++) {
    uintptr_t free = 0;
    if (ranges[i].begin.compare_exchange_strong(free, from)) {
      ranges[i].faulted.store(false);
      ranges[i].end.store(to, std::memory_order_release);
      return i;
    }
  }
  throw std::runtime_error("more than " + std::to_string(kSlots) + " memory-mapped index files are open");
}

bool MappingFaulted(int handle) { return handle >= 0 && ranges[handle].faulted.load(std::memory_order_acquire); }

void UnwatchMapping(int handle) {
  if (handle < 0) return;
  ranges[handle].end.store(0, std::memory_order_release);
  ranges[handle].begin.store(0, std::memory_order_release);
}

// ---- BLAS

std::string OpenblasCore() {
  // Looked up, not linked: FAISS built against another BLAS has no such symbol. Through this
  // module's own handle, whose dependencies dlsym searches (on musl RTLD_DEFAULT sees only the
  // global scope, which a .node loaded by Node is not part of).
  Dl_info self;
  void* handle = dladdr(reinterpret_cast<void*>(&OpenblasCore), &self) ? dlopen(self.dli_fname, RTLD_LAZY | RTLD_NOLOAD) : nullptr;
  using CoreName = char* (*)();
  auto corename = reinterpret_cast<CoreName>(dlsym(handle ? handle : RTLD_DEFAULT, "openblas_get_corename"));
  std::string core = corename ? corename() : "";
  if (handle) dlclose(handle);
  return core;
}

}  // namespace faiss_native::os

#endif  // !_WIN32

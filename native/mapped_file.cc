// MappedFile, and the SIGBUS handler that keeps a truncated mapped file from killing the process.
#include "mapped_file.h"

#include <faiss/impl/FaissAssert.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "errors.h"

namespace faiss_native {

namespace {

// The mapped ranges, readable from a signal handler: fixed slots of atomics, no locks.
struct Range {
  std::atomic<uintptr_t> begin{0}, end{0};  // begin 0: slot free
  std::atomic<bool> faulted{false};
};
constexpr int kSlots = 4096;
Range ranges[kSlots];
struct sigaction previous;

// A read past the end of a truncated file: map zeros over the rest of the range so that the
// read (and every later one) completes, and mark the range; the job then reports the change
// instead of its results. Faults elsewhere go to the handler that was there before.
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
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(sig, info, context);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
  } else {
    sigaction(SIGBUS, &previous, nullptr);  // the fault repeats on return, now with the default action
  }
}

void InstallHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action = {};
    action.sa_sigaction = OnSigbus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGBUS, &action, &previous) != 0) FAISS_THROW_FMT("cannot install a SIGBUS handler: %s", std::strerror(errno));
  });
}

int Register(uintptr_t begin, uintptr_t end) {
  for (int i = 0; i < kSlots; i++) {
    uintptr_t free = 0;
    if (ranges[i].begin.compare_exchange_strong(free, begin)) {
      ranges[i].faulted.store(false);
      ranges[i].end.store(end, std::memory_order_release);
      return i;
    }
  }
  FAISS_THROW_FMT("more than %d memory-mapped index files are open", kSlots);
}

void Unregister(int slot) {
  ranges[slot].end.store(0, std::memory_order_release);
  ranges[slot].begin.store(0, std::memory_order_release);
}

bool SameTime(const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

}  // namespace

MappedFile::MappedFile(std::string path) : path_(std::move(path)) {}

std::shared_ptr<MappedFile> MappedFile::Open(const std::string& path) {
  InstallHandler();
  std::shared_ptr<MappedFile> file(new MappedFile(path));
  file->file_ = std::fopen(path.c_str(), "rb");
  if (file->file_ == nullptr || fstat(fileno(file->file_), &file->mapped_) != 0) {
    ThrowFileError("read", path);
  }
  if (file->mapped_.st_size == 0) throw FailureException({"CORRUPT_INDEX", path + " is empty"});
  file->mapping_ = std::make_shared<faiss::MmappedFileMappingOwner>(file->file_);
  // FAISS checks mmap's result against nullptr, not MAP_FAILED.
  FAISS_THROW_IF_NOT_FMT(file->mapping_->data() != MAP_FAILED, "cannot map %s", path.c_str());
  const auto begin = uintptr_t(file->mapping_->data());
  const auto page = uintptr_t(sysconf(_SC_PAGESIZE));
  file->slot_ = Register(begin, begin + (file->mapping_->size() + page - 1) / page * page);
  return file;
}

MappedFile::~MappedFile() {
  if (slot_ >= 0) Unregister(slot_);  // before the mapping goes (with the last index using it)
  if (file_ != nullptr) std::fclose(file_);
}

void MappedFile::ReleaseAfterFailedRead() {
  if (mapping_.use_count() == 1) return;  // no view survived: the owner unmaps as usual
  Unregister(slot_);
  slot_ = -1;
  // The leaked references keep the owner, whose destructor would unmap, alive for good.
  munmap(mapping_->data(), mapping_->size());
}

void MappedFile::Check() const {
  struct stat now;
  const bool faulted = slot_ >= 0 && ranges[slot_].faulted.load(std::memory_order_acquire);
  const bool same = fstat(fileno(file_), &now) == 0 && now.st_size == mapped_.st_size && SameTime(now.st_mtim, mapped_.st_mtim);
  if (!faulted && same) return;
  throw FailureException({"FILE_CHANGED", "index file " + path_ +
                                              " changed on disk while memory-mapped (truncated or rewritten in place), so its "
                                              "data is gone: read it again (HotIndex.reload). Replace index files by renaming a new "
                                              "file over them, as writeIndex does, and mapped readers keep working."});
}

}  // namespace faiss_native

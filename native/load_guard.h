// Guards a read of an untrusted index on the current thread:
// - a cap on the bytes allocated, so a corrupted size field fails with bad_alloc (a
//   FaissError, code OUT_OF_MEMORY) instead of reserving and zero-filling gigabytes the
//   input cannot justify;
// - a record of every allocation, so that when FAISS's reader throws, the partial index it
//   was building (which it does not free) is released.
// It works because this binding defines operator new/delete for the whole .node, FAISS
// included (linked statically).
#pragma once

#include <cstddef>
#include <new>

namespace faiss_native {

class LoadGuard {
 public:
  explicit LoadGuard(size_t budgetBytes);
  // Frees every allocation made under the guard and still alive, unless Keep() was called.
  ~LoadGuard();
  LoadGuard(const LoadGuard&) = delete;
  LoadGuard& operator=(const LoadGuard&) = delete;

  // The read succeeded: its allocations belong to the index.
  void Keep();
  // The read failed: stop counting and recording new allocations (the error message is
  // copied next), while frees still update the record.
  void Pause();

  struct Record;

 private:
  Record* record_;
};

// An allocation over the guard's budget: the bytes being read ask for more memory than their
// size can justify (a corrupted count or size field). A bad_alloc to the code that made it.
struct LoadBudgetExceeded : std::bad_alloc {
  explicit LoadBudgetExceeded(size_t requested) : requested(requested) {}
  size_t requested;
};

// What reading `inputBytes` of index may allocate: the data itself, FAISS's side tables
// (IDMap2's reverse map, IVF list headers), and a fixed allowance for small structures.
size_t LoadBudgetFor(size_t inputBytes);

// Allocation under the current guard, if any (used by the replacement operator new).
void* Allocate(size_t size, size_t alignment);
void Release(void* p) noexcept;

}  // namespace faiss_native

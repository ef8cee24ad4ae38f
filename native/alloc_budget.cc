// The allocation budget, and the replacement global operator new/delete that enforces it.
#include "alloc_budget.h"

#include <cstdlib>
#include <new>

namespace faiss_native {

namespace {
thread_local size_t* budget = nullptr;  // null: unlimited
}  // namespace

void* Allocate(size_t size, size_t alignment) {
  if (budget != nullptr) {
    if (size > *budget) throw std::bad_alloc();
    *budget -= size;
  }
  if (size == 0) size = 1;
  void* p = alignment <= alignof(std::max_align_t) ? std::malloc(size) : std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

AllocationBudget::AllocationBudget(size_t bytes) : remaining_(bytes), previous_(budget) { budget = &remaining_; }
AllocationBudget::~AllocationBudget() { budget = previous_; }

size_t LoadBudgetFor(size_t inputBytes) { return 4 * inputBytes + (size_t(64) << 20); }

}  // namespace faiss_native

void* operator new(std::size_t size) { return faiss_native::Allocate(size, 0); }
void* operator new[](std::size_t size) { return faiss_native::Allocate(size, 0); }
void* operator new(std::size_t size, std::align_val_t a) { return faiss_native::Allocate(size, size_t(a)); }
void* operator new[](std::size_t size, std::align_val_t a) { return faiss_native::Allocate(size, size_t(a)); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return faiss_native::Allocate(size, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

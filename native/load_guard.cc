// LoadGuard, and the replacement global operator new/delete that serve it.
#include "load_guard.h"

#include <cstdint>
#include <cstdlib>
#include <new>

#include "os.h"

namespace faiss_native {

// Live allocations made under a guard: an open-addressing set of pointers, in malloc'ed
// memory (operator new cannot be used here).
struct LoadGuard::Record {
  static constexpr uintptr_t kEmpty = 0, kErased = 1;
  uintptr_t* slots = nullptr;
  size_t capacity = 0, used = 0;  // used counts erased slots too, until the next rehash
  size_t budget = 0;
  bool recording = true;

  static size_t Hash(uintptr_t p) { return (p >> 4) * 0x9E3779B97F4A7C15ull; }

  bool Grow() {
    size_t newCapacity = capacity ? capacity * 2 : 1024;
    auto* fresh = static_cast<uintptr_t*>(std::calloc(newCapacity, sizeof(uintptr_t)));
    if (fresh == nullptr) return false;
    size_t live = 0;
    for (size_t i = 0; i < capacity; i++) {
      if (slots[i] <= kErased) continue;
      size_t j = Hash(slots[i]) & (newCapacity - 1);
      while (fresh[j] != kEmpty) j = (j + 1) & (newCapacity - 1);
      fresh[j] = slots[i];
      live++;
    }
    std::free(slots);
    slots = fresh;
    capacity = newCapacity;
    used = live;
    return true;
  }
  bool Insert(void* p) {
    if ((used + 1) * 2 > capacity && !Grow()) return false;
    size_t j = Hash(uintptr_t(p)) & (capacity - 1);
    while (slots[j] > kErased) j = (j + 1) & (capacity - 1);
    if (slots[j] == kEmpty) used++;
    slots[j] = uintptr_t(p);
    return true;
  }
  void Erase(void* p) {
    if (capacity == 0) return;
    size_t j = Hash(uintptr_t(p)) & (capacity - 1);
    for (; slots[j] != kEmpty; j = (j + 1) & (capacity - 1)) {
      if (slots[j] == uintptr_t(p)) {
        slots[j] = kErased;
        return;
      }
    }
  }
};

namespace {
thread_local LoadGuard::Record* current = nullptr;  // null: no guard on this thread
}  // namespace

LoadGuard::LoadGuard(size_t budgetBytes) : record_(new (std::malloc(sizeof(Record))) Record()) {
  if (record_ == nullptr) throw std::bad_alloc();
  record_->budget = budgetBytes;
  current = record_;
}

LoadGuard::~LoadGuard() {
  current = nullptr;
  for (size_t i = 0; i < record_->capacity; i++) {
    if (record_->slots[i] > Record::kErased) os::Free(reinterpret_cast<void*>(record_->slots[i]));
  }
  std::free(record_->slots);
  std::free(record_);
}

void LoadGuard::Keep() {
  record_->capacity = 0;  // forget, free nothing
  std::free(record_->slots);
  record_->slots = nullptr;
  current = nullptr;
}

void LoadGuard::Pause() { record_->recording = false; }

size_t LoadBudgetFor(size_t inputBytes) { return 4 * inputBytes + (size_t(64) << 20); }

void* Allocate(size_t size, size_t alignment) {
  LoadGuard::Record* record = current;
  if (record != nullptr && record->recording) {
    if (size > record->budget) throw LoadBudgetExceeded(size);
    record->budget -= size;
  }
  void* p = os::Allocate(size ? size : 1, alignment);
  if (p == nullptr) throw std::bad_alloc();
  if (record != nullptr && record->recording && !record->Insert(p)) {
    os::Free(p);
    throw std::bad_alloc();
  }
  return p;
}

void Release(void* p) noexcept {
  if (p == nullptr) return;
  if (current != nullptr) current->Erase(p);
  os::Free(p);
}

}  // namespace faiss_native

using faiss_native::Allocate;
using faiss_native::Release;

void* operator new(std::size_t size) { return Allocate(size, 0); }
void* operator new[](std::size_t size) { return Allocate(size, 0); }
void* operator new(std::size_t size, std::align_val_t a) { return Allocate(size, size_t(a)); }
void* operator new[](std::size_t size, std::align_val_t a) { return Allocate(size, size_t(a)); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return Allocate(size, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p) noexcept { Release(p); }
void operator delete[](void* p) noexcept { Release(p); }
void operator delete(void* p, std::size_t) noexcept { Release(p); }
void operator delete[](void* p, std::size_t) noexcept { Release(p); }
void operator delete(void* p, std::align_val_t) noexcept { Release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { Release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { Release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { Release(p); }

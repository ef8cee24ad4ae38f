// A per-thread cap on C++ allocations while FAISS reads an untrusted index, so a corrupted
// size field fails with bad_alloc (a FaissError, code OUT_OF_MEMORY) instead of reserving and
// zero-filling gigabytes the input cannot justify. This binding defines operator new for the
// whole .node (FAISS is linked in statically), so every std::vector FAISS resizes is counted.
#pragma once

#include <cstddef>

namespace faiss_native {

class AllocationBudget {
 public:
  // Allows at most `bytes` of allocations, in total, on this thread until destroyed.
  explicit AllocationBudget(size_t bytes);
  ~AllocationBudget();
  AllocationBudget(const AllocationBudget&) = delete;
  AllocationBudget& operator=(const AllocationBudget&) = delete;

 private:
  size_t remaining_;
  size_t* previous_;
};

// Allocation with the budget applied (used by the replacement operator new).
void* Allocate(size_t size, size_t alignment);

// What reading `inputBytes` of index may allocate: the data itself, FAISS's side tables
// (IDMap2's reverse map, IVF list headers), and a fixed allowance for small structures.
size_t LoadBudgetFor(size_t inputBytes);

}  // namespace faiss_native

#include "flat_add.h"

#include <faiss/IndexFlat.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "args.h"
#include "index_handle.h"
#include "os.h"

namespace faiss_native {

namespace {

constexpr size_t kMinBytes = size_t(4) << 20;  // below it, one thread copies faster than two wake up
constexpr size_t kChunk = size_t(64) << 10;     // bytes copied, then checked while still in cache (whole floats)

// Has the kernel map (and zero) the pages of [begin, end) on all threads, before resize's
// memset would fault them in one at a time on one. Where the system cannot (a Linux before
// 5.14, Windows) the faults happen as before.
void Prefault(uint8_t* begin, uint8_t* end) {
  const auto page = uintptr_t(os::PageSize());
  const uintptr_t from = (uintptr_t(begin) + page - 1) & ~(page - 1);
  const uintptr_t to = uintptr_t(end) & ~(page - 1);
  if (to <= from) return;
  const auto pages = int64_t((to - from) / page);
  const int threads = omp_get_max_threads();
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int t = 0; t < threads; t++) {
    const uintptr_t a = from + uintptr_t(pages * t / threads) * page;
    const uintptr_t b = from + uintptr_t(pages * (t + 1) / threads) * page;
    if (b > a) os::PopulateForWrite(reinterpret_cast<void*>(a), b - a);
  }
}

}  // namespace

bool AddFlatOnAllThreads(faiss::Index& index, faiss::idx_t n, const float* x) {
  if (!IsPlainFlat(index)) return false;
  auto& flat = static_cast<faiss::IndexFlat&>(index);
  auto& codes = flat.codes;
  const size_t bytes = size_t(n) * flat.code_size;
  if (!codes.is_owned || bytes < kMinBytes) return false;
  const size_t before = codes.size();
  const size_t after = before + bytes;
  auto& owned = codes.owned_data;
  if (after > owned.capacity()) {
    owned.reserve(std::max(after, 2 * before));  // std::vector's own growth, which FAISS's resize gets
    Prefault(owned.data() + before, owned.data() + after);
  }
  codes.resize(after);
  uint8_t* dst = codes.data() + before;
  const auto* src = reinterpret_cast<const uint8_t*>(x);
  const auto chunks = int64_t((bytes + kChunk - 1) / kChunk);
  bool bad = false;
#pragma omp parallel for schedule(static) reduction(|| : bad)
  for (int64_t c = 0; c < chunks; c++) {
    const size_t at = size_t(c) * kChunk;
    const size_t len = std::min(kChunk, bytes - at);
    std::memcpy(dst + at, src + at, len);
    bad = bad || AnyNonFinite(reinterpret_cast<const float*>(dst + at), len / sizeof(float));
  }
  if (bad) {
    codes.resize(before);
    CheckFinite(x, size_t(n), flat.d, "x");  // throws, naming the first bad value
  }
  flat.ntotal += n;
  return true;
}

}  // namespace faiss_native

// The binary family (IndexBinaryFlat, IndexBinaryIVF, IndexBinaryHNSW, their IDMaps): vectors
// of d bits held as d/8 bytes, compared by Hamming distance. FAISS keeps them in a hierarchy of
// their own (faiss::IndexBinary), so they have their own handle and JS class, with the same
// locking, jobs, memory limit and load checks as the float indexes.
#pragma once

#include <faiss/IndexBinary.h>
#include <napi.h>

#include <atomic>
#include <memory>
#include <vector>

#include "index_handle.h"

namespace faiss_native {

struct BinaryHandle {
  BinaryHandle(std::shared_ptr<faiss::IndexBinary> index, std::shared_ptr<IndexLock> mutex);
  ~BinaryHandle();

  std::shared_ptr<faiss::IndexBinary> index;
  // Shared for searches, exclusive for changes; shared with the indexes it is built over.
  std::shared_ptr<IndexLock> mutex;
  // Indexes this one uses (an IVF's quantizer, an IDMap's sub-index), kept alive and changed
  // only through it (usedBy), as IndexHandle's parts.
  std::vector<std::shared_ptr<BinaryHandle>> parts;
  std::atomic<int> usedBy{0};
  // Last values seen under the lock, for getters while a change holds it.
  std::atomic<int64_t> ntotal{0};
  std::atomic<bool> isTrained{false};
  std::atomic<int64_t> bytes{0};

  void Refresh();  // call with the mutex held
  void AddPart(std::shared_ptr<BinaryHandle> part);
};

// Bytes of data a binary index holds natively (what V8 cannot see).
int64_t NativeBytes(const faiss::IndexBinary& index);
// "IndexBinaryFlat", "IndexBinaryIVF", ...
std::string ClassName(const faiss::IndexBinary& index);

// Registers the JS class and exports its creators (createBinary, createBinaryIVF,
// createBinaryIDMap, binaryFactory, readIndexBinary, deserializeIndexBinary).
void ExportBinary(Napi::Env env, Napi::Object exports);

}  // namespace faiss_native

// IndexHandle: a FAISS index as jobs share it, with its lock and what keeps it alive.
#pragma once

#include <faiss/Index.h>

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

namespace faiss {
struct IndexIVF;
}

namespace faiss_native {

struct IndexHandle {
  IndexHandle(std::shared_ptr<faiss::Index> index, std::shared_ptr<std::shared_mutex> mutex, bool ownsMemory);

  // May alias into a parent (an IVF's own quantizer), whose memory it then keeps alive.
  std::shared_ptr<faiss::Index> index;
  // Shared for searches, exclusive for changes. Indexes that use one another (an IVF and the
  // quantizer it was given, an IDMap and its sub-index) share one lock.
  std::shared_ptr<std::shared_mutex> mutex;
  // Indexes this one uses but does not own, kept alive as long as it is.
  std::vector<std::shared_ptr<IndexHandle>> parts;
  // False for views into a parent: the parent reports the memory.
  const bool ownsMemory;
  // Codes memory-mapped from a file (read with IO_FLAG_MMAP_IFC), in this index or one it
  // uses: FAISS aborts the process on any change, so changes are refused before they start.
  bool mapped = false;
  // Last values seen under the lock, for getters while a change holds it.
  std::atomic<int64_t> ntotal{0};
  std::atomic<bool> isTrained{false};
  std::atomic<int64_t> bytes{0};

  // The IVF layer (itself, or under an IDMap / pre-transform), or nullptr.
  faiss::IndexIVF* Ivf() const;
  // Refreshes the mirrors; call with the mutex held.
  void Refresh();
};

// A fresh index with its own lock.
std::shared_ptr<IndexHandle> NewHandle(faiss::Index* owned, bool mapped = false);

// Bytes of data the index holds natively (what V8 cannot see).
int64_t NativeBytes(const faiss::Index& index);

// The most specific class name lib/ knows how to wrap ("IndexFlat", "IndexIVFScalarQuantizer", ...).
std::string ClassName(const faiss::Index& index);

}  // namespace faiss_native

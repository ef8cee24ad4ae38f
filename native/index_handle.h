// IndexHandle: a FAISS index as jobs share it, with its lock and what keeps it alive.
#pragma once

#include <faiss/Index.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "mapped_file.h"
#include "on_disk.h"
#include "os.h"
#include "threads.h"

namespace faiss {
struct IndexIVF;
struct IndexHNSW;
struct IndexRefine;
}

namespace faiss_native {

class FilterCache;

// The lock that indexes using one another share, with a count of the changes made under it:
// what a search caches about an index (FilterCache) holds while the count stays the same.
struct IndexLock : os::SharedMutex {
  std::atomic<uint64_t> changes{0};
};

struct IndexHandle {
  IndexHandle(std::shared_ptr<faiss::Index> index, std::shared_ptr<IndexLock> mutex, bool ownsMemory);
  ~IndexHandle();

  // May alias into a parent (an IVF's own quantizer), whose memory it then keeps alive.
  std::shared_ptr<faiss::Index> index;
  // Shared for searches, exclusive for changes. Indexes that use one another (an IVF and the
  // quantizer it was given, an IDMap and its sub-index) share one lock.
  std::shared_ptr<IndexLock> mutex;
  // Indexes this one uses but does not own, kept alive as long as it is (AddPart).
  std::vector<std::shared_ptr<IndexHandle>> parts;
  // How many live indexes use this one as a part: changed directly, it would no longer match
  // them (an IDMap's id count, an IndexRefine's labels, an IVF's lists), so changes are refused.
  std::atomic<int> usedBy{0};
  // False for views into a parent: the parent reports the memory.
  const bool ownsMemory;
  // The file this index, or one it uses, maps its codes from (read with IO_FLAG_MMAP_IFC), else
  // null. FAISS aborts the process on any change of mapped codes, so changes are refused.
  // Declared after `index`, so it stops watching the mapping before the index unmaps it.
  std::shared_ptr<MappedFile> file;
  // The data file of the IVF layer's on-disk inverted lists (on_disk.h), which FAISS maps
  // itself, else null. Watched like `file`, but changes are allowed: they write to it, remap
  // it, and Refresh watches it again.
  std::shared_ptr<MappedFile> dataFile;
  // What the on-disk lists are (on_disk.h), or null: read with std::atomic_load by getters and
  // checks on the main thread, which never wait for the lock (a change may be replacing them).
  std::shared_ptr<const OnDiskData> onDisk;
  // Last values seen under the lock, for getters while a change holds it.
  std::atomic<int64_t> ntotal{0};
  std::atomic<bool> isTrained{false};
  std::atomic<int64_t> bytes{0};
  // Side tables filtered searches build on first use and keep until the index changes.
  std::shared_ptr<FilterCache> filterCache;

  // The IVF layer (itself, or under an IDMap / pre-transform), or nullptr.
  faiss::IndexIVF* Ivf() const;
  // The HNSW layer (itself, or under an IDMap / pre-transform / refinement), or nullptr.
  faiss::IndexHNSW* Hnsw() const;
  // Throws FILE_CHANGED if a mapped file changed underneath (before and after every read).
  void CheckFiles() const;
  // Refreshes the mirrors and counts a change; call with the mutex held.
  void Refresh();
  // Keeps `part` alive and unchanged (but through this index) while this index lives.
  void AddPart(std::shared_ptr<IndexHandle> part);
};

// The work of a change to a handle's index (IndexHandle or BinaryHandle): under the exclusive
// lock and the parallel gate, with the mirrors refreshed afterwards, also when the change fails
// midway (it may have done part of its work).
template <class Handle, class Change>
std::function<void()> ChangeWork(std::shared_ptr<Handle> handle, Change change) {
  return [handle = std::move(handle), change = std::move(change)] {
    std::unique_lock<os::SharedMutex> lock(*handle->mutex);
    auto parallel = ParallelSection();
    try {
      change(*handle->index);
    } catch (...) {
      handle->Refresh();
      throw;
    }
    handle->Refresh();
  };
}

// A fresh index with its own lock.
std::shared_ptr<IndexHandle> NewHandle(faiss::Index* owned, std::shared_ptr<MappedFile> file = nullptr);

// Replaces a vector of FAISS's (a view into a mapping, or one grown with spare capacity) with
// an owned copy of exactly its size.
template <typename Vector>
void OwnExactly(Vector& v) {
  if (v.is_owned && v.owned_data.capacity() == v.size()) return;
  Vector exact(v.size());
  std::copy(v.data(), v.data() + v.size(), exact.data());
  v = std::move(exact);
}

// Bytes of data the index holds natively (what V8 cannot see).
int64_t NativeBytes(const faiss::Index& index);

// The most specific class name lib/ knows how to wrap ("IndexFlat", "IndexIVFScalarQuantizer", ...).
std::string ClassName(const faiss::Index& index);

// The HNSW layer of an index (itself, or under an IDMap / pre-transform / refinement), or nullptr.
faiss::IndexHNSW* HnswLayer(faiss::Index* index);
const faiss::IndexHNSW* HnswLayer(const faiss::Index* index);

// The refinement layer of an index (itself, or under an IDMap / pre-transform), or nullptr.
faiss::IndexRefine* RefineLayer(faiss::Index* index);

// The query bits (qb) of an index's RaBitQ layer (IndexRaBitQ or IndexIVFRaBitQ, itself or under
// an IDMap / pre-transform / refinement), or nullptr.
uint8_t* RaBitQQueryBits(faiss::Index* index);

// FAISS's name of a C++ type ("faiss::IndexHNSWFlat").
std::string TypeName(const std::type_info& type);

// An IndexFlat, IndexFlatIP or IndexFlatL2 itself (not a subclass with codes of its own).
bool IsPlainFlat(const faiss::Index& index);

}  // namespace faiss_native

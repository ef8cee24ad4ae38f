// IndexHandle: locking, state mirrors, memory accounting and type names.
#include "index_handle.h"

#include "filtered_search.h"

#include <cxxabi.h>
#include <faiss/IVFlib.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexRefine.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexIVFPQFastScan.h>
#include <faiss/IndexIVFRaBitQ.h>
#include <faiss/IndexPQFastScan.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRaBitQ.h>
#include <faiss/IndexScalarQuantizer.h>

#include <cstdlib>
#include <typeinfo>

namespace faiss_native {

IndexHandle::IndexHandle(std::shared_ptr<faiss::Index> index, std::shared_ptr<IndexLock> mutex, bool ownsMemory)
    : index(std::move(index)), mutex(std::move(mutex)), ownsMemory(ownsMemory), filterCache(std::make_shared<FilterCache>(this->mutex->changes)) {
  Refresh();
}

IndexHandle::~IndexHandle() {
  for (const auto& part : parts) part->usedBy--;
}

void IndexHandle::AddPart(std::shared_ptr<IndexHandle> part) {
  part->usedBy++;
  parts.push_back(std::move(part));
}

std::shared_ptr<IndexHandle> NewHandle(faiss::Index* owned, std::shared_ptr<MappedFile> file) {
  auto handle = std::make_shared<IndexHandle>(std::shared_ptr<faiss::Index>(owned), std::make_shared<IndexLock>(), true);
  handle->file = std::move(file);
  return handle;
}

faiss::IndexIVF* IndexHandle::Ivf() const { return faiss::ivflib::try_extract_index_ivf(index.get()); }

faiss::IndexHNSW* IndexHandle::Hnsw() const { return HnswLayer(index.get()); }

namespace {

// The index an IDMap, a pre-transform or a refinement (its base index) searches through, or
// nullptr for any other.
const faiss::Index* LayerBelow(const faiss::Index* index) {
  if (auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(index)) return idmap->index;
  if (auto* pt = dynamic_cast<const faiss::IndexPreTransform*>(index)) return pt->index;
  if (auto* refine = dynamic_cast<const faiss::IndexRefine*>(index)) return refine->base_index;
  return nullptr;
}

// The first of an index's layers (itself, then LayerBelow) that is a T, or nullptr.
template <class T>
T* FindLayer(const faiss::Index* at) {
  for (; at != nullptr; at = LayerBelow(at)) {
    if (auto* found = dynamic_cast<const T*>(at)) return const_cast<T*>(found);
  }
  return nullptr;
}

}  // namespace

const faiss::IndexHNSW* HnswLayer(const faiss::Index* index) { return FindLayer<faiss::IndexHNSW>(index); }

faiss::IndexHNSW* HnswLayer(faiss::Index* index) { return FindLayer<faiss::IndexHNSW>(index); }

faiss::IndexRefine* RefineLayer(faiss::Index* index) { return FindLayer<faiss::IndexRefine>(index); }

uint8_t* RaBitQQueryBits(faiss::Index* index) {
  if (auto* flat = FindLayer<faiss::IndexRaBitQ>(index)) return &flat->qb;
  if (auto* ivf = FindLayer<faiss::IndexIVFRaBitQ>(index)) return &ivf->qb;
  return nullptr;
}

std::string TypeName(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? name.get() : type.name();
}

void IndexHandle::CheckFiles() const {
  if (file) file->Check();
  if (dataFile) dataFile->Check();
}

void IndexHandle::Refresh() {
  mutex->changes++;
  ntotal = index->ntotal;
  isTrained = index->is_trained;
  bytes = ownsMemory ? NativeBytes(*index) : 0;
  // A change may have grown (and so remapped) the data file, and has rewritten it.
  std::optional<OnDiskData> data = OnDiskDataOf(*index);
  dataFile.reset();
  if (data && data->begin != nullptr) dataFile = MappedFile::Watch(data->path, data->begin, data->bytes);
  std::atomic_store(&onDisk, data ? std::make_shared<const OnDiskData>(*data) : nullptr);
}

int64_t NativeBytes(const faiss::Index& index) {
  if (auto* flat = dynamic_cast<const faiss::IndexFlatCodes*>(&index)) return static_cast<int64_t>(flat->codes.size());
  if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(&index)) {
    // Lists on disk are in the page cache, which the OS reclaims, not in the heap.
    const bool onDisk = OnDiskDataOf(index).has_value();
    int64_t total = onDisk ? 0 : static_cast<int64_t>(ivf->ntotal) * static_cast<int64_t>(ivf->code_size + sizeof(faiss::idx_t));
    if (ivf->own_fields && ivf->quantizer) total += NativeBytes(*ivf->quantizer);
    return total;
  }
  if (auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(&index)) {
    int64_t total = static_cast<int64_t>(idmap->id_map.size() * sizeof(faiss::idx_t));
    if (idmap->own_fields && idmap->index) total += NativeBytes(*idmap->index);
    return total;
  }
  if (auto* pre = dynamic_cast<const faiss::IndexPreTransform*>(&index)) return pre->index ? NativeBytes(*pre->index) : 0;
  if (auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(&index)) {
    // Links (4 bytes each), offsets and levels, and the stored vectors.
    int64_t total = static_cast<int64_t>(hnsw->hnsw.neighbors.size() * sizeof(faiss::HNSW::storage_idx_t) +
                                         hnsw->hnsw.offsets.size() * sizeof(size_t) + hnsw->hnsw.levels.size() * sizeof(int));
    if (hnsw->own_fields && hnsw->storage) total += NativeBytes(*hnsw->storage);
    return total;
  }
  return 0;
}

bool IsPlainFlat(const faiss::Index& index) {
  const std::type_info& type = typeid(index);
  return type == typeid(faiss::IndexFlat) || type == typeid(faiss::IndexFlatIP) || type == typeid(faiss::IndexFlatL2);
}

std::string ClassName(const faiss::Index& index) {
  if (dynamic_cast<const faiss::IndexIDMap2*>(&index)) return "IndexIDMap2";
  if (dynamic_cast<const faiss::IndexIDMap*>(&index)) return "IndexIDMap";
  if (dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(&index)) return "IndexIVFScalarQuantizer";
  if (typeid(index) == typeid(faiss::IndexIVFFlat)) return "IndexIVFFlat";
  if (typeid(index) == typeid(faiss::IndexIVFPQ)) return "IndexIVFPQ";
  if (typeid(index) == typeid(faiss::IndexHNSWFlat)) return "IndexHNSWFlat";
  if (dynamic_cast<const faiss::IndexScalarQuantizer*>(&index)) return "IndexScalarQuantizer";
  if (dynamic_cast<const faiss::IndexFlat*>(&index)) return "IndexFlat";
  if (typeid(index) == typeid(faiss::IndexRefineFlat)) return "IndexRefineFlat";
  if (typeid(index) == typeid(faiss::IndexRefine)) return "IndexRefine";
  if (typeid(index) == typeid(faiss::IndexRaBitQ)) return "IndexRaBitQ";
  if (typeid(index) == typeid(faiss::IndexIVFRaBitQ)) return "IndexIVFRaBitQ";
  if (typeid(index) == typeid(faiss::IndexPQFastScan)) return "IndexPQFastScan";
  if (typeid(index) == typeid(faiss::IndexIVFPQFastScan)) return "IndexIVFPQFastScan";
  return "Index";
}

}  // namespace faiss_native

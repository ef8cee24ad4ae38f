// Index files and buffers in FAISS's own format, so Python faiss reads and writes them too.
#pragma once

#include <faiss/Index.h>
#include <faiss/IndexBinary.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mapped_file.h"

namespace faiss_native {

// Writes to a temp file in the same directory, fsyncs, then renames over path: the target is
// always either the old or the new complete index. `beforeRename` may still refuse the
// written data by throwing. Also removes temp files of writers that were killed mid-write.
void WriteIndexAtomic(const faiss::Index& index, const std::string& path, const std::function<void()>& beforeRename = nullptr);

// Which index types a load accepts. kChecked: only those whose every field ValidateLoaded
// checks; others are refused. kAny (the caller trusts the file, as faiss-node and Python do):
// other types too, with the checks that apply to their base classes (d, ntotal, metric, codes,
// inverted lists, IDMaps), but their own fields (HNSW links, PQ tables) trusted.
enum class LoadTypes { kChecked, kAny };

struct LoadedIndex {
  std::unique_ptr<faiss::Index> index;
  std::shared_ptr<MappedFile> file;  // the file it maps, with IO_FLAG_MMAP_IFC
};

// read_index with FAISS IO flags under a LoadGuard (load_guard.h), then the checks of
// ValidateLoaded. Mapped indexes get their inverted lists' ids copied out of the mapping
// (8 bytes a vector), so a file rewritten underneath can garble scores but never the ids
// that IDMaps look up; codes stay mapped.
LoadedIndex ReadIndexFile(const std::string& path, int ioFlags, LoadTypes types);

std::vector<uint8_t> SerializeIndex(const faiss::Index& index);

// Reads from memory without copying it first; same budget and checks.
faiss::Index* DeserializeIndex(const uint8_t* data, size_t size, LoadTypes types);

// Rejects a loaded index whose parts do not fit together, which FAISS would otherwise trust
// and later read out of bounds or abort on (a quantizer type this FAISS does not know fails
// only inside an OpenMP region, where it cannot be caught): code sizes against dimensions
// and quantizer types, codes against ntotal, inverted lists against nlist, direct maps,
// IDMap ids, pre-transform dimensions.
void ValidateLoaded(const faiss::Index& index, LoadTypes types);

// The binary family: files and buffers of IndexBinaryFlat, IVF, HNSW and their IDMaps, which
// Python's read_index_binary and write_index_binary share. Read under the same guard and
// checked in full by ValidateLoaded; other binary types are refused.
void WriteIndexAtomic(const faiss::IndexBinary& index, const std::string& path);
std::unique_ptr<faiss::IndexBinary> ReadIndexBinaryFile(const std::string& path);
std::vector<uint8_t> SerializeIndex(const faiss::IndexBinary& index);
std::unique_ptr<faiss::IndexBinary> DeserializeIndexBinary(const uint8_t* data, size_t size);
void ValidateLoaded(const faiss::IndexBinary& index);

}  // namespace faiss_native

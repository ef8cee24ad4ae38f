// Index files and buffers in FAISS's own format, so Python faiss reads and writes them too.
#pragma once

#include <faiss/Index.h>

#include <cstdint>
#include <string>
#include <vector>

namespace faiss_native {

// Writes to a temp file in the same directory, fsyncs, then renames over path: the target is
// always either the old or the new complete index. Also removes temp files of writers that
// were killed mid-write.
void WriteIndexAtomic(const faiss::Index& index, const std::string& path);

// read_index with FAISS IO flags under a LoadGuard (load_guard.h), then the checks of
// ValidateLoaded.
faiss::Index* ReadIndexFile(const std::string& path, int ioFlags);

std::vector<uint8_t> SerializeIndex(const faiss::Index& index);

// Reads from memory without copying it first; same budget and checks.
faiss::Index* DeserializeIndex(const uint8_t* data, size_t size);

// Rejects a loaded index whose parts do not fit together, which FAISS would otherwise trust
// and later read out of bounds or abort on (a quantizer type this FAISS does not know fails
// only inside an OpenMP region, where it cannot be caught): code sizes against dimensions
// and quantizer types, codes against ntotal, inverted lists against nlist, direct maps,
// IDMap ids, pre-transform dimensions.
void ValidateLoaded(const faiss::Index& index);

}  // namespace faiss_native

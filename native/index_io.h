// Index files and buffers in FAISS's own format, so Python faiss reads and writes them too.
#pragma once

#include <faiss/Index.h>

#include <cstdint>
#include <string>
#include <vector>

namespace faiss_native {

// Writes to a temp file in the same directory, fsyncs, then renames over path: the target is
// always either the old or the new complete index.
void WriteIndexAtomic(const faiss::Index& index, const std::string& path);

// read_index with FAISS IO flags, then the checks of ValidateLoaded.
faiss::Index* ReadIndexFile(const std::string& path, int ioFlags);

std::vector<uint8_t> SerializeIndex(const faiss::Index& index);

// Reads from memory without copying it first.
faiss::Index* DeserializeIndex(const uint8_t* data, size_t size);

// Rejects a loaded index that would crash later (e.g. a quantizer type this FAISS does not
// know, which FAISS only notices inside an OpenMP region, where it cannot be caught).
void ValidateLoaded(const faiss::Index& index);

}  // namespace faiss_native

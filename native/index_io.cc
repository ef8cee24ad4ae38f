// Index IO: atomic file writes, reads with IO flags, in-memory buffers, post-load checks.
#include "index_io.h"

#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/FaissAssert.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace faiss_native {

namespace {

// An IOReader over a caller's bytes (a Node Buffer kept alive by the job).
struct SpanReader : faiss::IOReader {
  SpanReader(const uint8_t* data, size_t size) : data(data), size(size) { name = "<buffer>"; }
  size_t operator()(void* ptr, size_t itemSize, size_t nitems) override {
    if (itemSize == 0 || pos >= size) return 0;
    size_t n = std::min(nitems, (size - pos) / itemSize);
    std::memcpy(ptr, data + pos, n * itemSize);
    pos += n * itemSize;
    return n;
  }
  const uint8_t* data;
  size_t size;
  size_t pos = 0;
};

[[noreturn]] void ThrowErrno(const std::string& what, const std::string& path) {
  FAISS_THROW_FMT("%s %s: %s", what.c_str(), path.c_str(), std::strerror(errno));
}

void CheckScalarQuantizer(const faiss::ScalarQuantizer& sq) {
  FAISS_THROW_IF_NOT_FMT(sq.qtype >= 0 && sq.qtype <= faiss::ScalarQuantizer::QT_8bit_direct_signed,
                         "index uses scalar quantizer type %d, which FAISS %s does not know", int(sq.qtype),
                         VERSION_STRING);
}

}  // namespace

void ValidateLoaded(const faiss::Index& index) {
  FAISS_THROW_IF_NOT_FMT(index.d > 0, "index has dimension %d", index.d);
  if (auto* sq = dynamic_cast<const faiss::IndexScalarQuantizer*>(&index)) CheckScalarQuantizer(sq->sq);
  if (auto* ivfsq = dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(&index)) CheckScalarQuantizer(ivfsq->sq);
  if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(&index)) {
    FAISS_THROW_IF_NOT_MSG(ivf->quantizer != nullptr, "IVF index without a quantizer");
    FAISS_THROW_IF_NOT_MSG(ivf->quantizer->d == ivf->d, "IVF quantizer dimension differs from the index's");
    ValidateLoaded(*ivf->quantizer);
  }
  if (auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(&index)) {
    FAISS_THROW_IF_NOT_MSG(idmap->index != nullptr, "IDMap without a sub-index");
    FAISS_THROW_IF_NOT_MSG(idmap->id_map.size() == size_t(idmap->index->ntotal), "IDMap id count differs from its sub-index");
    ValidateLoaded(*idmap->index);
  }
  if (auto* pre = dynamic_cast<const faiss::IndexPreTransform*>(&index)) {
    FAISS_THROW_IF_NOT_MSG(pre->index != nullptr, "pre-transform index without a sub-index");
    ValidateLoaded(*pre->index);
  }
}

void WriteIndexAtomic(const faiss::Index& index, const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) ThrowErrno("cannot create", tmp);
  try {
    faiss::write_index(&index, f);
    if (std::fflush(f) != 0 || fsync(fileno(f)) != 0) ThrowErrno("cannot write", tmp);
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  if (std::fclose(f) != 0) {
    std::remove(tmp.c_str());
    ThrowErrno("cannot write", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    ThrowErrno("cannot rename over", path);
  }
  // Make the rename itself durable.
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

faiss::Index* ReadIndexFile(const std::string& path, int ioFlags) {
  std::unique_ptr<faiss::Index> index(faiss::read_index(path.c_str(), ioFlags));
  ValidateLoaded(*index);
  return index.release();
}

std::vector<uint8_t> SerializeIndex(const faiss::Index& index) {
  faiss::VectorIOWriter writer;
  faiss::write_index(&index, &writer);
  return std::move(writer.data);
}

faiss::Index* DeserializeIndex(const uint8_t* data, size_t size) {
  SpanReader reader(data, size);
  std::unique_ptr<faiss::Index> index(faiss::read_index(&reader));
  ValidateLoaded(*index);
  return index.release();
}

}  // namespace faiss_native

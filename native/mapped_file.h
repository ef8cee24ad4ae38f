// MappedFile: a file whose bytes an index reads through a memory mapping (an index file read
// with IO_FLAG_MMAP_IFC, or the data file of on-disk inverted lists), watched so that another
// process truncating or rewriting it in place (Python's write_index opens with "wb") gives an
// error instead of SIGBUS or wrong results.
#pragma once

#if __has_include(<faiss/impl/mapped_io.h>)
#include <faiss/impl/mapped_io.h>
#else
#include "vendor/mapped_io.h"
#endif

#include <cstdio>
#include <memory>
#include <string>

#include "os.h"

namespace faiss_native {

class MappedFile {
 public:
  // Opens and maps the whole file. A read of a mapped page the file no longer has (it was
  // truncated) reads zeros and marks the file (os::WatchMapping).
  static std::shared_ptr<MappedFile> Open(const std::string& path);
  // Watches a mapping made by someone else (FAISS's OnDiskInvertedLists maps its data file
  // itself) the same way. A path that cannot be opened any more (removed: the mapping keeps its
  // data) is watched for faults only.
  static std::shared_ptr<MappedFile> Watch(const std::string& path, const void* begin, size_t bytes);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // What FAISS's mapped reader reads from; the index keeps it (and the mapping) alive.
  const std::shared_ptr<faiss::MmappedFileMappingOwner>& Mapping() const { return mapping_; }

  // After a read that failed: LoadGuard freed the partial index without its destructors, so
  // the references its views held on the mapping are never released; release it here instead.
  void ReleaseAfterFailedRead();

  // Throws a FILE_CHANGED failure when the file is not what was mapped any more: its size or
  // modification time changed, or a read faulted. A file replaced by a rename (what
  // writeIndex does) keeps the mapped inode intact, so it passes.
  void Check() const;

 private:
  MappedFile(std::string path, const char* what);

  std::string path_;
  const char* what_;  // "index file", "inverted-list data file"
  FILE* file_ = nullptr;  // kept open to stamp the mapped file, not whatever the path names now
  os::FileStamp mapped_;
  std::shared_ptr<faiss::MmappedFileMappingOwner> mapping_;
  int watch_ = -1;  // os::WatchMapping's handle
};

}  // namespace faiss_native

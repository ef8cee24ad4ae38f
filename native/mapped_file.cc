// MappedFile: an index file read through a memory mapping, watched for changes.
#include "mapped_file.h"

#include <faiss/impl/FaissAssert.h>

#include "errors.h"

namespace faiss_native {

MappedFile::MappedFile(std::string path, const char* what) : path_(std::move(path)), what_(what) {}

std::shared_ptr<MappedFile> MappedFile::Open(const std::string& path) {
  std::shared_ptr<MappedFile> file(new MappedFile(path, "index file"));
  file->file_ = os::OpenFile(path, "rb");
  if (file->file_ == nullptr || !os::StampOf(file->file_, &file->mapped_)) ThrowFileError("read", path);
  if (file->mapped_.size == 0) throw FailureException({"CORRUPT_INDEX", path + " is empty"});
  file->mapping_ = std::make_shared<faiss::MmappedFileMappingOwner>(file->file_);
  // FAISS checks mmap's result against nullptr, not MAP_FAILED ((void*)-1).
  FAISS_THROW_IF_NOT_FMT(file->mapping_->data() != reinterpret_cast<void*>(-1), "cannot map %s", path.c_str());
  file->watch_ = os::WatchMapping(file->mapping_->data(), file->mapping_->size());
  return file;
}

std::shared_ptr<MappedFile> MappedFile::Watch(const std::string& path, const void* begin, size_t bytes) {
  std::shared_ptr<MappedFile> file(new MappedFile(path, "inverted-list data file"));
  file->file_ = os::OpenFile(path, "rb");
  if (file->file_ != nullptr && !os::StampOf(file->file_, &file->mapped_)) {
    std::fclose(file->file_);
    file->file_ = nullptr;
  }
  file->watch_ = os::WatchMapping(begin, bytes);
  return file;
}

MappedFile::~MappedFile() {
  os::UnwatchMapping(watch_);  // before the mapping goes (with the last index using it)
  if (file_ != nullptr) std::fclose(file_);
}

void MappedFile::ReleaseAfterFailedRead() {
  if (mapping_.use_count() == 1) return;  // no view survived: the owner unmaps as usual
  os::UnwatchMapping(watch_);
  watch_ = -1;
  // The leaked references keep the owner alive for good, so its destructor would never run: run
  // it now. It unmaps the file (and on Windows closes the mapping, which would otherwise keep
  // the file from being rewritten until the process exits). The owner is not used again, and not
  // destroyed twice: its use count can never reach zero.
  mapping_->~MmappedFileMappingOwner();
}

void MappedFile::Check() const {
  os::FileStamp now;
  if (!os::MappingFaulted(watch_) && (file_ == nullptr || (os::StampOf(file_, &now) && now == mapped_))) return;
  throw FailureException({"FILE_CHANGED", std::string(what_) + " " + path_ +
                                              " changed on disk while memory-mapped (truncated or rewritten in place), so its "
                                              "data is gone: read it again (HotIndex.reload). Replace index files by renaming a new "
                                              "file over them, as writeIndex does, and mapped readers keep working."});
}

}  // namespace faiss_native

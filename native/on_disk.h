// On-disk inverted lists: an IVF index's lists in a data file that FAISS maps and the OS pages
// in (FAISS's OnDiskInvertedLists, which FAISS builds on POSIX systems only; on Windows these
// functions refuse with a FaissError). Python's faiss reads and writes the same files.
#pragma once

#include <faiss/Index.h>
#include <faiss/invlists/InvertedLists.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace faiss_native {

// What an index's on-disk lists map: their data file (the index file itself for lists read
// with IO_FLAG_MMAP), the mapped range (null before the first vector), whether they may change
// (not read-only), and FAISS's read-ahead threads for them (prefetch_nthread, 32 by default).
struct OnDiskData {
  std::string path;
  const void* begin = nullptr;
  size_t bytes = 0;
  bool writable = false;
  int prefetchThreads = 0;
};

// Throws the FaissError of a platform without on-disk lists (Windows); nothing elsewhere.
void RequireOnDisk();

// The on-disk lists of an index's IVF layer, or nullopt.
std::optional<OnDiskData> OnDiskDataOf(const faiss::Index& index);

// The load checks of lists that are on disk: their table (sizes, capacities, offsets, free
// slots) against nlist, ntotal and the mapped size, and the data file's size against that
// (FAISS maps the size its header says, and a shorter file faults on first read). False when
// `lists` are not on disk.
bool CheckOnDiskLists(const faiss::InvertedLists& lists, faiss::idx_t ntotal);

// Maps on-disk lists whose data file a read skipped: IO_FLAG_MMAP (Python's merge_ondisk reads
// shards with it) means "leave the lists on disk", but FAISS reads it as IO_FLAG_SKIP_IVF_DATA
// and leaves on-disk lists unmapped, unusable (a shard that was itself on disk then crashed
// Python's merge). Checked afterwards like any on-disk lists.
void MapSkippedLists(faiss::Index& index);

// Moves the lists of an index's IVF layer into a new data file at `path` (Python:
// index.replace_invlists(faiss.OnDiskInvertedLists(nlist, code_size, path))). The vectors the
// index holds are copied there (FAISS's own replace_invlists would drop them and keep ntotal).
void MoveListsToDisk(faiss::Index& index, const std::string& path);

// Adds to on-disk lists one entry at a time on this thread (FAISS's add writes the lists from an
// OpenMP region, where an error of the data file, a full disk, would end the process).
void AddToDisk(faiss::Index& index, faiss::idx_t n, const float* x, const faiss::idx_t* xids);

// Python's faiss.contrib.ondisk.merge_ondisk: the lists of `shards` (each the trained index
// with its part added, read with IO_FLAG_MMAP so they stay on disk) merged into a new data file
// at `path`, which become the lists of the empty `trained` index. Same bytes as Python's, but
// with shiftIds each shard's ids move by the sizes of the shards before it (FAISS's merge
// shifts by the wrong ones when shards differ in size). `beforeReplace` may still refuse the
// merged data (a shard file that changed while it was read) by throwing.
void MergeOnDisk(faiss::Index& trained, const std::vector<const faiss::Index*>& shards, const std::vector<std::string>& shardFiles,
                 const std::string& path, bool shiftIds, const std::function<void()>& beforeReplace);

// Sets the threads FAISS starts at each search of on-disk lists to read ahead of the scan;
// false when the lists are not on disk.
bool SetPrefetchThreads(faiss::Index& index, int threads);

// Writes writable on-disk lists through to their data file (msync), before an index file that
// names them is written.
void SyncOnDisk(const faiss::Index& index);

// Refuses (FaissError) a change FAISS would make to on-disk lists from an OpenMP region
// (removal, merging), where an error of the data file would end the process.
void RefuseOnDisk(const faiss::Index& index, const char* what);

}  // namespace faiss_native

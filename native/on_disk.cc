// On-disk inverted lists: checks, moving lists to disk, adding, merging shards, syncing.
#include "on_disk.h"

#include <faiss/IVFlib.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFastScan.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/impl/FaissAssert.h>

#include <memory>

#include "errors.h"
#include "index_handle.h"
#include "os.h"

#ifndef _WIN32
#include <faiss/invlists/DirectMap.h>
#include <faiss/invlists/OnDiskInvertedLists.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#endif

namespace faiss_native {

namespace {

// A FaissError: what the index is cannot do this.
[[noreturn]] void Refuse(const std::string& why) { throw FailureException({"FAISS_ERROR", why}); }

}  // namespace

#ifdef _WIN32

constexpr const char* kNoOnDisk = "on-disk inverted lists are not available on Windows (FAISS builds them on POSIX systems only)";

void RequireOnDisk() { Refuse(kNoOnDisk); }
std::optional<OnDiskData> OnDiskDataOf(const faiss::Index&) { return std::nullopt; }
bool CheckOnDiskLists(const faiss::InvertedLists&, faiss::idx_t) { return false; }
void MapSkippedLists(faiss::Index&) {}
void MoveListsToDisk(faiss::Index&, const std::string&) { Refuse(kNoOnDisk); }
void AddToDisk(faiss::Index&, faiss::idx_t, const float*, const faiss::idx_t*) { Refuse(kNoOnDisk); }
void MergeOnDisk(faiss::Index&, const std::vector<const faiss::Index*>&, const std::vector<std::string>&, const std::string&, bool,
                 const std::function<void()>&) {
  Refuse(kNoOnDisk);
}
void SyncOnDisk(const faiss::Index&) {}
bool SetPrefetchThreads(faiss::Index&, int) { return false; }
void RefuseOnDisk(const faiss::Index&, const char*) {}

#else

namespace {

using faiss::OnDiskInvertedLists;
constexpr size_t kEntry = sizeof(faiss::idx_t);

// The IVF layer lists can move to disk under: the index itself, or under pre-transforms (whose
// ntotal follows it). An IDMap or refinement above would look up ids the data file holds.
faiss::IndexIVF* IvfBelowTransforms(faiss::Index& index, std::vector<faiss::IndexPreTransform*>* transforms, const char* what) {
  faiss::Index* at = &index;
  while (auto* pre = dynamic_cast<faiss::IndexPreTransform*>(at)) {
    if (transforms) transforms->push_back(pre);
    at = pre->index;
  }
  auto* ivf = dynamic_cast<faiss::IndexIVF*>(at);
  if (ivf == nullptr) {
    Refuse(std::string(what) + " needs an IVF index (or a pre-transform over one); this one is " + ClassName(index));
  }
  if (dynamic_cast<faiss::IndexIVFFastScan*>(ivf)) {
    Refuse(std::string(what) + ": FastScan keeps its lists in blocks of its own, which cannot live on disk");
  }
  return ivf;
}

const OnDiskInvertedLists* OnDiskLists(const faiss::Index& index) {
  const faiss::IndexIVF* ivf = faiss::ivflib::try_extract_index_ivf(const_cast<faiss::Index*>(&index));
  return ivf ? dynamic_cast<const OnDiskInvertedLists*>(ivf->invlists) : nullptr;
}

// Bytes a list of `capacity` entries takes: its codes, then its ids.
size_t ListBytes(const OnDiskInvertedLists& lists, size_t capacity) {
  const size_t entry = lists.code_size + kEntry;
  FAISS_THROW_IF_NOT_FMT(lists.code_size < (size_t(1) << 32) && capacity <= SIZE_MAX / entry, "on-disk list of %zd entries overflows", capacity);
  return capacity * entry;
}

bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// FAISS's update_totsize opens the data file with "w": a data file that something still reads
// would be emptied under it.
void RefuseOverwrite(const std::string& path, const std::vector<std::string>& inUse) {
  for (const std::string& used : inUse) {
    if (!used.empty() && SameFile(path, used)) throw InvalidArgument(path + " is a file the index or its shards read from; write the lists to a new file");
  }
}

// FAISS's merge_from_multiple leaves the whole data file listed as free space (update_totsize
// marks what it adds as free; the merge then places the lists there without taking it), so an
// add after a merge would write over list 0. Free space is what the lists do not use.
void RebuildFreeSlots(OnDiskInvertedLists& lists) {
  std::vector<std::pair<size_t, size_t>> used;
  for (const auto& l : lists.lists) {
    if (l.capacity > 0) used.emplace_back(l.offset, ListBytes(lists, l.capacity));
  }
  std::sort(used.begin(), used.end());
  lists.slots.clear();
  size_t at = 0;
  for (const auto& [offset, bytes] : used) {
    if (offset > at) lists.slots.emplace_back(at, offset - at);
    at = std::max(at, offset + bytes);
  }
  if (at < lists.totsize) lists.slots.emplace_back(at, lists.totsize - at);
}

// A shard's lists with ids shifted: FAISS's merge_from_multiple shifts shard i by the sizes of
// shards 1..i instead of 0..i-1, so shards of different sizes got overlapping ids.
struct ShiftedLists : faiss::ReadOnlyInvertedLists {
  ShiftedLists(const faiss::InvertedLists& base, faiss::idx_t shift)
      : ReadOnlyInvertedLists(base.nlist, base.code_size), base(base), shift(shift) {}
  size_t list_size(size_t l) const override { return base.list_size(l); }
  const uint8_t* get_codes(size_t l) const override { return base.get_codes(l); }
  void release_codes(size_t l, const uint8_t* codes) const override { base.release_codes(l, codes); }
  const faiss::idx_t* get_ids(size_t l) const override {
    const size_t n = base.list_size(l);
    auto* out = new faiss::idx_t[n];
    ScopedIds ids(&base, l);
    for (size_t i = 0; i < n; i++) out[i] = ids[i] + shift;
    return out;
  }
  void release_ids(size_t, const faiss::idx_t* ids) const override { delete[] ids; }
  const faiss::InvertedLists& base;
  const faiss::idx_t shift;
};

// New on-disk lists at `path` holding the entries of `from`, in FAISS's compact layout.
std::unique_ptr<OnDiskInvertedLists> MergedOnDisk(const faiss::IndexIVF& ivf, const std::vector<const faiss::InvertedLists*>& from,
                                                  const std::string& path) {
  auto lists = std::make_unique<OnDiskInvertedLists>(ivf.nlist, ivf.code_size, path.c_str());
  size_t total = 0;
  for (const auto* l : from) total += l->compute_ntotal();
  // With nothing to place FAISS would map 0 bytes, which fails after emptying the file.
  if (total > 0) lists->merge_from_multiple(const_cast<const faiss::InvertedLists**>(from.data()), int(from.size()), false);
  return lists;
}

}  // namespace

void RequireOnDisk() {}

std::optional<OnDiskData> OnDiskDataOf(const faiss::Index& index) {
  const OnDiskInvertedLists* lists = OnDiskLists(index);
  if (lists == nullptr) return std::nullopt;
  return OnDiskData{lists->filename, lists->ptr, lists->totsize, !lists->read_only, lists->prefetch_nthread};
}

bool CheckOnDiskLists(const faiss::InvertedLists& il, faiss::idx_t ntotal) {
  auto* lists = dynamic_cast<const OnDiskInvertedLists*>(&il);
  if (lists == nullptr) return false;
  FAISS_THROW_IF_NOT_FMT(lists->lists.size() == lists->nlist, "on-disk lists table has %zd entries for nlist=%zd", lists->lists.size(),
                         lists->nlist);
  const size_t totsize = lists->totsize;
  size_t total = 0;
  for (size_t i = 0; i < lists->nlist; i++) {
    const auto& l = lists->lists[i];
    FAISS_THROW_IF_NOT_FMT(l.size <= l.capacity, "on-disk list %zd holds %zd entries in a capacity of %zd", i, l.size, l.capacity);
    if (l.capacity > 0) {
      const size_t bytes = ListBytes(*lists, l.capacity);
      FAISS_THROW_IF_NOT_FMT(l.offset <= totsize && bytes <= totsize - l.offset,
                             "on-disk list %zd (%zd bytes at %zd) ends past the %zd bytes of its data file", i, bytes, l.offset, totsize);
    }
    total += l.size;
  }
  FAISS_THROW_IF_NOT_FMT(total == size_t(ntotal), "on-disk lists hold %zd vectors, ntotal says %zd", total, size_t(ntotal));
  for (const auto& slot : lists->slots) {
    FAISS_THROW_IF_NOT_MSG(slot.offset <= totsize && slot.capacity <= totsize - slot.offset, "on-disk free space lies past the data file");
  }
  FAISS_THROW_IF_NOT_MSG(total == 0 || lists->ptr != nullptr, "on-disk lists not mapped (read with IO_FLAG_SKIP_IVF_DATA)");
  if (!lists->filename.empty() && lists->ptr != nullptr) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(os::OpenFile(lists->filename, "rb"), &std::fclose);
    os::FileStamp stamp;
    if (f == nullptr || !os::StampOf(f.get(), &stamp)) ThrowFileError("read", lists->filename);
    if (stamp.size < totsize) {
      throw FailureException({"CORRUPT_INDEX", "inverted-list data file " + lists->filename + " holds " + std::to_string(stamp.size) +
                                                   " bytes; the index's lists need " + std::to_string(totsize) + " (truncated?)"});
    }
  }
  return true;
}

void MapSkippedLists(faiss::Index& index) {
  auto* lists = const_cast<OnDiskInvertedLists*>(OnDiskLists(index));
  if (lists != nullptr && lists->ptr == nullptr && lists->totsize > 0 && !lists->filename.empty()) lists->do_mmap();
}

void MoveListsToDisk(faiss::Index& index, const std::string& path) {
  faiss::IndexIVF* ivf = IvfBelowTransforms(index, nullptr, "replaceInvlists");
  if (auto* current = dynamic_cast<const OnDiskInvertedLists*>(ivf->invlists)) RefuseOverwrite(path, {current->filename});
  auto lists = MergedOnDisk(*ivf, {ivf->invlists}, path);
  // Same entries at the same offsets within their lists: a direct map stays right.
  ivf->replace_invlists(lists.release(), true);
}

void AddToDisk(faiss::Index& index, faiss::idx_t n, const float* x, const faiss::idx_t* xids) {
  std::vector<faiss::IndexPreTransform*> transforms;
  faiss::IndexIVF* ivf = IvfBelowTransforms(index, &transforms, "adding to on-disk lists");
  FAISS_THROW_IF_NOT_MSG(ivf->is_trained, "the index is not trained");
  auto* lists = const_cast<OnDiskInvertedLists*>(OnDiskLists(*ivf));
  FAISS_THROW_IF_NOT_MSG(lists != nullptr && !lists->read_only, "the index's on-disk lists are read-only");
  std::unique_ptr<const float[]> owned;
  const float* xt = x;
  for (auto* pre : transforms) {
    const float* next = pre->apply_chain(n, xt);
    if (next != xt) owned.reset(xt = next);
  }
  std::vector<faiss::idx_t> assign(n);
  ivf->quantizer->assign(n, xt, assign.data());
  std::vector<uint8_t> codes(size_t(n) * ivf->code_size);
  ivf->encode_vectors(n, xt, assign.data(), codes.data());
  RebuildFreeSlots(*lists);
  faiss::DirectMapAdd directMap(ivf->direct_map, n, xids);
  for (faiss::idx_t i = 0; i < n; i++) {
    if (assign[i] < 0) {
      directMap.add(i, -1, 0);
      continue;
    }
    const size_t offset = lists->add_entry(assign[i], xids ? xids[i] : ivf->ntotal + i, codes.data() + i * ivf->code_size);
    directMap.add(i, assign[i], offset);
  }
  ivf->ntotal += n;
  for (auto* pre : transforms) pre->ntotal += n;
}

void MergeOnDisk(faiss::Index& trained, const std::vector<const faiss::Index*>& shards, const std::vector<std::string>& shardFiles,
                 const std::string& path, bool shiftIds, const std::function<void()>& beforeReplace) {
  std::vector<faiss::IndexPreTransform*> transforms;
  faiss::IndexIVF* ivf = IvfBelowTransforms(trained, &transforms, "mergeOnDisk");
  if (trained.ntotal != 0) Refuse("mergeOnDisk merges into an empty trained index; this one holds " + std::to_string(trained.ntotal) + " vectors");
  if (shards.empty()) throw InvalidArgument("mergeOnDisk needs at least one shard");
  std::vector<std::unique_ptr<ShiftedLists>> shifted;
  std::vector<const faiss::InvertedLists*> from;
  std::vector<std::string> inUse(shardFiles);
  faiss::idx_t shift = 0;
  for (size_t i = 0; i < shards.size(); i++) {
    const faiss::IndexIVF* shard = faiss::ivflib::try_extract_index_ivf(const_cast<faiss::Index*>(shards[i]));
    if (shard == nullptr) Refuse("shard " + std::to_string(i) + " has no IVF layer");
    try {
      ivf->check_compatible_for_merge(*shard);  // type, nlist, code size, the same centroids
    } catch (const faiss::FaissException& e) {
      Refuse("shard " + std::to_string(i) + " was not built from this trained index: " + e.msg);
    }
    const faiss::InvertedLists* lists = shard->invlists;
    if (auto* od = dynamic_cast<const OnDiskInvertedLists*>(lists)) inUse.push_back(od->filename);
    if (shiftIds) {
      shifted.push_back(std::make_unique<ShiftedLists>(*lists, shift));
      lists = shifted.back().get();
    }
    from.push_back(lists);
    shift += shard->ntotal;
  }
  if (auto* current = dynamic_cast<const OnDiskInvertedLists*>(ivf->invlists)) inUse.push_back(current->filename);
  RefuseOverwrite(path, inUse);
  auto lists = MergedOnDisk(*ivf, from, path);
  const faiss::idx_t ntotal = faiss::idx_t(lists->compute_ntotal());
  if (ntotal == 0) Refuse("mergeOnDisk: the shards hold no vectors");
  beforeReplace();
  ivf->replace_invlists(lists.release(), true);
  ivf->ntotal = ntotal;
  for (auto* pre : transforms) pre->ntotal = ntotal;
}

bool SetPrefetchThreads(faiss::Index& index, int threads) {
  auto* lists = const_cast<OnDiskInvertedLists*>(OnDiskLists(index));
  if (lists == nullptr) return false;
  lists->prefetch_nthread = threads;
  return true;
}

void SyncOnDisk(const faiss::Index& index) {
  const OnDiskInvertedLists* lists = OnDiskLists(index);
  if (lists == nullptr || lists->read_only || lists->ptr == nullptr) return;
  if (msync(lists->ptr, lists->totsize, MS_SYNC) != 0) ThrowFileError("write", lists->filename);
}

void RefuseOnDisk(const faiss::Index& index, const char* what) {
  if (OnDiskLists(index) == nullptr) return;
  Refuse(std::string(what) + " is not supported on on-disk inverted lists (FAISS changes them from several threads, where an error of the data file would end the process): rebuild in memory and move or merge the lists to disk");
}

#endif

}  // namespace faiss_native

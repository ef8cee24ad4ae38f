// Index IO: atomic file writes, reads with IO flags, in-memory buffers, post-load checks.
#include "index_io.h"

#include <faiss/IVFlib.h>
#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryHNSW.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexIVFFastScan.h>
#include <faiss/IndexIVFPQFastScan.h>
#include <faiss/IndexIVFRaBitQ.h>
#include <faiss/IndexPQFastScan.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRaBitQ.h>
#include <faiss/IndexRefine.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/VectorTransform.h>
#include <faiss/impl/FaissAssert.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/invlists/BlockInvertedLists.h>
#include <faiss/invlists/InvertedLists.h>
#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <typeinfo>

#include "args.h"
#include "errors.h"
#include "index_handle.h"
#include "load_guard.h"
#include "on_disk.h"
#include "os.h"

namespace faiss_native {

namespace {

// FAISS builds an IndexIDMap2's reverse map inside read_index, from a header count it never
// compares with the ids it read, so a corrupted count reads out of bounds before any check of
// ours can run. A top-level IndexIDMap2 ("IxM2") is therefore read as the IndexIDMap ("IxMp")
// it is on disk, checked, and only then given its reverse map (AsIdMap2).
// The binary IndexBinaryIDMap2 ("IBM2") likewise.
constexpr char kIdMap2[4] = {'I', 'x', 'M', '2'};
constexpr char kIdMap[4] = {'I', 'x', 'M', 'p'};
constexpr char kBinaryIdMap2[4] = {'I', 'B', 'M', '2'};
constexpr char kBinaryIdMap[4] = {'I', 'B', 'M', 'p'};

// Reads through Base, turning a leading "IxM2" into "IxMp" (or "IBM2" into "IBMp") and
// remembering that it did.
template <typename Base>
struct IdMap2AsIdMap : Base {
  using Base::Base;
  size_t operator()(void* ptr, size_t itemSize, size_t nitems) override {
    size_t got = Base::operator()(ptr, itemSize, nitems);
    if (first && itemSize * nitems == 4 && got == nitems) {
      for (const auto& [two, one] : {std::pair{kIdMap2, kIdMap}, std::pair{kBinaryIdMap2, kBinaryIdMap}}) {
        if (std::memcmp(ptr, two, 4) != 0) continue;
        std::memcpy(ptr, one, 4);
        wasIdMap2 = true;
      }
    }
    first = false;
    return got;
  }
  bool first = true;
  bool wasIdMap2 = false;
};

// Copies whole items from data[pos, size) and advances pos: a short count at the end.
size_t CopyItems(const uint8_t* data, size_t size, size_t& pos, void* ptr, size_t itemSize, size_t nitems) {
  if (itemSize == 0 || pos >= size) return 0;
  size_t n = std::min(nitems, (size - pos) / itemSize);
  std::memcpy(ptr, data + pos, n * itemSize);
  pos += n * itemSize;
  return n;
}

// An IOReader over a caller's bytes (a Node Buffer kept alive by the job).
struct BytesReader : faiss::IOReader {
  BytesReader(const uint8_t* data, size_t size) : data(data), size(size) { name = "<buffer>"; }
  size_t operator()(void* ptr, size_t itemSize, size_t nitems) override { return CopyItems(data, size, pos, ptr, itemSize, nitems); }
  const uint8_t* data;
  size_t size;
  size_t pos = 0;
};

// FAISS's reader of mapped files, with copies that stay inside the mapping: FAISS's own rounds
// a partial last item up, moves past the end, and its next read underflows into a wild memcpy
// (a truncated file crashed the process). Its views (mmap(), not virtual) can still reach up
// to one item past the end, which ReadIndexFile checks after the read.
struct MappedFileReader : faiss::MappedFileIOReader {
  using faiss::MappedFileIOReader::MappedFileIOReader;
  size_t operator()(void* ptr, size_t itemSize, size_t nitems) override {
    return CopyItems(static_cast<const uint8_t*>(mmap_owner->data()), mmap_owner->size(), pos, ptr, itemSize, nitems);
  }
};
using SpanReader = IdMap2AsIdMap<BytesReader>;
using FileReader = IdMap2AsIdMap<faiss::FileIOReader>;
using MappedReader = IdMap2AsIdMap<MappedFileReader>;

// The IndexIDMap2 (or IndexBinaryIDMap2) an IDMap read from "IxM2" ("IBM2") bytes stands for,
// once it passed the checks.
template <typename IndexT>
IndexT* AsIdMap2(std::unique_ptr<IndexT> loaded) {
  auto* idmap = dynamic_cast<faiss::IndexIDMapTemplate<IndexT>*>(loaded.get());
  FAISS_THROW_IF_NOT_MSG(idmap != nullptr, "IDMap2 bytes did not hold an IDMap");
  auto two = std::make_unique<faiss::IndexIDMap2Template<IndexT>>();
  static_cast<IndexT&>(*two) = static_cast<const IndexT&>(*idmap);  // d, ntotal, metric, ...
  two->index = idmap->index;
  two->own_fields = idmap->own_fields;
  idmap->own_fields = false;
  two->id_map = std::move(idmap->id_map);
  two->construct_rev_map();
  return two.release();
}

void CheckScalarQuantizer(const faiss::ScalarQuantizer& sq, int d, bool trained) {
  using SQ = faiss::ScalarQuantizer;
  FAISS_THROW_IF_NOT_FMT(sq.qtype >= 0 && sq.qtype <= SQ::QT_8bit_direct_signed,
                         "index uses scalar quantizer type %d, which FAISS %s does not know", int(sq.qtype),
                         VERSION_STRING);
  FAISS_THROW_IF_NOT_FMT(size_t(sq.d) == size_t(d), "scalar quantizer dimension %zd differs from the index's %d", sq.d, d);
  SQ expected(d, sq.qtype);
  FAISS_THROW_IF_NOT_FMT(sq.code_size == expected.code_size, "scalar quantizer code size %zd, expected %zd", sq.code_size,
                         expected.code_size);
  // Trained ranges: min and width per dimension, or one pair for the uniform types, none for
  // the types that need no training.
  size_t ranges = 0;
  if (sq.qtype == SQ::QT_8bit || sq.qtype == SQ::QT_4bit || sq.qtype == SQ::QT_6bit) ranges = 2 * size_t(d);
  if (sq.qtype == SQ::QT_8bit_uniform || sq.qtype == SQ::QT_4bit_uniform) ranges = 2;
  FAISS_THROW_IF_NOT_FMT(!trained || sq.trained.size() == ranges, "scalar quantizer holds %zd trained values, expected %zd",
                         sq.trained.size(), ranges);
}

// Most candidates per result an IndexRefine asks its base index for (lib/search-params.ts
// MAX_K_FACTOR).
constexpr float kMaxKFactor = 65536;
// Most bits a RaBitQ query is quantized to (lib/rabitq.ts MAX_QB): FAISS's quantized query
// values are bytes.
constexpr uint8_t kMaxQueryBits = 8;
// Most vectors in a FastScan block (FAISS writes 32 by default; lib's classes take up to this).
constexpr int kMaxFastScanBlock = 1024;
// Most queries an IVF FastScan search batches (FAISS's default: 11).
constexpr size_t kMaxFastScanQueryBatch = 4096;

// a * b for sizes read from a file. A product that wraps around 2^64 could equal the real size
// and let a lying count through (ntotal = 2^60 + n with 16-byte codes), so it is an error.
size_t Product(size_t a, size_t b, const char* what) {
  size_t out;
  FAISS_THROW_IF_NOT_FMT(!__builtin_mul_overflow(a, b, &out), "%s overflows: %zd x %zd", what, a, b);
  return out;
}

// The types whose sizes ValidateLoaded checks in full. Any other (which a file from Python or a
// crafted one may hold) is refused rather than trusted: its unchecked fields could still
// send a search out of bounds. New families join with their checks.
void CheckSupported(const faiss::Index& index) {
  const std::type_info& t = typeid(index);
  if (t == typeid(faiss::IndexFlat) || t == typeid(faiss::IndexFlatIP) || t == typeid(faiss::IndexFlatL2) ||
      t == typeid(faiss::IndexScalarQuantizer) || t == typeid(faiss::IndexIVFFlat) || t == typeid(faiss::IndexIVFScalarQuantizer) ||
      t == typeid(faiss::IndexIDMap) || t == typeid(faiss::IndexIDMap2) || t == typeid(faiss::IndexPreTransform) ||
      t == typeid(faiss::IndexHNSWFlat) || t == typeid(faiss::IndexIVFPQ) || t == typeid(faiss::IndexRefine) ||
      t == typeid(faiss::IndexRefineFlat) || t == typeid(faiss::IndexRaBitQ) || t == typeid(faiss::IndexIVFRaBitQ) ||
      t == typeid(faiss::IndexPQFastScan) || t == typeid(faiss::IndexIVFPQFastScan)) {
    return;
  }
  throw FailureException({"FAISS_ERROR", "faiss-native does not load " + TypeName(t) + " indexes yet (unless read with trusted: true)"});
}

// A pre-transform step: its matrices and maps against its dimensions, or refused when unknown.
void CheckTransform(const faiss::VectorTransform& t, LoadTypes types) {
  FAISS_THROW_IF_NOT_FMT(t.d_in > 0 && t.d_out > 0, "pre-transform dimensions %d -> %d", t.d_in, t.d_out);
  if (auto* linear = dynamic_cast<const faiss::LinearTransform*>(&t)) {
    FAISS_THROW_IF_NOT_FMT(!t.is_trained || linear->A.size() == Product(size_t(t.d_in), size_t(t.d_out), "transform matrix size"),
                           "transform matrix holds %zd values for %d x %d", linear->A.size(), t.d_out, t.d_in);
    FAISS_THROW_IF_NOT_FMT(!t.is_trained || !linear->have_bias || linear->b.size() == size_t(t.d_out),
                           "transform bias holds %zd values for %d outputs", linear->b.size(), t.d_out);
  } else if (auto* centering = dynamic_cast<const faiss::CenteringTransform*>(&t)) {
    FAISS_THROW_IF_NOT_MSG(t.d_in == t.d_out && (!t.is_trained || centering->mean.size() == size_t(t.d_in)),
                           "centering transform does not match its dimension");
  } else if (auto* remap = dynamic_cast<const faiss::RemapDimensionsTransform*>(&t)) {
    FAISS_THROW_IF_NOT_MSG(remap->map.size() == size_t(t.d_out), "dimension map size differs from its output dimension");
    for (int j : remap->map) FAISS_THROW_IF_NOT_MSG(j >= -1 && j < t.d_in, "dimension map points outside its input");
  } else if (dynamic_cast<const faiss::NormalizationTransform*>(&t)) {
    FAISS_THROW_IF_NOT_MSG(t.d_in == t.d_out, "normalization changes the dimension");
  } else if (types == LoadTypes::kChecked) {
    throw FailureException({"FAISS_ERROR", "faiss-native does not load " + TypeName(typeid(t)) +
                                               " pre-transforms yet (unless read with trusted: true)"});
  }
}

// A product quantizer against its index (of code size `codeSize`): FAISS indexes its centroids
// by the codes.
void CheckPq(const faiss::ProductQuantizer& pq, const faiss::Index& index, size_t codeSize) {
  FAISS_THROW_IF_NOT_FMT(pq.d == size_t(index.d), "product quantizer dimension %zd differs from the index's %d", pq.d, index.d);
  FAISS_THROW_IF_NOT_FMT(pq.M > 0 && pq.d % pq.M == 0 && pq.nbits >= 1 && pq.nbits <= 24,
                         "product quantizer of M=%zd, nbits=%zd does not fit d=%zd", pq.M, pq.nbits, pq.d);
  FAISS_THROW_IF_NOT_FMT(pq.code_size == (pq.M * pq.nbits + 7) / 8 && codeSize == pq.code_size,
                         "product quantizer code size %zd, index code size %zd", pq.code_size, codeSize);
  FAISS_THROW_IF_NOT_FMT(!index.is_trained || pq.centroids.size() == pq.d * pq.ksub, "product quantizer holds %zd centroid values, expected %zd",
                         pq.centroids.size(), pq.d * pq.ksub);
}

// FastScan's layout (IndexPQFastScan, IndexIVFPQFastScan): 4-bit codes of M2 (M rounded up to
// even) sub-quantizers, interleaved in blocks of bbs vectors (a multiple of 32), bbs x M2 / 2
// bytes a block.
void CheckFastScan(const faiss::ProductQuantizer& pq, int bbs, size_t M2) {
  FAISS_THROW_IF_NOT_FMT(pq.nbits == 4, "FastScan codes have 4 bits; this product quantizer has %zd", pq.nbits);
  FAISS_THROW_IF_NOT_FMT(bbs > 0 && bbs % 32 == 0 && bbs <= kMaxFastScanBlock, "FastScan block size bbs=%d must be a multiple of 32, at most %d", bbs,
                         kMaxFastScanBlock);
  FAISS_THROW_IF_NOT_FMT(M2 == (pq.M + 1) / 2 * 2, "FastScan M2=%zd for M=%zd", M2, pq.M);
}

// A RaBitQ quantizer against its index (`codeSize`, `qb` its own): a code is d sign bits and
// the factors FAISS reads after them, and queries are quantized to qb bits (0: not at all).
void CheckRaBitQ(const faiss::RaBitQuantizer& rabitq, const faiss::Index& index, size_t codeSize, uint8_t qb) {
  FAISS_THROW_IF_NOT_FMT(rabitq.d == size_t(index.d), "RaBitQ quantizer dimension %zd differs from the index's %d", rabitq.d, index.d);
  const size_t expected = faiss::RaBitQuantizer(rabitq.d).code_size;
  FAISS_THROW_IF_NOT_FMT(rabitq.code_size == expected && codeSize == expected, "RaBitQ code size %zd (index: %zd), expected %zd for d=%zd",
                         rabitq.code_size, codeSize, expected, rabitq.d);
  FAISS_THROW_IF_NOT_MSG(rabitq.metric_type == index.metric_type, "RaBitQ quantizer metric differs from the index's");
  FAISS_THROW_IF_NOT_MSG(index.metric_type == faiss::METRIC_L2 || index.metric_type == faiss::METRIC_INNER_PRODUCT,
                         "RaBitQ index whose metric is neither L2 nor inner product");
  FAISS_THROW_IF_NOT_FMT(qb <= kMaxQueryBits, "RaBitQ query bits qb=%d must be 0..%d", int(qb), int(kMaxQueryBits));
}

// The graph of an HNSW index of n vectors: FAISS follows its offsets and neighbour ids unchecked.
void CheckHnswGraph(const faiss::HNSW& g, size_t n) {
  const auto& cum = g.cum_nneighbor_per_level;
  FAISS_THROW_IF_NOT_MSG(cum.size() >= 2 && cum[0] == 0, "HNSW neighbour counts per level are missing");
  FAISS_THROW_IF_NOT_MSG(g.assign_probas.size() + 1 == cum.size(), "HNSW level probabilities and neighbour counts differ in number");
  for (size_t l = 1; l < cum.size(); l++) FAISS_THROW_IF_NOT_MSG(cum[l] >= cum[l - 1], "HNSW neighbour counts decrease");
  FAISS_THROW_IF_NOT_FMT(g.levels.size() == n, "HNSW holds levels of %zd vectors, ntotal says %zd", g.levels.size(), n);
  FAISS_THROW_IF_NOT_FMT(g.offsets.size() == n + 1 && g.offsets[0] == 0, "HNSW holds %zd offsets for %zd vectors", g.offsets.size(), n);
  int top = 0;
  for (size_t i = 0; i < n; i++) {
    const int level = g.levels[i];
    FAISS_THROW_IF_NOT_FMT(level >= 1 && size_t(level) < cum.size(), "HNSW vector %zd has level %d", i, level);
    FAISS_THROW_IF_NOT_FMT(g.offsets[i + 1] >= g.offsets[i] && g.offsets[i + 1] - g.offsets[i] == size_t(cum[level]),
                           "HNSW offsets of vector %zd do not match its level", i);
    top = std::max(top, level);
  }
  FAISS_THROW_IF_NOT_FMT(g.neighbors.size() == g.offsets[n], "HNSW holds %zd links, its offsets say %zd", g.neighbors.size(), g.offsets[n]);
  const faiss::HNSW::storage_idx_t* links = g.neighbors.data();
  for (size_t j = 0; j < g.neighbors.size(); j++) {
    FAISS_THROW_IF_NOT_MSG(links[j] >= -1 && size_t(links[j] + 1) <= n, "HNSW link points outside the index");
  }
  if (n == 0) {
    FAISS_THROW_IF_NOT_MSG(g.entry_point == -1, "empty HNSW index with an entry point");
  } else {
    FAISS_THROW_IF_NOT_MSG(g.entry_point >= 0 && size_t(g.entry_point) < n, "HNSW entry point outside the index");
    FAISS_THROW_IF_NOT_MSG(g.max_level == top - 1 && g.levels[size_t(g.entry_point)] == top,
                           "HNSW top level does not match its entry point");
  }
  // Both size the candidate heaps of every search or add: a lying value would allocate gigabytes.
  constexpr int kMaxEf = 1 << 20;
  FAISS_THROW_IF_NOT_FMT(g.efSearch > 0 && g.efSearch <= kMaxEf && g.efConstruction > 0 && g.efConstruction <= kMaxEf,
                         "HNSW efSearch %d and efConstruction %d must be 1..%d", g.efSearch, g.efConstruction, kMaxEf);
}

void CheckHnsw(const faiss::IndexHNSW& index) {
  CheckHnswGraph(index.hnsw, size_t(index.ntotal));
  FAISS_THROW_IF_NOT_MSG(index.storage != nullptr && index.storage->d == index.d && index.storage->ntotal == index.ntotal,
                         "HNSW storage does not match the index");
  if (IsPlainFlat(*index.storage)) {
    // As for added vectors (index_wrap.cc): a value past the bound would make the search loop.
    const auto& flat = static_cast<const faiss::IndexFlat&>(*index.storage);
    const float* x = flat.get_xb();
    const size_t count = flat.codes.size() / sizeof(float);
    for (size_t i = 0; i < count; i++) {
      FAISS_THROW_IF_NOT_MSG(std::fabs(x[i]) <= kMaxGraphMagnitude, "HNSW storage holds a value that is not finite or beyond 1e15");
    }
  }
}

// Inverted lists of codeSize-byte codes, ntotal in all.
void CheckCodeLists(const faiss::InvertedLists& lists, size_t codeSize, faiss::idx_t ntotal) {
  FAISS_THROW_IF_NOT_FMT(lists.code_size == codeSize, "inverted lists code size %zd, the index's %zd", lists.code_size, codeSize);
  if (auto* array = dynamic_cast<const faiss::ArrayInvertedLists*>(&lists)) {
    size_t total = 0;
    for (size_t i = 0; i < array->nlist; i++) {
      FAISS_THROW_IF_NOT_FMT(array->codes[i].size() == Product(array->ids[i].size(), array->code_size, "inverted list size"),
                             "inverted list %zd holds %zd ids but %zd bytes of codes", i, array->ids[i].size(),
                             array->codes[i].size());
      total += array->ids[i].size();
    }
    FAISS_THROW_IF_NOT_FMT(total == size_t(ntotal), "inverted lists hold %zd vectors, ntotal says %zd", total, size_t(ntotal));
  }
}

// Direct map entries point at (list, offset) pairs that must exist.
void CheckDirectMap(const faiss::DirectMap& map, const faiss::InvertedLists& lists, faiss::idx_t ntotal) {
  auto checkEntry = [&](faiss::idx_t lo) {
    if (lo < 0) return;  // removed
    size_t list = faiss::lo_listno(lo), offset = faiss::lo_offset(lo);
    FAISS_THROW_IF_NOT_MSG(list < lists.nlist && offset < lists.list_size(list), "direct map points outside the lists");
  };
  if (map.type == faiss::DirectMap::Array) {
    FAISS_THROW_IF_NOT_MSG(map.array.size() == size_t(ntotal), "direct map size differs from ntotal");
    for (faiss::idx_t lo : map.array) checkEntry(lo);
  } else if (map.type == faiss::DirectMap::Hashtable) {
    for (const auto& entry : map.hashtable) checkEntry(entry.second);
  }
}

void CheckInvertedLists(const faiss::IndexIVF& ivf) {
  const faiss::InvertedLists* lists = ivf.invlists;
  FAISS_THROW_IF_NOT_MSG(lists != nullptr, "IVF index without inverted lists");
  FAISS_THROW_IF_NOT_FMT(lists->nlist == ivf.nlist, "inverted lists hold %zd lists, the index %zd", lists->nlist, ivf.nlist);
  FAISS_THROW_IF_NOT_MSG(dynamic_cast<const faiss::IndexIVFFastScan*>(&ivf) == nullptr || dynamic_cast<const faiss::BlockInvertedLists*>(lists),
                         "FastScan index whose inverted lists are not in blocks");
  if (auto* blocks = dynamic_cast<const faiss::BlockInvertedLists*>(lists)) {
    // FastScan's: each list's codes in blocks of bbs vectors, bbs x M2 / 2 bytes a block.
    auto* fast = dynamic_cast<const faiss::IndexIVFFastScan*>(&ivf);
    FAISS_THROW_IF_NOT_MSG(fast != nullptr, "block inverted lists under an index that is not FastScan");
    FAISS_THROW_IF_NOT_FMT(blocks->n_per_block == size_t(fast->bbs) && blocks->block_size == size_t(fast->bbs) * fast->M2 / 2,
                           "inverted lists in blocks of %zd vectors, %zd bytes; the index's bbs=%d, M2=%zd", blocks->n_per_block,
                           blocks->block_size, fast->bbs, fast->M2);
    size_t total = 0;
    for (size_t i = 0; i < blocks->nlist; i++) {
      const size_t n = blocks->ids[i].size();
      FAISS_THROW_IF_NOT_FMT(blocks->codes[i].size() == Product((n + blocks->n_per_block - 1) / blocks->n_per_block, blocks->block_size, "inverted list size"),
                             "inverted list %zd holds %zd ids but %zd bytes of codes", i, n, blocks->codes[i].size());
      total += n;
    }
    FAISS_THROW_IF_NOT_FMT(total == size_t(ivf.ntotal), "inverted lists hold %zd vectors, ntotal says %zd", total, size_t(ivf.ntotal));
  } else {
    CheckCodeLists(*lists, ivf.code_size, ivf.ntotal);
    CheckOnDiskLists(*lists, ivf.ntotal);
  }
  CheckDirectMap(ivf.direct_map, *lists, ivf.ntotal);
}

// What FAISS, the standard library (a length_error from a vector sized by a corrupted count)
// or our checks refuse while loading untrusted bytes is corrupt data; except a data file of
// on-disk lists that FAISS could not open (its "could not open <file> in mode r+: <why>").
Failure AsCorrupt(Failure failure) {
  const size_t open = failure.message.find("could not open ");
  if (failure.code == "FAISS_ERROR" && open != std::string::npos) {
    failure.code = "IO_ERROR";
    failure.message = "cannot read the inverted-list data file the index names: " + failure.message.substr(open + 15);
  } else if (failure.code == "FAISS_ERROR" || failure.code == "NATIVE_ERROR") {
    failure.code = "CORRUPT_INDEX";
  }
  return failure;
}

// Each id an IVF layer's lists hold (in memory; lists on disk are refused unless trusted, as
// checking them would read the whole data file) lies in [0, n): positions in an IDMap or in a
// refinement's refine index.
void CheckListIds(const faiss::IndexIVF& ivf, faiss::idx_t n, LoadTypes types, const char* over) {
  const faiss::InvertedLists* lists = ivf.invlists;
  if (OnDiskDataOf(ivf)) {
    FAISS_THROW_IF_NOT_FMT(types == LoadTypes::kAny, "%s over on-disk inverted lists, whose ids faiss-native does not check (read with trusted: true)", over);
    return;
  }
  for (size_t l = 0; l < lists->nlist; l++) {
    faiss::InvertedLists::ScopedIds ids(lists, l);
    for (size_t j = 0, size = lists->list_size(l); j < size; j++) {
      FAISS_THROW_IF_NOT_FMT(ids[j] >= 0 && ids[j] < n, "%s whose IVF layer holds an id outside 0..%zd", over, size_t(n));
    }
  }
}

// IVF-PQ's precomputed tables are built from its quantizers once they passed the checks
// (CheckLoaded), not by FAISS's reader from sizes nobody checked yet.
constexpr int kReadFlags = faiss::IO_FLAG_SKIP_PRECOMPUTE_TABLE;

// Runs a FAISS read under a LoadGuard: bounded allocations, and the partial index FAISS
// leaks when its reader throws (or divides by zero) is freed (after the error is copied out
// of FAISS's exception). FAISS divides by sizes it has read before any check can run
// (ProductQuantizer's set_derived_values computes d % M, so M = 0 in a file was a SIGFPE that
// killed the process): the division fault abandons the read instead.
template <typename T>
std::unique_ptr<T> GuardedRead(size_t inputBytes, const std::function<T*()>& read) {
  Failure failure;
  {
    LoadGuard guard(LoadBudgetFor(inputBytes));
    std::unique_ptr<T> index;
    const bool completed = os::RunCatchingDivideFault([&] {
      try {
        index.reset(read());
      } catch (...) {
        guard.Pause();
        failure = AsCorrupt(DescribeCurrentException());
      }
    });
    if (!completed) {
      guard.Pause();
      failure = {"CORRUPT_INDEX", "index data holds a zero size that FAISS divides by"};
    } else if (index) {
      guard.Keep();
      return index;
    }
  }
  throw FailureException(std::move(failure));
}

// The checks every loaded index passes, then the reverse map of an IndexIDMap2.
std::unique_ptr<faiss::Index> CheckLoaded(std::unique_ptr<faiss::Index> index, bool wasIdMap2, LoadTypes types) {
  try {
    ValidateLoaded(*index, types);
    faiss::IndexIVF* ivf = faiss::ivflib::try_extract_index_ivf(index.get());
    auto* ivfpq = dynamic_cast<faiss::IndexIVFPQ*>(ivf);
    if (ivfpq != nullptr && ivfpq->is_trained && ivfpq->by_residual) ivfpq->precompute_table();  // as FAISS's reader would
    if (auto* fast = dynamic_cast<faiss::IndexIVFPQFastScan*>(ivf)) {
      fast->precompute_table();  // (its reader always does: patched)
      // FAISS's reader leaves the quantizer that decodes (reconstruct) unset, where its
      // constructor points it at the product quantizer: reconstruct read through null.
      fast->fine_quantizer = &fast->pq;
    }
    return wasIdMap2 ? std::unique_ptr<faiss::Index>(AsIdMap2(std::move(index))) : std::move(index);
  } catch (const FailureException&) {
    throw;  // already classified (a type this binding does not load)
  } catch (...) {
    throw FailureException(AsCorrupt(DescribeCurrentException()));
  }
}

// The binary counterpart of CheckLoaded.
std::unique_ptr<faiss::IndexBinary> CheckLoaded(std::unique_ptr<faiss::IndexBinary> index, bool wasIdMap2) {
  try {
    ValidateLoaded(*index);
    return wasIdMap2 ? std::unique_ptr<faiss::IndexBinary>(AsIdMap2(std::move(index))) : std::move(index);
  } catch (const FailureException&) {
    throw;
  } catch (...) {
    throw FailureException(AsCorrupt(DescribeCurrentException()));
  }
}

}  // namespace

void ValidateLoaded(const faiss::IndexBinary& index) {
  const std::type_info& t = typeid(index);
  if (t != typeid(faiss::IndexBinaryFlat) && t != typeid(faiss::IndexBinaryIVF) && t != typeid(faiss::IndexBinaryHNSW) &&
      t != typeid(faiss::IndexBinaryIDMap) && t != typeid(faiss::IndexBinaryIDMap2)) {
    throw FailureException({"FAISS_ERROR", "faiss-native does not load " + TypeName(t) + " indexes (binary: Flat, IVF, HNSW, IDMap, IDMap2)"});
  }
  FAISS_THROW_IF_NOT_FMT(index.d > 0 && index.d % 8 == 0, "binary index has d=%d bits (a positive multiple of 8)", index.d);
  FAISS_THROW_IF_NOT_FMT(index.code_size == index.d / 8, "binary index has code size %d for d=%d bits", index.code_size, index.d);
  FAISS_THROW_IF_NOT_FMT(index.ntotal >= 0, "index has ntotal %zd", size_t(index.ntotal));
  // Hamming distances are smaller-is-better; an IVF with another metric would rank them backwards.
  FAISS_THROW_IF_NOT_FMT(index.metric_type == faiss::METRIC_L2, "binary index has metric %d (Hamming indexes record 1)", int(index.metric_type));
  if (auto* flat = dynamic_cast<const faiss::IndexBinaryFlat*>(&index)) {
    FAISS_THROW_IF_NOT_FMT(flat->xb.size() == Product(size_t(index.ntotal), size_t(index.code_size), "codes size"),
                           "index holds %zd bytes of codes for %zd vectors of %d bytes", flat->xb.size(), size_t(index.ntotal), index.code_size);
  }
  if (auto* ivf = dynamic_cast<const faiss::IndexBinaryIVF*>(&index)) {
    FAISS_THROW_IF_NOT_MSG(ivf->nlist > 0, "IVF index with no lists");
    FAISS_THROW_IF_NOT_MSG(ivf->quantizer != nullptr && ivf->quantizer->d == index.d, "binary IVF quantizer missing or of another dimension");
    ValidateLoaded(*ivf->quantizer);
    FAISS_THROW_IF_NOT_MSG(!ivf->is_trained || size_t(ivf->quantizer->ntotal) == ivf->nlist,
                           "trained IVF index whose quantizer does not hold nlist centroids");
    auto* lists = dynamic_cast<const faiss::ArrayInvertedLists*>(ivf->invlists);
    FAISS_THROW_IF_NOT_MSG(lists != nullptr, "binary IVF index without in-memory inverted lists");
    FAISS_THROW_IF_NOT_FMT(lists->nlist == ivf->nlist, "inverted lists hold %zd lists, the index %zd", lists->nlist, ivf->nlist);
    CheckCodeLists(*lists, size_t(index.code_size), index.ntotal);
    CheckDirectMap(ivf->direct_map, *lists, index.ntotal);
  }
  if (auto* hnsw = dynamic_cast<const faiss::IndexBinaryHNSW*>(&index)) {
    CheckHnswGraph(hnsw->hnsw, size_t(index.ntotal));
    auto* storage = dynamic_cast<const faiss::IndexBinaryFlat*>(hnsw->storage);
    FAISS_THROW_IF_NOT_MSG(storage != nullptr && storage->d == index.d && storage->ntotal == index.ntotal,
                           "binary HNSW storage is not an IndexBinaryFlat of its vectors");
    ValidateLoaded(*storage);
  }
  if (auto* idmap = dynamic_cast<const faiss::IndexBinaryIDMap*>(&index)) {
    FAISS_THROW_IF_NOT_MSG(idmap->index != nullptr && idmap->index->d == index.d, "IDMap sub-index missing or of another dimension");
    FAISS_THROW_IF_NOT_MSG(idmap->id_map.size() == size_t(idmap->index->ntotal) && idmap->id_map.size() == size_t(index.ntotal),
                           "IDMap id count differs from its sub-index or its ntotal");
    ValidateLoaded(*idmap->index);
    // The sub-index returns positions into id_map; an IVF stores them in its lists.
    if (auto* ivf = dynamic_cast<const faiss::IndexBinaryIVF*>(idmap->index)) {
      auto* lists = static_cast<const faiss::ArrayInvertedLists*>(ivf->invlists);
      for (size_t i = 0; i < lists->nlist; i++) {
        for (faiss::idx_t id : lists->ids[i]) {
          FAISS_THROW_IF_NOT_MSG(id >= 0 && size_t(id) < idmap->id_map.size(), "IDMap sub-index holds a position outside its ids");
        }
      }
    }
  }
}

void ValidateLoaded(const faiss::Index& index, LoadTypes types) {
  if (types == LoadTypes::kChecked) CheckSupported(index);
  FAISS_THROW_IF_NOT_FMT(index.d > 0, "index has dimension %d", index.d);
  FAISS_THROW_IF_NOT_FMT(index.ntotal >= 0, "index has ntotal %zd", size_t(index.ntotal));
  FAISS_THROW_IF_NOT_FMT((index.metric_type >= faiss::METRIC_INNER_PRODUCT && index.metric_type <= faiss::METRIC_Lp) ||
                             (index.metric_type >= faiss::METRIC_Canberra && index.metric_type <= faiss::METRIC_GOWER),
                         "index has unknown metric type %d", int(index.metric_type));
  if (auto* rabitq = dynamic_cast<const faiss::IndexRaBitQ*>(&index)) {  // before its codes' size, which its code size sets
    CheckRaBitQ(rabitq->rabitq, index, rabitq->code_size, rabitq->qb);
    // Searches read the center's d values (IndexRaBitQ::train sets them).
    const size_t center = rabitq->center.size();
    FAISS_THROW_IF_NOT_FMT(index.is_trained ? center == size_t(index.d) : center == 0 || center == size_t(index.d),
                           "RaBitQ index holds a center of %zd values for d=%d", center, index.d);
    FAISS_THROW_IF_NOT_MSG(index.is_trained || index.ntotal == 0, "untrained RaBitQ index holding vectors");
  }
  if (auto* codes = dynamic_cast<const faiss::IndexFlatCodes*>(&index)) {
    FAISS_THROW_IF_NOT_FMT(codes->codes.size() == Product(size_t(codes->ntotal), codes->code_size, "codes size"),
                           "index holds %zd bytes of codes for %zd vectors of %zd bytes", codes->codes.size(),
                           size_t(codes->ntotal), codes->code_size);
  }
  if (dynamic_cast<const faiss::IndexFlat*>(&index)) {
    auto* flat = static_cast<const faiss::IndexFlatCodes*>(&index);
    FAISS_THROW_IF_NOT_MSG(flat->code_size == size_t(index.d) * sizeof(float), "flat index code size differs from d floats");
  }
  if (auto* sq = dynamic_cast<const faiss::IndexScalarQuantizer*>(&index)) {
    CheckScalarQuantizer(sq->sq, index.d, index.is_trained);
    FAISS_THROW_IF_NOT_MSG(sq->code_size == sq->sq.code_size, "index code size differs from its scalar quantizer's");
  }
  if (dynamic_cast<const faiss::IndexIVFFlat*>(&index)) {
    FAISS_THROW_IF_NOT_MSG(static_cast<const faiss::IndexIVF&>(index).code_size == size_t(index.d) * sizeof(float),
                           "IVF flat code size differs from d floats");
  }
  if (auto* ivfsq = dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(&index)) {
    CheckScalarQuantizer(ivfsq->sq, index.d, index.is_trained);
    FAISS_THROW_IF_NOT_MSG(ivfsq->code_size == ivfsq->sq.code_size, "index code size differs from its scalar quantizer's");
  }
  if (auto* ivfpq = dynamic_cast<const faiss::IndexIVFPQ*>(&index)) CheckPq(ivfpq->pq, index, ivfpq->code_size);
  if (auto* fast = dynamic_cast<const faiss::IndexPQFastScan*>(&index)) {
    CheckPq(fast->pq, index, fast->code_size);
    CheckFastScan(fast->pq, fast->bbs, fast->M2);
    // Queries batched by qbs: its hexadecimal digits count the queries of a kernel call (1 to 4;
    // 0: FAISS's default).
    for (unsigned digits = unsigned(fast->qbs); digits != 0; digits >>= 4) {
      FAISS_THROW_IF_NOT_FMT((digits & 15) >= 1 && (digits & 15) <= 4, "FastScan query blocks qbs=0x%x: each digit must be 1 to 4", unsigned(fast->qbs));
    }
    const size_t blocks = (size_t(index.ntotal) + size_t(fast->bbs) - 1) / size_t(fast->bbs);
    FAISS_THROW_IF_NOT_FMT(fast->ntotal2 == blocks * size_t(fast->bbs), "FastScan ntotal2=%zd for %zd vectors in blocks of %d", fast->ntotal2,
                           size_t(index.ntotal), fast->bbs);
    FAISS_THROW_IF_NOT_FMT(fast->codes.size() == Product(fast->ntotal2, fast->M2 / 2, "FastScan codes size"),
                           "FastScan index holds %zd bytes of codes for %zd vectors of M2=%zd", fast->codes.size(), fast->ntotal2, fast->M2);
  }
  if (auto* ivffast = dynamic_cast<const faiss::IndexIVFPQFastScan*>(&index)) {
    CheckPq(ivffast->pq, index, ivffast->code_size);
    CheckFastScan(ivffast->pq, ivffast->bbs, ivffast->M2);
    // Queries batched qbs2 at a time (0: FAISS's default, 11); a search sizes a table by it.
    FAISS_THROW_IF_NOT_FMT(ivffast->qbs2 <= kMaxFastScanQueryBatch, "FastScan query batch qbs2=%zd, at most %zd", ivffast->qbs2,
                           kMaxFastScanQueryBatch);
  }
  if (auto* ivfrabitq = dynamic_cast<const faiss::IndexIVFRaBitQ*>(&index)) CheckRaBitQ(ivfrabitq->rabitq, index, ivfrabitq->code_size, ivfrabitq->qb);
  if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(&index)) {
    FAISS_THROW_IF_NOT_MSG(ivf->nlist > 0, "IVF index with no lists");
    FAISS_THROW_IF_NOT_MSG(ivf->quantizer != nullptr, "IVF index without a quantizer");
    FAISS_THROW_IF_NOT_MSG(ivf->quantizer->d == ivf->d, "IVF quantizer dimension differs from the index's");
    ValidateLoaded(*ivf->quantizer, types);
    FAISS_THROW_IF_NOT_MSG(!ivf->is_trained || size_t(ivf->quantizer->ntotal) == ivf->nlist,
                           "trained IVF index whose quantizer does not hold nlist centroids");
    CheckInvertedLists(*ivf);
  }
  if (auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(&index)) {
    CheckHnsw(*hnsw);
    ValidateLoaded(*hnsw->storage, types);
    FAISS_THROW_IF_NOT_MSG(types == LoadTypes::kAny || IsPlainFlat(*hnsw->storage), "HNSW flat index whose storage is not flat");
  }
  if (auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(&index)) {
    FAISS_THROW_IF_NOT_MSG(idmap->index != nullptr, "IDMap without a sub-index");
    FAISS_THROW_IF_NOT_MSG(idmap->index->d == index.d, "IDMap sub-index dimension differs");
    FAISS_THROW_IF_NOT_MSG(idmap->id_map.size() == size_t(idmap->index->ntotal), "IDMap id count differs from its sub-index");
    FAISS_THROW_IF_NOT_MSG(idmap->id_map.size() == size_t(idmap->ntotal), "IDMap id count differs from its ntotal");
    ValidateLoaded(*idmap->index, types);
    // The sub-index returns positions into id_map; an IVF stores them in its lists.
    if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(idmap->index)) CheckListIds(*ivf, faiss::idx_t(idmap->id_map.size()), types, "IDMap");
  }
  if (auto* pre = dynamic_cast<const faiss::IndexPreTransform*>(&index)) {
    FAISS_THROW_IF_NOT_MSG(pre->index != nullptr, "pre-transform index without a sub-index");
    int d = index.d;
    for (const faiss::VectorTransform* t : pre->chain) {
      FAISS_THROW_IF_NOT_MSG(t != nullptr && t->d_in == d, "pre-transform chain dimensions do not connect");
      CheckTransform(*t, types);
      d = t->d_out;
    }
    FAISS_THROW_IF_NOT_MSG(d == pre->index->d, "pre-transform output dimension differs from its sub-index");
    ValidateLoaded(*pre->index, types);
  }
  if (auto* refine = dynamic_cast<const faiss::IndexRefine*>(&index)) {
    const faiss::Index* base = refine->base_index;
    const faiss::Index* exact = refine->refine_index;
    FAISS_THROW_IF_NOT_MSG(base != nullptr && exact != nullptr, "IndexRefine without its base or refine index");
    FAISS_THROW_IF_NOT_MSG(base->d == index.d && exact->d == index.d, "IndexRefine sub-index dimension differs");
    FAISS_THROW_IF_NOT_MSG(base->metric_type == index.metric_type && exact->metric_type == index.metric_type,
                           "IndexRefine sub-index metric differs");
    FAISS_THROW_IF_NOT_FMT(base->ntotal == index.ntotal && exact->ntotal == index.ntotal,
                           "IndexRefine holds %zd vectors, its base %zd and refine index %zd", size_t(index.ntotal),
                           size_t(base->ntotal), size_t(exact->ntotal));
    // A search asks the base index for k x k_factor candidates: a lying factor would allocate that much.
    FAISS_THROW_IF_NOT_FMT(std::isfinite(refine->k_factor) && refine->k_factor >= 1 && refine->k_factor <= kMaxKFactor,
                           "IndexRefine k_factor %g must be 1..%g", double(refine->k_factor), double(kMaxKFactor));
    FAISS_THROW_IF_NOT_MSG(typeid(index) != typeid(faiss::IndexRefineFlat) || IsPlainFlat(*exact),
                           "IndexRefineFlat whose refine index is not flat");
    // The refine index is read at the base index's labels, which must be positions in it: no
    // IDMap in the base, and an IVF base's stored ids in [0, ntotal).
    for (const faiss::Index* at = base; at != nullptr;) {
      FAISS_THROW_IF_NOT_MSG(dynamic_cast<const faiss::IndexIDMap*>(at) == nullptr, "IndexRefine over an IDMap");
      auto* pre = dynamic_cast<const faiss::IndexPreTransform*>(at);
      at = pre != nullptr ? pre->index : nullptr;
    }
    ValidateLoaded(*base, types);
    if (auto* ivf = faiss::ivflib::try_extract_index_ivf(const_cast<faiss::Index*>(base))) CheckListIds(*ivf, index.ntotal, types, "IndexRefine");
    ValidateLoaded(*exact, types);
  }
}

namespace {

// Removes temp files that earlier writers to `path` left when they were killed mid-write
// (named path.tmp-<pid>-<n>, with <pid> no longer running).
void RemoveStaleTemps(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp-";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && pid != os::ProcessId() && os::ProcessGone(pid)) std::remove((dir + name).c_str());
  }
  closedir(d);
}

// Writes through `write` to a temp file beside `path`, then renames it over `path`.
void WriteAtomic(const std::string& path, const std::function<void(FILE*)>& write, const std::function<void()>& beforeRename) {
  static std::atomic<uint64_t> counter{0};
  RemoveStaleTemps(path);
  std::string tmp = path + ".tmp-" + std::to_string(os::ProcessId()) + "-" + std::to_string(counter++);
  // Errors name the target, not the temp file the caller never asked for.
  FILE* f = os::OpenFile(tmp, "wb");
  if (f == nullptr) ThrowFileError("write", path);
  try {
    write(f);
    if (std::fflush(f) != 0 || !os::SyncFile(f)) ThrowFileError("write", path);
  } catch (const faiss::FaissException&) {
    const int err = errno;
    const bool diskFailed = std::ferror(f) != 0;  // FAISS's own "write error" on a full disk
    std::fclose(f);
    std::remove(tmp.c_str());
    errno = err;
    if (diskFailed) ThrowFileError("write", path);
    throw;
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  if (std::fclose(f) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    errno = err;
    ThrowFileError("write", path);
  }
  try {
    if (beforeRename) beforeRename();
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  std::string why;
  if (!os::RenameOver(tmp, path, &why)) {
    const int err = errno;
    std::remove(tmp.c_str());
    errno = err;
    ThrowFileError("replace", path, why);
  }
}

}  // namespace

void WriteIndexAtomic(const faiss::Index& index, const std::string& path, const std::function<void()>& beforeRename) {
  WriteAtomic(path, [&](FILE* f) { faiss::write_index(&index, f); }, beforeRename);
}

void WriteIndexAtomic(const faiss::IndexBinary& index, const std::string& path) {
  WriteAtomic(path, [&](FILE* f) { faiss::write_index_binary(&index, f); }, nullptr);
}

LoadedIndex ReadIndexFile(const std::string& path, int ioFlags, LoadTypes types) {
  if ((ioFlags & faiss::IO_FLAG_MMAP) == faiss::IO_FLAG_MMAP) RequireOnDisk();  // it reads lists as on-disk ones
  if ((ioFlags & faiss::IO_FLAG_MMAP_IFC) != faiss::IO_FLAG_MMAP_IFC) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(os::OpenFile(path, "rb"), &std::fclose);
    os::FileStamp stamp;
    if (f == nullptr || !os::StampOf(f.get(), &stamp)) ThrowFileError("read", path);
    FileReader reader(f.get());
    reader.name = path;
    auto index = GuardedRead<faiss::Index>(size_t(stamp.size), [&] { return faiss::read_index(&reader, ioFlags | kReadFlags); });
    if ((ioFlags & faiss::IO_FLAG_MMAP) == faiss::IO_FLAG_MMAP) {
      try {
        MapSkippedLists(*index);
      } catch (...) {
        throw FailureException(AsCorrupt(DescribeCurrentException()));  // the data file it names: IO_ERROR
      }
    }
    return {CheckLoaded(std::move(index), reader.wasIdMap2, types), nullptr};
  }
  auto file = MappedFile::Open(path);
  std::unique_ptr<faiss::Index> index;
  bool wasIdMap2 = false;
  try {
    MappedReader reader(file->Mapping());
    reader.name = path;
    index = GuardedRead<faiss::Index>(file->Mapping()->size(), [&] { return faiss::read_index(&reader, ioFlags | kReadFlags); });
    wasIdMap2 = reader.wasIdMap2;
    if (reader.pos > file->Mapping()->size()) {
      index.reset();
      throw FailureException({"CORRUPT_INDEX", path + " ends inside its last vector"});
    }
  } catch (...) {
    file->ReleaseAfterFailedRead();
    file->Check();  // a file changed while it was read says so
    throw;
  }
  if (faiss::IndexIVF* ivf = faiss::ivflib::try_extract_index_ivf(index.get())) {
    if (auto* lists = dynamic_cast<faiss::ArrayInvertedLists*>(ivf->invlists)) {
      for (auto& ids : lists->ids) OwnExactly(ids);
    }
  }
  file->Check();
  return {CheckLoaded(std::move(index), wasIdMap2, types), std::move(file)};
}

std::vector<uint8_t> SerializeIndex(const faiss::Index& index) {
  faiss::VectorIOWriter writer;
  faiss::write_index(&index, &writer);
  return std::move(writer.data);
}

faiss::Index* DeserializeIndex(const uint8_t* data, size_t size, LoadTypes types) {
  SpanReader reader(data, size);
  auto index = GuardedRead<faiss::Index>(size, [&] { return faiss::read_index(&reader, kReadFlags); });
  return CheckLoaded(std::move(index), reader.wasIdMap2, types).release();
}

std::unique_ptr<faiss::IndexBinary> ReadIndexBinaryFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(os::OpenFile(path, "rb"), &std::fclose);
  os::FileStamp stamp;
  if (f == nullptr || !os::StampOf(f.get(), &stamp)) ThrowFileError("read", path);
  FileReader reader(f.get());
  reader.name = path;
  auto index = GuardedRead<faiss::IndexBinary>(size_t(stamp.size), [&] { return faiss::read_index_binary(&reader); });
  return CheckLoaded(std::move(index), reader.wasIdMap2);
}

std::vector<uint8_t> SerializeIndex(const faiss::IndexBinary& index) {
  faiss::VectorIOWriter writer;
  faiss::write_index_binary(&index, &writer);
  return std::move(writer.data);
}

std::unique_ptr<faiss::IndexBinary> DeserializeIndexBinary(const uint8_t* data, size_t size) {
  SpanReader reader(data, size);
  auto index = GuardedRead<faiss::IndexBinary>(size, [&] { return faiss::read_index_binary(&reader); });
  return CheckLoaded(std::move(index), reader.wasIdMap2);
}

}  // namespace faiss_native

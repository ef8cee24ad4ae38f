// IndexWrap: state, training, adding, searching, reconstruction, removal and IO of one index.
#include "index_wrap.h"

#include <faiss/IndexFlatCodes.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexIVFPQFastScan.h>
#include <faiss/IndexPQFastScan.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexRefine.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissAssert.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/utils/Heap.h>

#include <faiss/IVFlib.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <typeinfo>

#include "addon_data.h"
#include "args.h"
#include "errors.h"
#include "filtered_search.h"
#include "flat_add.h"
#include "index_io.h"
#include "ivf_sq_scan.h"
#include "jobs.h"
#include "memory_limit.h"
#include "on_disk.h"
#include "os.h"
#include "search_params.h"
#include "split_search.h"
#include "threads.h"
#include "train_progress.h"

namespace faiss_native {

namespace {

using ReadLock = std::shared_lock<os::SharedMutex>;
using WriteLock = std::unique_lock<os::SharedMutex>;

// After a bulk add, gives each inverted list of an IVF index exactly the memory it uses:
// FAISS grows the lists by doubling, which left IVF indexes 1.4-1.6x their size in resident
// memory (scripts/bench/memory-probe.mjs), and returns the freed pages to the system.
// Only for adds of at least 1/8 of the index, so trickles of small adds stay amortised O(1).
void CompactAfterAdd(faiss::Index& index, faiss::idx_t added) {
  faiss::IndexIVF* ivf = faiss::ivflib::try_extract_index_ivf(&index);
  auto* lists = ivf ? dynamic_cast<faiss::ArrayInvertedLists*>(ivf->invlists) : nullptr;
  if (lists == nullptr || added * 8 < ivf->ntotal) return;
  for (size_t i = 0; i < lists->nlist; i++) {
    OwnExactly(lists->codes[i]);
    OwnExactly(lists->ids[i]);
  }
  os::ReturnFreeMemory();
}

// Refuses merges FAISS would get wrong or check only by a bare assertion: other dimensions or
// metrics (an IP and an L2 flat index are the same type to FAISS), other types, untrained
// IVF layers (FAISS would compare centroids the quantizers do not hold yet), other scalar
// quantizers. FAISS then checks the rest (nlist, code sizes, identical coarse centroids).
void CheckMergeable(const faiss::Index& into, const faiss::Index& from) {
  if (into.d != from.d) {
    throw InvalidArgument("cannot merge an index of d=" + std::to_string(from.d) + " into one of d=" + std::to_string(into.d));
  }
  if (into.metric_type != from.metric_type) {
    throw InvalidArgument("cannot merge an index of metric " + std::to_string(from.metric_type) + " into one of metric " +
                          std::to_string(into.metric_type));
  }
  FAISS_THROW_IF_NOT_FMT(typeid(into) == typeid(from), "cannot merge %s into %s: merging needs two indexes of the same type",
                         ClassName(from).c_str(), ClassName(into).c_str());
  if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(&into)) {
    auto& other = static_cast<const faiss::IndexIVF&>(from);
    FAISS_THROW_IF_NOT_MSG(ivf->is_trained && other.is_trained, "cannot merge untrained IVF indexes");
    FAISS_THROW_IF_NOT_FMT(ivf->nlist == other.nlist, "cannot merge an IVF index of nlist=%zd into one of nlist=%zd", other.nlist,
                           ivf->nlist);
  }
  if (auto* sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(&into)) {
    auto& other = static_cast<const faiss::IndexIVFScalarQuantizer&>(from);
    FAISS_THROW_IF_NOT_MSG(sq->sq.qtype == other.sq.qtype && sq->sq.trained == other.sq.trained && sq->by_residual == other.by_residual,
                           "cannot merge: the scalar quantizers differ (train one index, then copy it, e.g. by serialize)");
  }
  if (auto* sq = dynamic_cast<const faiss::IndexScalarQuantizer*>(&into)) {
    auto& other = static_cast<const faiss::IndexScalarQuantizer&>(from);
    FAISS_THROW_IF_NOT_MSG(sq->sq.qtype == other.sq.qtype && sq->sq.trained == other.sq.trained,
                           "cannot merge: the scalar quantizers differ (train one index, then copy it, e.g. by serialize)");
  }
  if (auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(&into)) {
    CheckMergeable(*idmap->index, *static_cast<const faiss::IndexIDMap&>(from).index);
  }
}

// What an add of n vectors grows the index by, against the memory limit.
void CheckGrowth(size_t limit, const faiss::Index& index, faiss::idx_t n) {
  CheckMemory(limit, double(n) * BytesPerVector(index), "adding " + std::to_string(n) + " vectors to " + ClassName(index));
}

// Range search whose results stay within the memory limit: queries go in blocks whose worst
// case (every vector within the radius) fits half the limit, and a RangeError stops the search
// once the results found pass the limit. A too generous radius on a large index would
// otherwise grow FAISS's result buffers until the OOM killer ends the process.
void BoundedRangeSearch(const faiss::Index& index, faiss::idx_t n, const float* x, float radius, const faiss::SearchParameters* params,
                        size_t limit, faiss::RangeSearchResult& out) {
  constexpr double kResult = sizeof(float) + sizeof(faiss::idx_t);
  const double worstPerQuery = std::max(1.0, double(index.ntotal)) * kResult;
  const auto block = faiss::idx_t(std::clamp(double(limit) / 2 / worstPerQuery, 1.0, double(n)));
  if (block >= n) {
    RangeSearchWith(index, n, x, radius, &out, params);  // even the worst case fits
    return;
  }
  std::vector<float> distances;
  std::vector<faiss::idx_t> labels;
  for (faiss::idx_t i0 = 0; i0 < n; i0 += block) {
    const faiss::idx_t nb = std::min(block, n - i0);
    faiss::RangeSearchResult part{size_t(nb)};
    RangeSearchWith(index, nb, x + i0 * index.d, radius, &part, params);
    const size_t found = part.lims[nb];
    char what[160];
    std::snprintf(what, sizeof what, "rangeSearch with radius %g (%zu results in the first %zd of %zd queries)", double(radius),
                  distances.size() + found, size_t(i0 + nb), size_t(n));
    CheckMemory(limit, double(distances.size() + found) * kResult, what);
    for (faiss::idx_t j = 0; j < nb; j++) out.lims[i0 + j + 1] = distances.size() + part.lims[j + 1];
    distances.insert(distances.end(), part.distances, part.distances + found);
    labels.insert(labels.end(), part.labels, part.labels + found);
  }
  out.distances = new float[distances.size()];
  out.labels = new faiss::idx_t[labels.size()];
  std::copy(distances.begin(), distances.end(), out.distances);
  std::copy(labels.begin(), labels.end(), out.labels);
}

// Vectors an index takes: finite, and small enough for a graph index that no distance overflows.
void CheckVectors(const faiss::Index& index, const float* x, faiss::idx_t n, const char* name) {
  CheckFinite(x, size_t(n), index.d, name);
  if (HnswLayer(&index) != nullptr) CheckMagnitude(x, size_t(n), index.d, name, kMaxGraphMagnitude);
}

// Every read of an index's data: under the shared lock, and for a memory-mapped index between
// two checks of its file, so that no read starts on data that is gone and no result computed
// while the file changed is returned.
template <typename Read>
void ReadData(const IndexHandle& handle, Read&& read) {
  ReadLock lock(*handle.mutex);
  handle.CheckFiles();
  read(static_cast<const faiss::Index&>(*handle.index));
  handle.CheckFiles();
}

// The prelude of every query job: the parallel gate for batches (FAISS parallelises over
// queries; one query runs on its own thread), the call's FAISS parameters.
template <typename Query>
void RunQueries(const IndexHandle& handle, const float* x, faiss::idx_t n, const SearchSpec* spec, Query&& query) {
  CheckVectors(*handle.index, x, n, "q");
  ReadData(handle, [&](const faiss::Index& index) {
    std::unique_lock<std::mutex> parallel;
    if (n > 1) parallel = ParallelSection();
    SearchParams params(index, spec);
    query(index, params.get());
  });
}

// Keys of flat and SQ indexes are offsets into their codes, which FAISS reads unchecked.
void CheckOffsets(const faiss::Index& index, int64_t i0, int64_t n) {
  if (i0 < 0 || n < 0 || i0 + n > index.ntotal) {
    throw InvalidArgument("range [" + std::to_string(i0) + ", " + std::to_string(i0 + n) + ") is outside 0.." +
                          std::to_string(index.ntotal) + " (ntotal)");
  }
}

// A typed array over memory FAISS allocated with new[], freed by V8 when the array dies.
template <typename T, typename Array>
Array AdoptArray(Napi::Env env, T* data, size_t length) {
  if (data == nullptr || length == 0) {
    delete[] data;
    return Array::New(env, 0);
  }
  auto buffer = Napi::ArrayBuffer::New(env, data, length * sizeof(T), [](Napi::Env, void* p) { delete[] static_cast<T*>(p); });
  return Array::New(env, length, buffer, 0);
}

}  // namespace

Napi::Function IndexWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(
      env, "Index",
      {
          InstanceAccessor<&IndexWrap::GetD>("d"),
          InstanceAccessor<&IndexWrap::GetNtotal>("ntotal"),
          InstanceAccessor<&IndexWrap::GetIsTrained>("isTrained"),
          InstanceAccessor<&IndexWrap::GetMetricType>("metricType"),
          InstanceAccessor<&IndexWrap::GetClassName>("className"),
          InstanceAccessor<&IndexWrap::GetNlist>("nlist"),
          InstanceAccessor<&IndexWrap::GetCodeSize>("codeSize"),
          InstanceAccessor<&IndexWrap::GetOnDisk>("onDisk"),
          InstanceAccessor<&IndexWrap::GetPrefetchThreads, &IndexWrap::SetPrefetchThreads>("prefetchThreads"),
          InstanceAccessor<&IndexWrap::GetNprobe, &IndexWrap::SetNprobe>("nprobe"),
          InstanceAccessor<&IndexWrap::GetHnsw<&faiss::HNSW::efSearch>, &IndexWrap::SetHnsw<&faiss::HNSW::efSearch>>("efSearch"),
          InstanceAccessor<&IndexWrap::GetHnsw<&faiss::HNSW::efConstruction>, &IndexWrap::SetHnsw<&faiss::HNSW::efConstruction>>(
              "efConstruction"),
          InstanceAccessor<&IndexWrap::GetHnswInfo>("hnswInfo"),
          InstanceAccessor<&IndexWrap::GetPqInfo>("pqInfo"),
          InstanceAccessor<&IndexWrap::GetQtype>("qtype"),
          InstanceAccessor<&IndexWrap::GetByResidual>("byResidual"),
          InstanceAccessor<&IndexWrap::GetKFactor, &IndexWrap::SetKFactor>("kFactor"),
          InstanceAccessor<&IndexWrap::GetQb, &IndexWrap::SetQb>("qb"),
          InstanceMethod<&IndexWrap::Train<true>>("train"),
          InstanceMethod<&IndexWrap::Train<false>>("trainSync"),
          InstanceMethod<&IndexWrap::Add<true>>("add"),
          InstanceMethod<&IndexWrap::Add<false>>("addSync"),
          InstanceMethod<&IndexWrap::AddWithIds<true>>("addWithIds"),
          InstanceMethod<&IndexWrap::AddWithIds<false>>("addWithIdsSync"),
          InstanceMethod<&IndexWrap::Search<true>>("search"),
          InstanceMethod<&IndexWrap::Search<false>>("searchSync"),
          InstanceMethod<&IndexWrap::RangeSearch<true>>("rangeSearch"),
          InstanceMethod<&IndexWrap::RangeSearch<false>>("rangeSearchSync"),
          InstanceMethod<&IndexWrap::Rescore<true>>("rescore"),
          InstanceMethod<&IndexWrap::Rescore<false>>("rescoreSync"),
          InstanceMethod<&IndexWrap::Reconstruct<true>>("reconstruct"),
          InstanceMethod<&IndexWrap::Reconstruct<false>>("reconstructSync"),
          InstanceMethod<&IndexWrap::ReconstructN<true>>("reconstructN"),
          InstanceMethod<&IndexWrap::ReconstructN<false>>("reconstructNSync"),
          InstanceMethod<&IndexWrap::RemoveIds<true>>("removeIds"),
          InstanceMethod<&IndexWrap::RemoveIds<false>>("removeIdsSync"),
          InstanceMethod<&IndexWrap::Reset<true>>("reset"),
          InstanceMethod<&IndexWrap::Reset<false>>("resetSync"),
          InstanceMethod<&IndexWrap::MergeFrom<true>>("mergeFrom"),
          InstanceMethod<&IndexWrap::MergeFrom<false>>("mergeFromSync"),
          InstanceMethod<&IndexWrap::ReplaceInvlists<true>>("replaceInvlists"),
          InstanceMethod<&IndexWrap::ReplaceInvlists<false>>("replaceInvlistsSync"),
          InstanceMethod<&IndexWrap::MergeOnDisk<true>>("mergeOnDisk"),
          InstanceMethod<&IndexWrap::MergeOnDisk<false>>("mergeOnDiskSync"),
          InstanceMethod<&IndexWrap::Serialize<true>>("serialize"),
          InstanceMethod<&IndexWrap::Serialize<false>>("serializeSync"),
          InstanceMethod<&IndexWrap::Write<true>>("write"),
          InstanceMethod<&IndexWrap::Write<false>>("writeSync"),
          InstanceMethod<&IndexWrap::MakeDirectMap>("makeDirectMap"),
          InstanceMethod<&IndexWrap::Quantizer>("quantizer"),
          InstanceMethod<&IndexWrap::SubIndex>("subIndex"),
          InstanceMethod<&IndexWrap::Dispose>("dispose"),
      });
  AddonData::Of(env)->indexClass = Napi::Persistent(ctor);
  return ctor;
}

Napi::Object IndexWrap::Create(Napi::Env env, std::shared_ptr<IndexHandle> handle) {
  return AddonData::Of(env)->indexClass.New({Napi::External<std::shared_ptr<IndexHandle>>::New(env, &handle)});
}

std::shared_ptr<IndexHandle> IndexWrap::HandleOf(Napi::Env env, const Napi::Value& value) {
  Napi::FunctionReference& cls = AddonData::Of(env)->indexClass;
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(cls.Value())) {
    throw Napi::TypeError::New(env, "expected an index");
  }
  return Unwrap(value.As<Napi::Object>())->Live(env);
}

IndexWrap::IndexWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IndexWrap>(info) {
  if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "indexes are created by faiss-native's classes");
  handle_ = *info[0].As<Napi::External<std::shared_ptr<IndexHandle>>>().Data();
  d_ = handle_->index->d;
  ReportMemory(info.Env());
}

IndexWrap::~IndexWrap() {
  if (reportedBytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -reportedBytes_);
}

std::shared_ptr<IndexHandle> IndexWrap::Live(Napi::Env env) const {
  if (!handle_) throw Napi::TypeError::New(env, "index is disposed");
  return handle_;
}

void IndexWrap::ReportMemory(Napi::Env env) {
  int64_t now = handle_ ? handle_->bytes.load() : 0;
  if (now != reportedBytes_) Napi::MemoryManagement::AdjustExternalMemory(env, now - reportedBytes_);
  reportedBytes_ = now;
}

// ---- state ----

Napi::Value IndexWrap::GetD(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), d_); }

Napi::Value IndexWrap::GetNtotal(const Napi::CallbackInfo& info) {
  auto handle = Live(info.Env());
  // Never wait on the event loop: while a change holds the lock, report the last value seen.
  if (ReadLock lock{*handle->mutex, std::try_to_lock}) handle->ntotal = handle->index->ntotal;
  return Napi::Number::New(info.Env(), double(handle->ntotal.load()));
}

Napi::Value IndexWrap::GetIsTrained(const Napi::CallbackInfo& info) {
  auto handle = Live(info.Env());
  if (ReadLock lock{*handle->mutex, std::try_to_lock}) handle->isTrained = handle->index->is_trained;
  return Napi::Boolean::New(info.Env(), handle->isTrained.load());
}

// metric_type, d, nlist, qtype and by_residual are set at construction and never change.
Napi::Value IndexWrap::GetMetricType(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), Live(info.Env())->index->metric_type);
}

Napi::Value IndexWrap::GetClassName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), ClassName(*Live(info.Env())->index));
}

Napi::Value IndexWrap::GetNlist(const Napi::CallbackInfo& info) {
  faiss::IndexIVF* ivf = Live(info.Env())->Ivf();
  return ivf ? Napi::Number::New(info.Env(), double(ivf->nlist)) : info.Env().Undefined();
}

Napi::Value IndexWrap::GetCodeSize(const Napi::CallbackInfo& info) {
  faiss::IndexIVF* ivf = Live(info.Env())->Ivf();
  return ivf ? Napi::Number::New(info.Env(), double(ivf->code_size)) : info.Env().Undefined();
}

Napi::Value IndexWrap::GetOnDisk(const Napi::CallbackInfo& info) {
  std::shared_ptr<const OnDiskData> data = std::atomic_load(&Live(info.Env())->onDisk);
  if (!data) return info.Env().Undefined();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("filename", data->path);
  out.Set("bytes", double(data->bytes));
  out.Set("readOnly", !data->writable);
  return out;
}

Napi::Value IndexWrap::GetPrefetchThreads(const Napi::CallbackInfo& info) {
  std::shared_ptr<const OnDiskData> data = std::atomic_load(&Live(info.Env())->onDisk);
  return data ? Napi::Number::New(info.Env(), data->prefetchThreads) : info.Env().Undefined();
}

void IndexWrap::SetPrefetchThreads(const Napi::CallbackInfo& info, const Napi::Value& value) {
  auto handle = Live(info.Env());
  // A parameter change: waits for running searches, which read it.
  WriteLock lock(*handle->mutex);
  if (!faiss_native::SetPrefetchThreads(*handle->index, value.As<Napi::Number>().Int32Value())) {
    throw Napi::TypeError::New(info.Env(), "prefetchThreads: this index's lists are not on disk");
  }
  std::atomic_store(&handle->onDisk, std::make_shared<const OnDiskData>(*OnDiskDataOf(*handle->index)));  // what the getter reads
}

Napi::Value IndexWrap::GetNprobe(const Napi::CallbackInfo& info) {
  // Only the main thread writes nprobe (SetNprobe), so reading it here needs no lock.
  faiss::IndexIVF* ivf = Live(info.Env())->Ivf();
  return ivf ? Napi::Number::New(info.Env(), double(ivf->nprobe)) : info.Env().Undefined();
}

void IndexWrap::SetNprobe(const Napi::CallbackInfo& info, const Napi::Value& value) {
  auto handle = Live(info.Env());
  faiss::IndexIVF* ivf = handle->Ivf();
  if (ivf == nullptr) throw Napi::TypeError::New(info.Env(), "nprobe: this index has no IVF layer");
  int64_t nprobe = value.As<Napi::Number>().Int64Value();
  // A parameter change: waits for running searches (per-call nprobe does not).
  WriteLock lock(*handle->mutex);
  ivf->nprobe = size_t(nprobe);
}

template <int faiss::HNSW::*Setting>
Napi::Value IndexWrap::GetHnsw(const Napi::CallbackInfo& info) {
  faiss::IndexHNSW* hnsw = Live(info.Env())->Hnsw();
  return hnsw ? Napi::Number::New(info.Env(), double(hnsw->hnsw.*Setting)) : info.Env().Undefined();
}

template <int faiss::HNSW::*Setting>
void IndexWrap::SetHnsw(const Napi::CallbackInfo& info, const Napi::Value& value) {
  auto handle = Live(info.Env());
  faiss::IndexHNSW* hnsw = handle->Hnsw();
  if (hnsw == nullptr) throw Napi::TypeError::New(info.Env(), "this index has no HNSW layer");
  int setting = value.As<Napi::Number>().Int32Value();
  WriteLock lock(*handle->mutex);  // as SetNprobe: waits for the searches and adds that read it
  hnsw->hnsw.*Setting = setting;
}

Napi::Value IndexWrap::GetHnswInfo(const Napi::CallbackInfo& info) {
  faiss::IndexHNSW* hnsw = Live(info.Env())->Hnsw();
  if (hnsw == nullptr) return info.Env().Undefined();
  // Read without the lock, as nprobe: word-sized values an add may be changing, seen before or after.
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("M", hnsw->hnsw.nb_neighbors(1));
  out.Set("maxLevel", hnsw->hnsw.max_level);
  out.Set("entryPoint", double(hnsw->hnsw.entry_point));
  return out;
}

Napi::Value IndexWrap::GetPqInfo(const Napi::CallbackInfo& info) {
  auto handle = Live(info.Env());
  faiss::IndexIVF* ivf = handle->Ivf();
  const faiss::ProductQuantizer* pq = nullptr;
  int bbs = 0;  // FastScan's block size
  if (auto* ivfpq = dynamic_cast<faiss::IndexIVFPQ*>(ivf)) pq = &ivfpq->pq;
  if (auto* fast = dynamic_cast<faiss::IndexIVFPQFastScan*>(ivf)) {
    pq = &fast->pq;
    bbs = fast->bbs;
  }
  if (auto* fast = dynamic_cast<faiss::IndexPQFastScan*>(handle->index.get())) {
    pq = &fast->pq;
    bbs = fast->bbs;
  }
  if (pq == nullptr) return info.Env().Undefined();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("M", double(pq->M));
  out.Set("nbits", double(pq->nbits));
  if (bbs != 0) out.Set("bbs", bbs);
  return out;
}

Napi::Value IndexWrap::GetKFactor(const Napi::CallbackInfo& info) {
  // Read without the lock, as nprobe.
  faiss::IndexRefine* refine = RefineLayer(Live(info.Env())->index.get());
  return refine ? Napi::Number::New(info.Env(), double(refine->k_factor)) : info.Env().Undefined();
}

void IndexWrap::SetKFactor(const Napi::CallbackInfo& info, const Napi::Value& value) {
  auto handle = Live(info.Env());
  faiss::IndexRefine* refine = RefineLayer(handle->index.get());
  if (refine == nullptr) throw Napi::TypeError::New(info.Env(), "kFactor: this index has no IndexRefine layer");
  const float kFactor = float(value.As<Napi::Number>().DoubleValue());
  WriteLock lock(*handle->mutex);  // as SetNprobe: waits for the searches that read it
  refine->k_factor = kFactor;
}

Napi::Value IndexWrap::GetQb(const Napi::CallbackInfo& info) {
  // Read without the lock, as nprobe.
  const uint8_t* qb = RaBitQQueryBits(Live(info.Env())->index.get());
  return qb ? Napi::Number::New(info.Env(), *qb) : info.Env().Undefined();
}

void IndexWrap::SetQb(const Napi::CallbackInfo& info, const Napi::Value& value) {
  auto handle = Live(info.Env());
  uint8_t* qb = RaBitQQueryBits(handle->index.get());
  if (qb == nullptr) throw Napi::TypeError::New(info.Env(), "qb: this index has no RaBitQ layer");
  WriteLock lock(*handle->mutex);  // as SetNprobe: waits for the searches that read it
  *qb = uint8_t(value.As<Napi::Number>().Uint32Value());
}

Napi::Value IndexWrap::GetQtype(const Napi::CallbackInfo& info) {
  auto* sq = dynamic_cast<faiss::IndexIVFScalarQuantizer*>(Live(info.Env())->index.get());
  return sq ? Napi::Number::New(info.Env(), sq->sq.qtype) : info.Env().Undefined();
}

Napi::Value IndexWrap::GetByResidual(const Napi::CallbackInfo& info) {
  faiss::IndexIVF* ivf = Live(info.Env())->Ivf();
  return ivf ? Napi::Boolean::New(info.Env(), ivf->by_residual) : info.Env().Undefined();
}

// ---- changes (exclusive lock) ----

// A part of another index (an IVF's quantizer, an IDMap's or IndexRefine's sub-index) changes
// only through that index.
static void RefuseIfPart(Napi::Env env, const IndexHandle& handle) {
  if (handle.usedBy > 0) {
    throw Napi::TypeError::New(env, "index is part of another (the quantizer of an IVF, the index of an IDMap or IndexRefine) and changes only through it");
  }
}

std::shared_ptr<IndexHandle> IndexWrap::Changeable(Napi::Env env) const {
  auto handle = Live(env);
  if (handle->file) {
    throw Napi::TypeError::New(env, "index is memory-mapped (read with { mmap: true }) and cannot change; read it without mmap to modify it");
  }
  std::shared_ptr<const OnDiskData> onDisk = std::atomic_load(&handle->onDisk);
  if (onDisk && !onDisk->writable) {
    throw Napi::TypeError::New(env, "index's on-disk inverted lists are read-only (read with readOnly or IO_FLAG_MMAP) and cannot change; read it without to modify it");
  }
  RefuseIfPart(env, *handle);
  return handle;
}

Napi::Value IndexWrap::RunChange(Napi::Env env, bool async, std::function<void(faiss::Index&)> change,
                                 const std::vector<Napi::Object>& keepAlive, std::function<Napi::Value(Napi::Env)> result) {
  auto handle = Changeable(env);
  Work work = ChangeWork(handle, std::move(change));
  std::vector<Napi::Object> alive(keepAlive);
  alive.push_back(Value());
  Finish finish = [this, result = std::move(result)](Napi::Env env) {
    ReportMemory(env);
    return result ? result(env) : env.Undefined();
  };
  return RunJob(env, async, std::move(work), std::move(finish), alive);
}

template <bool Async>
Napi::Value IndexWrap::Train(const Napi::CallbackInfo& info) {
  Napi::Float32Array x = VectorsArg(info, 0, d_);
  const float* data = x.Data();  // honours the view's byteOffset
  auto n = faiss::idx_t(x.ElementLength() / d_);
  const size_t limit = AddonData::Of(info.Env())->memoryLimit;
  std::vector<Napi::Object> keepAlive{x};
  int32_t* progress = nullptr;
  if (Async && info.Length() > 1 && !info[1].IsUndefined()) {
    Napi::Int32Array cell = ProgressArg(info, 1);
    progress = cell.Data();
    keepAlive.push_back(cell);
  }
  return RunChange(info.Env(), Async, [data, n, limit, progress](faiss::Index& index) {
    CheckMemory(limit, TrainingBytes(index, n), "training on " + std::to_string(n) + " vectors");
    CheckFinite(data, n, index.d, "x");
    TrainCounting(index, n, data, progress);
  }, keepAlive);
}

template <bool Async>
Napi::Value IndexWrap::Add(const Napi::CallbackInfo& info) {
  Napi::Float32Array x = VectorsArg(info, 0, d_);
  const float* data = x.Data();
  auto n = faiss::idx_t(x.ElementLength() / d_);
  const size_t limit = AddonData::Of(info.Env())->memoryLimit;
  return RunChange(info.Env(), Async, [data, n, limit](faiss::Index& index) {
    CheckGrowth(limit, index, n);
    if (AddFlatOnAllThreads(index, n, data)) return;
    CheckVectors(index, data, n, "x");
    if (OnDiskDataOf(index)) return AddToDisk(index, n, data, nullptr);
    index.add(n, data);
    CompactAfterAdd(index, n);
  }, {x});
}

template <bool Async>
Napi::Value IndexWrap::AddWithIds(const Napi::CallbackInfo& info) {
  Napi::Float32Array x = VectorsArg(info, 0, d_);
  auto n = faiss::idx_t(x.ElementLength() / d_);
  auto ids = IdsArg(info, 1, size_t(n));
  const float* data = x.Data();
  const faiss::idx_t* xids = ids.Data();
  const size_t limit = AddonData::Of(info.Env())->memoryLimit;
  return RunChange(info.Env(), Async, [data, n, xids, limit](faiss::Index& index) {
    CheckGrowth(limit, index, n);
    CheckVectors(index, data, n, "x");
    if (OnDiskDataOf(index)) return AddToDisk(index, n, data, xids);
    index.add_with_ids(n, data, xids);
    CompactAfterAdd(index, n);
  }, {x, ids});
}

template <bool Async>
Napi::Value IndexWrap::RemoveIds(const Napi::CallbackInfo& info) {
  std::vector<Napi::Object> keepAlive;
  FilterArg filter = ReadFilterArg(info[0], keepAlive);
  auto removed = std::make_shared<size_t>(0);
  return RunChange(
      info.Env(), Async,
      [filter, removed](faiss::Index& index) {
        RefuseOnDisk(index, "removeIds");
        *removed = index.remove_ids(*FilterSelector(filter).get());
      },
      keepAlive, [removed](Napi::Env env) { return Napi::Number::New(env, double(*removed)); });
}

template <bool Async>
Napi::Value IndexWrap::Reset(const Napi::CallbackInfo& info) {
  return RunChange(info.Env(), Async, [](faiss::Index& index) { index.reset(); }, {});
}

template <bool Async>
Napi::Value IndexWrap::MergeFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto into = Changeable(env);
  auto from = HandleOf(env, info[0]);
  IndexWrap* source = Unwrap(info[0].As<Napi::Object>());
  if (from->file) throw Napi::TypeError::New(env, "other is memory-mapped (read with { mmap: true }) and cannot be emptied by a merge");
  RefuseIfPart(env, *from);
  // Indexes built over one another share a lock; merging them would merge an index with itself.
  if (from->mutex == into->mutex) throw Napi::TypeError::New(env, "cannot merge an index into itself or into an index it is part of");
  auto addId = faiss::idx_t(CountArg(info, 1));
  const size_t limit = AddonData::Of(env)->memoryLimit;
  Work work = [into, from, addId, limit] {
    WriteLock a(*into->mutex, std::defer_lock), b(*from->mutex, std::defer_lock);
    std::lock(a, b);
    auto parallel = ParallelSection();
    CheckMergeable(*into->index, *from->index);
    RefuseOnDisk(*into->index, "mergeFrom");
    RefuseOnDisk(*from->index, "mergeFrom");
    CheckGrowth(limit, *into->index, from->index->ntotal);
    try {
      into->index->merge_from(*from->index, addId);
    } catch (...) {
      into->Refresh();
      from->Refresh();
      throw;
    }
    into->Refresh();
    from->Refresh();
  };
  Finish finish = [this, source](Napi::Env env) {
    ReportMemory(env);
    source->ReportMemory(env);
    return env.Undefined();
  };
  return RunJob(env, Async, std::move(work), std::move(finish), {Value(), info[0].As<Napi::Object>()});
}

Napi::Value IndexWrap::MakeDirectMap(const Napi::CallbackInfo& info) {
  auto handle = Live(info.Env());  // builds a side table; mapped codes stay untouched
  faiss::IndexIVF* ivf = handle->Ivf();
  if (ivf == nullptr) throw Napi::TypeError::New(info.Env(), "makeDirectMap: this index has no IVF layer");
  WriteLock lock(*handle->mutex);
  Guarded(info.Env(), [ivf] { ivf->make_direct_map(true); });
  return info.Env().Undefined();
}

// ---- reads (shared lock) ----

template <bool Async>
Napi::Value IndexWrap::Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto handle = Live(env);
  Napi::Float32Array x = VectorsArg(info, 0, d_);
  auto n = faiss::idx_t(x.ElementLength() / d_);
  auto k = faiss::idx_t(CountArg(info, 1));
  if (k < 1) throw Napi::RangeError::New(env, "k must be at least 1");
  auto distances = FloatsArg(info, 2, size_t(n * k));
  auto labels = IdsArg(info, 3, size_t(n * k));
  std::vector<Napi::Object> keepAlive{x, distances, labels};
  auto spec = ReadSearchSpec(info[4], keepAlive);
  const float* data = x.Data();
  float* d = distances.Data();
  faiss::idx_t* ids = labels.Data();
  auto plan = std::make_shared<FilterPlan>(FilterPlan::kNone);
  Work work = [handle, data, n, k, d, ids, spec, plan] {
    RunQueries(*handle, data, n, spec.get(), [&](const faiss::Index& index, const faiss::SearchParameters* params) {
      *plan = SearchFiltered(index, n, data, k, d, ids, spec.get(), params, *handle->filterCache, [&](const faiss::SearchParameters* run) {
        if (!SearchOnAllThreads(index, n, data, k, d, ids, run) && !SearchIvfSq(index, n, data, k, d, ids, run)) {
          index.search(n, data, k, d, ids, run);
        }
      });
    });
  };
  Finish finish = [plan](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, double(*plan)); };
  return RunJob(env, Async, std::move(work), std::move(finish), keepAlive);
}

template <bool Async>
Napi::Value IndexWrap::RangeSearch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto handle = Live(env);
  Napi::Float32Array x = VectorsArg(info, 0, d_);
  auto n = faiss::idx_t(x.ElementLength() / d_);
  float radius = info[1].As<Napi::Number>().FloatValue();
  std::vector<Napi::Object> keepAlive{x};
  auto spec = ReadSearchSpec(info[2], keepAlive);
  const float* data = x.Data();
  auto result = std::make_shared<faiss::RangeSearchResult>(size_t(n));
  const size_t limit = AddonData::Of(env)->memoryLimit;
  Work work = [handle, data, n, radius, spec, result, limit] {
    RunQueries(*handle, data, n, spec.get(), [&](const faiss::Index& index, const faiss::SearchParameters* params) {
      BoundedRangeSearch(index, n, data, radius, params, limit, *result);
    });
  };
  Finish finish = [result, n](Napi::Env env) -> Napi::Value {
    size_t total = result->lims[n];
    if (total > std::numeric_limits<uint32_t>::max()) throw Napi::RangeError::New(env, "range search found over 2^32 results");
    auto lims = Napi::Uint32Array::New(env, size_t(n) + 1);
    for (faiss::idx_t i = 0; i <= n; i++) lims[i] = uint32_t(result->lims[i]);
    // Hand FAISS's result buffers to V8 instead of copying them.
    float* distances = std::exchange(result->distances, nullptr);
    faiss::idx_t* labels = std::exchange(result->labels, nullptr);
    Napi::Object out = Napi::Object::New(env);
    out.Set("lims", lims);
    out.Set("distances", AdoptArray<float, Napi::Float32Array>(env, distances, total));
    out.Set("labels", AdoptArray<faiss::idx_t, Napi::TypedArrayOf<int64_t>>(env, labels, total));
    return out;
  };
  return RunJob(env, Async, std::move(work), std::move(finish), keepAlive);
}

// The k best of each query's kIn candidates (positions, -1 for none) by this index's own
// distances, as IndexRefine re-ranks its base index's candidates: the second pass of a search
// whose first ran on other codes (binary, say). Only for indexes whose ids are positions and
// which score one stored vector at a time (flat, SQ, PQ codes; HNSW's storage).
template <bool Async>
Napi::Value IndexWrap::Rescore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto handle = Live(env);
  Napi::Float32Array x = VectorsArg(info, 0, d_);
  const auto n = faiss::idx_t(x.ElementLength() / d_);
  const auto kIn = faiss::idx_t(CountArg(info, 2));
  const auto k = faiss::idx_t(CountArg(info, 3));
  auto candidates = IdsArg(info, 1, size_t(n * kIn));
  auto distances = FloatsArg(info, 4, size_t(n * k));
  auto labels = IdsArg(info, 5, size_t(n * k));
  const float* data = x.Data();
  const faiss::idx_t* in = candidates.Data();
  float* d = distances.Data();
  faiss::idx_t* out = labels.Data();
  Work work = [handle, data, n, kIn, k, in, d, out] {
    CheckVectors(*handle->index, data, n, "q");
    ReadData(*handle, [&](const faiss::Index& index) {
      const faiss::Index* scorer = &index;
      if (auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(&index)) scorer = hnsw->storage;
      if (dynamic_cast<const faiss::IndexFlatCodes*>(scorer) == nullptr) {
        throw InvalidArgument("rescore needs an index whose ids are positions and whose codes are scored one by one (flat, SQ, PQ, HNSW); this one is " +
                              ClassName(index));
      }
      for (faiss::idx_t j = 0; j < n * kIn; j++) {
        if (in[j] < -1 || in[j] >= index.ntotal) {
          throw InvalidArgument("candidates[" + std::to_string(j) + "] = " + std::to_string(in[j]) + " is outside 0.." +
                                std::to_string(index.ntotal) + " (ntotal)");
        }
      }
      const bool l2 = index.metric_type == faiss::METRIC_L2;
      std::unique_lock<std::mutex> parallel;
      if (n > 1) parallel = ParallelSection();
#pragma omp parallel if (n > 1)
      {
        std::unique_ptr<faiss::DistanceComputer> dc(scorer->get_distance_computer());
#pragma omp for
        for (faiss::idx_t i = 0; i < n; i++) {
          dc->set_query(data + i * index.d);
          float* di = d + i * k;
          faiss::idx_t* li = out + i * k;
          if (l2) faiss::heap_heapify<faiss::CMax<float, faiss::idx_t>>(k, di, li);
          else faiss::heap_heapify<faiss::CMin<float, faiss::idx_t>>(k, di, li);
          for (faiss::idx_t j = 0; j < kIn; j++) {
            const faiss::idx_t id = in[i * kIn + j];
            if (id < 0) continue;
            const float dis = (*dc)(id);
            if (l2 ? dis < di[0] : dis > di[0]) {
              if (l2) faiss::heap_replace_top<faiss::CMax<float, faiss::idx_t>>(k, di, li, dis, id);
              else faiss::heap_replace_top<faiss::CMin<float, faiss::idx_t>>(k, di, li, dis, id);
            }
          }
          if (l2) faiss::heap_reorder<faiss::CMax<float, faiss::idx_t>>(k, di, li);
          else faiss::heap_reorder<faiss::CMin<float, faiss::idx_t>>(k, di, li);
        }
      }
    });
  };
  return RunJob(env, Async, std::move(work), NoResult, {x, candidates, distances, labels});
}

template <bool Async>
Napi::Value IndexWrap::Reconstruct(const Napi::CallbackInfo& info) {
  auto handle = Live(info.Env());
  bool lossless = true;
  int64_t key = info[0].IsBigInt() ? info[0].As<Napi::BigInt>().Int64Value(&lossless) : CountArg(info, 0);
  if (!lossless) throw Napi::RangeError::New(info.Env(), "key does not fit in 64 bits");
  auto out = FloatsArg(info, 1, size_t(d_));
  float* dest = out.Data();
  Work work = [handle, key, dest] {
    ReadData(*handle, [&](const faiss::Index& index) {
      if (dynamic_cast<const faiss::IndexFlatCodes*>(&index)) CheckOffsets(index, key, 1);
      index.reconstruct(key, dest);
    });
  };
  return RunJob(info.Env(), Async, std::move(work), NoResult, {out});
}

template <bool Async>
Napi::Value IndexWrap::ReconstructN(const Napi::CallbackInfo& info) {
  auto handle = Live(info.Env());
  int64_t i0 = CountArg(info, 0);
  int64_t n = CountArg(info, 1);
  auto out = FloatsArg(info, 2, size_t(n) * size_t(d_));
  float* dest = out.Data();
  Work work = [handle, i0, n, dest] {
    ReadData(*handle, [&](const faiss::Index& index) {
      CheckOffsets(index, i0, n);
      if (dynamic_cast<const faiss::IndexFlatCodes*>(&index) || dynamic_cast<const faiss::IndexIVF*>(&index)) {
        index.reconstruct_n(i0, n, dest);
      } else {
        // FAISS's generic reconstruct_n calls reconstruct inside an OpenMP region, where the
        // "not implemented" of an IDMap would terminate the process; one by one it throws cleanly.
        for (int64_t i = 0; i < n; i++) index.reconstruct(i0 + i, dest + i * index.d);
      }
    });
  };
  return RunJob(info.Env(), Async, std::move(work), NoResult, {out});
}

template <bool Async>
Napi::Value IndexWrap::ReplaceInvlists(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  return RunChange(info.Env(), Async, [path](faiss::Index& index) { MoveListsToDisk(index, path); }, {});
}

template <bool Async>
Napi::Value IndexWrap::MergeOnDisk(const Napi::CallbackInfo& info) {
  std::vector<std::string> shardPaths;
  Napi::Array paths = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < paths.Length(); i++) shardPaths.push_back(paths.Get(i).As<Napi::String>());
  std::string path = info[1].As<Napi::String>();
  const bool shiftIds = info[2].ToBoolean();
  return RunChange(info.Env(), Async, [shardPaths, path, shiftIds](faiss::Index& trained) {
    // Read as Python's merge_ondisk reads them (IO_FLAG_MMAP): their lists stay in the files,
    // watched while the merge copies them.
    std::vector<LoadedIndex> shards;
    std::vector<const faiss::Index*> indexes;
    std::vector<std::shared_ptr<MappedFile>> watched;
    for (const std::string& shardPath : shardPaths) {
      shards.push_back(ReadIndexFile(shardPath, faiss::IO_FLAG_MMAP, LoadTypes::kChecked));
      indexes.push_back(shards.back().index.get());
      std::optional<OnDiskData> data = OnDiskDataOf(*indexes.back());
      if (data && data->begin != nullptr) watched.push_back(MappedFile::Watch(shardPath, data->begin, data->bytes));
    }
    faiss_native::MergeOnDisk(trained, indexes, shardPaths, path, shiftIds, [&] {
      for (const auto& file : watched) file->Check();
    });
  }, {});
}

template <bool Async>
Napi::Value IndexWrap::Serialize(const Napi::CallbackInfo& info) {
  auto handle = Live(info.Env());
  auto bytes = std::make_shared<std::vector<uint8_t>>();
  Work work = [handle, bytes] { ReadData(*handle, [&](const faiss::Index& index) { *bytes = SerializeIndex(index); }); };
  Finish finish = [bytes](Napi::Env env) -> Napi::Value { return BufferOf(env, bytes); };
  return RunJob(info.Env(), Async, std::move(work), std::move(finish), {});
}

template <bool Async>
Napi::Value IndexWrap::Write(const Napi::CallbackInfo& info) {
  auto handle = Live(info.Env());
  std::string path = info[0].As<Napi::String>();
  Work work = [handle, path] {
    ReadData(*handle, [&](const faiss::Index& index) {
      SyncOnDisk(index);  // the data file first: the index file names it
      // A mapped file that changed mid-write must not replace the target with garbled data.
      WriteIndexAtomic(index, path, [&] { handle->CheckFiles(); });
    });
  };
  return RunJob(info.Env(), Async, std::move(work), NoResult, {});
}

// ---- views and lifetime ----

Napi::Value IndexWrap::View(Napi::Env env, faiss::Index* inner) {
  auto handle = Live(env);
  if (inner == nullptr) return env.Undefined();
  // Aliases the parent handle: the view keeps the parent, and all it keeps, alive.
  std::shared_ptr<faiss::Index> alias(handle, inner);
  auto view = std::make_shared<IndexHandle>(alias, handle->mutex, false);
  view->file = handle->file;
  view->usedBy = 1;  // a part of the parent
  return Create(env, view);
}

Napi::Value IndexWrap::Quantizer(const Napi::CallbackInfo& info) {
  faiss::IndexIVF* ivf = Live(info.Env())->Ivf();
  return View(info.Env(), ivf ? ivf->quantizer : nullptr);
}

// subIndex(): an IDMap's index or a refinement's base index; subIndex(true): a refinement's
// refine index.
Napi::Value IndexWrap::SubIndex(const Napi::CallbackInfo& info) {
  faiss::Index* index = Live(info.Env())->index.get();
  faiss::Index* sub = nullptr;
  if (auto* idmap = dynamic_cast<faiss::IndexIDMap*>(index)) sub = idmap->index;
  if (auto* refine = dynamic_cast<faiss::IndexRefine*>(index)) sub = info[0].ToBoolean() ? refine->refine_index : refine->base_index;
  return View(info.Env(), sub);
}

Napi::Value IndexWrap::Dispose(const Napi::CallbackInfo& info) {
  // Running jobs hold their own reference to the handle; the index is freed when the last ends.
  handle_.reset();
  ReportMemory(info.Env());
  return info.Env().Undefined();
}

}  // namespace faiss_native

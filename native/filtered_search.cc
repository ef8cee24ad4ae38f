#include "filtered_search.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFastScan.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/ResultHandler.h>
#include <faiss/invlists/DirectMap.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/utils/Heap.h>
#include <faiss/utils/distances.h>

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "errors.h"
#include "flat_kernel.h"
#include "index_handle.h"
#include "ivf_sq_scan.h"
#include "split_search.h"
#include "threads.h"

namespace faiss_native {

namespace {

constexpr size_t kMaxGatheredBytes = size_t(256) << 20;
// The most a filter's allowed IVF codes kept copied together take (FilterCache, one filter).
constexpr size_t kMaxCopiedCodeBytes = size_t(64) << 20;
// One query over the allowed rows of a flat index runs on every thread from this many floats:
// 5,000 rows of 128 (5% of 100k) took 190 us on one thread, against 74 us for the HNSW walk
// it replaced.
constexpr size_t kMinRowSplitFloats = size_t(1) << 18;
// IVF indexes whose listings a prepared filter keeps (PreparedListings), the latest searched.
constexpr size_t kPreparedIndexes = 8;
// Vectors whose ids estimate the allowed share where it cannot be counted (the estimate's
// standard error is under 0.8 percentage points).
constexpr faiss::idx_t kShareSamples = 4096;
// On an IVF, whose ids are read list by list (standard error under 1.6 points).
constexpr faiss::idx_t kIvfShareSamples = 1024;
// FAISS's heap limit for efSearch (lib/search-params.ts MAX_EF).
constexpr size_t kMaxEf = size_t(1) << 20;
// The cost model of filtered HNSW, in distance computations: exact search over the allowed
// rows costs one per allowed vector; the walk widened to efSearch / share^(1/4) costs about one
// per candidate per level-0 neighbour slot (2M), so the exact plan runs while
//   allowed <= (efSearch / share^(1/4)) * 2M * kHnswWalkCost.
// Calibrated by scripts/bench/filtered-hnsw.mjs: an unfiltered walk cost 1.10 (100k x 128, 1000
// centres) to 1.39-1.61 (20k x 64, 200 centres) distance computations per candidate and
// neighbour slot, measured against the exact plan over a known number of rows (its rows are
// computed four at a time). The middle keeps 20% of 20k x 64 exact, where the widened walk's
// recall@10 was 0.94.
constexpr double kHnswWalkCost = 1.4;
// Where FAISS's filtered walk keeps recall (scripts/bench/filtered-hnsw.mjs --n=100000 --d=128
// --centres=1000: HNSW16, efSearch 64, recall@10 against exact search over the allowed ids):
// - from 20% allowed at random, widened to efSearch / share^(1/4), it finds what the unfiltered
//   walk does (0.984 at 20%), at 1.2-1.6x its time;
// - below, widening does not rescue it (10%: 0.87 at efSearch 64, 0.90 at 203, 3x the time;
//   5%: 0.71 at 287), so the exact plan runs however many ids are allowed;
// - it misses allowed vectors far from the query at any share (the 20% least like the queries:
//   0.61 at efSearch 64, 0.69 at 287), so a query around which clearly fewer ids are allowed than
//   a random filter would allow is searched exactly instead: before the walk, around its entry
//   (FewAllowedAround), and after it, where its k-th allowed result ranks among the nodes it met
//   (RankedFar). With the first test alone, the 20% least like the queries got 0.747 at 100k x
//   128; with a count of the allowed nodes among all those met after the walk, 0.931; with the
//   rank, 0.996 (scratch run, one query a call, 200 queries; the README has the bench's).
constexpr double kHnswMinWalkShare = 0.2;
// "Clearly fewer" (or farther): 3 standard deviations below a random filter's count (beyond its
// rank), so that a random filter sends few queries to the exact plan: about 0.1% through the
// count, 1 or 2 of 100 through the rank, whose law is skewed (20% allowed, filtered.mjs's
// filter). At 0.75 of the share, without the deviations, 7% of the queries went, and a batch
// cost 2.7x the unfiltered one instead of 1.4x.
constexpr double kLocalShareSigmas = 3;
// How far, in ranks among the nodes met over efSearch, a widened walk finds the k-th allowed
// neighbour: recall@10 of the 20%-80% least like the queries allowed, by the true rank of the
// 10th allowed over efSearch, was 0.98-0.99 up to 0.75, 0.90 to 1, 0.65 to 1.5
// (100k x 128, scripts/bench/filtered-hnsw-misses.mjs).
constexpr double kHnswReach = 0.75;
// Neighbours of a query's entry to level 0 whose own neighbours sample the ids allowed near it.
constexpr size_t kNearNeighbours = 16;
// The IVF walks over the allowed codes, in codes scored: listing an allowed code (its id, where
// it lies, grouped by list) once a call, and testing an id of a visited list inline (a range, a
// bitmap) or through FAISS's selector. Calibrated by scripts/bench/filtered-ivf.mjs (IVF1024,SQ8,
// 100k x 128, three runs): scoring 36-49 ns a code; listing 0.29-0.39 of that an id, inline tests
// 0.14-0.16, tests through the selector 0.43-0.48 (an inverted bitmap; a set's hash costs more).
// The filtered IVF walk fetches a list's first allowed codes this many lists before scoring them,
// at most kCodesAhead of them (a list of a selective filter holds one or two).
constexpr size_t kListsAhead = 8;
constexpr size_t kCodesAhead = 4;
constexpr double kListCost = 0.3;
constexpr double kWalkCodeCost = 1.0;
constexpr double kTestCost = 0.15;
constexpr double kSelectorTestCost = 0.45;
std::atomic<uint64_t> allowedRowSearches{0};
std::atomic<uint64_t> widenedSearches{0};
std::atomic<uint64_t> filterCaches{0};  // made, to number them (FilterCache::serial_)

// Calls visit(id) on each id in [lo, hi) that a range, a bitmap or a set allows (a set's in its
// own order) until visit returns false. False where the selector is none of those, or visit
// stopped.
template <class Visit>
bool VisitListedIds(const faiss::IDSelector& sel, faiss::idx_t lo, faiss::idx_t hi, Visit&& visit) {
  if (const auto* range = dynamic_cast<const faiss::IDSelectorRange*>(&sel)) {
    for (faiss::idx_t id = std::max(range->imin, lo); id < std::min(range->imax, hi); id++) {
      if (!visit(id)) return false;
    }
    return true;
  }
  if (const auto* bitmap = dynamic_cast<const faiss::IDSelectorBitmap*>(&sel)) {
    // Eight bytes at a time (ids 64 b .. 64 b + 63; bit j of byte i is id 8 i + j), skipping zeros.
    for (size_t b = 0; b < bitmap->n; b += 8) {
      uint64_t bits = 0;
      for (size_t i = 0; i < 8 && b + i < bitmap->n; i++) bits |= uint64_t(bitmap->bitmap[b + i]) << (8 * i);
      for (; bits != 0; bits &= bits - 1) {
        const auto id = faiss::idx_t(b * 8 + size_t(__builtin_ctzll(bits)));
        if (id >= hi) return true;
        if (id >= lo && !visit(id)) return false;
      }
    }
    return true;
  }
  if (const auto* batch = dynamic_cast<const faiss::IDSelectorBatch*>(&sel)) {
    for (const faiss::idx_t id : batch->set) {
      if (id >= lo && id < hi && !visit(id)) return false;
    }
    return true;
  }
  return false;
}

// The allowed positions, ascending. Without an IDMap, straight from a range, a bitmap (a set of
// dense ids is one too: search_params.cc; eight ids a byte) or a set (its ids, sorted);
// otherwise the selector is asked about every id.
std::vector<faiss::idx_t> AllowedRows(const faiss::IDSelector& sel, faiss::idx_t ntotal, const faiss::idx_t* ids) {
  std::vector<faiss::idx_t> rows;
  const auto add = [&](faiss::idx_t row) {
    rows.push_back(row);
    return true;
  };
  if (ids == nullptr && VisitListedIds(sel, 0, ntotal, add)) {
    if (!std::is_sorted(rows.begin(), rows.end())) std::sort(rows.begin(), rows.end());
    return rows;
  }
  for (faiss::idx_t i = 0; i < ntotal; i++) {
    if (sel.is_member(ids != nullptr ? ids[i] : i)) rows.push_back(i);
  }
  return rows;
}

// Labels from positions in `rows` to the index's ids (the user's under an IDMap).
void MapLabels(const std::vector<faiss::idx_t>& rows, const faiss::idx_t* ids, size_t count, faiss::idx_t* labels) {
  for (size_t i = 0; i < count; i++) {
    if (labels[i] < 0) continue;
    const faiss::idx_t row = rows[size_t(labels[i])];
    labels[i] = ids != nullptr ? ids[row] : row;
  }
}

// Fewer queries than FAISS's BLAS threshold: each query's distances to the rows where they lie,
// into a heap, as FAISS's sequential exhaustive search does (same distance function, same
// order, same heap rules, so the same results as on gathered rows), without copying the rows:
// a copy of 5% of 100k x 128 cost 16x the HNSW walk it replaced (page faults on each call).
// Four rows at a time where `four` (flat_kernel.h: FAISS's bits) is given.
template <class C, float (*Distance)(const float*, const float*, size_t)>
void SearchRowsInPlace(const float* xb, size_t d, const std::vector<faiss::idx_t>& rows, faiss::idx_t n, const float* x,
                       faiss::idx_t k, float* distances, faiss::idx_t* labels, Distances4 four) {
  const size_t m = rows.size();
  // Query's distances to rows j .. j + 3 (or fewer at the end), fetching the four after them.
  const auto step = [&](const float* query, size_t j, float* out) {
    if (four != nullptr && j + 4 <= m) {
      const float* at[8];
      for (size_t t = 0; t < 8; t++) at[t] = xb + size_t(rows[std::min(j + t, m - 1)]) * d;
      four(query, at, d, out, at + 4);
      return;
    }
    for (size_t t = j; t < std::min(j + 4, m); t++) out[t - j] = Distance(query, xb + size_t(rows[t]) * d, d);
  };
  // One query over enough rows: on every thread, as split_search.h runs the unfiltered one
  // (threads compute the distances, the heap then takes them in row order).
  const int threads = omp_get_max_threads();
  std::unique_lock<std::mutex> gate;
  if (n == 1 && threads > 1 && m * d >= kMinRowSplitFloats) gate = TryParallelSection();
  std::vector<float> computed(gate.owns_lock() ? m + 4 : 0);
  if (gate.owns_lock()) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t j = 0; j < m; j += 4) step(x, j, computed.data() + j);
  }
#pragma omp parallel for if (n > 1)
  for (faiss::idx_t i = 0; i < n; i++) {
    float* heapDistances = distances + i * k;
    faiss::idx_t* heapLabels = labels + i * k;
    faiss::heap_heapify<C>(size_t(k), heapDistances, heapLabels);
    const float* query = x + size_t(i) * d;
    float own[4];
    for (size_t j = 0; j < m; j += 4) {
      const float* dis = computed.empty() ? own : computed.data() + j;
      if (computed.empty()) step(query, j, own);
      for (size_t t = 0; t < std::min<size_t>(4, m - j); t++) {
        if (C::cmp(heapDistances[0], dis[t])) faiss::heap_replace_top<C>(size_t(k), heapDistances, heapLabels, dis[t], faiss::idx_t(j + t));
      }
    }
    faiss::heap_reorder<C>(size_t(k), heapDistances, heapLabels);
  }
}

// Exact search over the allowed rows of a flat index (its own, or an HNSW's storage), under an
// IDMap when ids is its id_map: the results of a flat index holding just those rows, ties
// included, labels mapped back. False, having done nothing, when the rows would need a copy of
// more than 256 MiB.
bool SearchAllowedRows(const faiss::IndexFlat& flat, const faiss::idx_t* ids, const faiss::IDSelector& sel, faiss::idx_t n,
                       const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels) {
  const size_t d = size_t(flat.d);
  const std::vector<faiss::idx_t> rows = AllowedRows(sel, flat.ntotal, ids);
  const size_t m = rows.size();
  // No rows: the in-place path leaves the heaps empty, as FAISS does (BLAS is never called with
  // no rows: OpenBLAS exits the process on a zero size).
  if (n < faiss::distance_compute_blas_threshold || m == 0) {
    const Distances4 four = FlatKernel(flat.metric_type, d);
    if (flat.metric_type == faiss::METRIC_INNER_PRODUCT) {
      SearchRowsInPlace<faiss::CMin<float, faiss::idx_t>, faiss::fvec_inner_product>(flat.get_xb(), d, rows, n, x, k, distances, labels, four);
    } else {
      SearchRowsInPlace<faiss::CMax<float, faiss::idx_t>, faiss::fvec_L2sqr>(flat.get_xb(), d, rows, n, x, k, distances, labels, four);
    }
    MapLabels(rows, ids, size_t(n) * size_t(k), labels);
    allowedRowSearches++;
    return true;
  }
  // One run of rows is searched where it lies; otherwise the rows are copied together.
  const bool contiguous = rows.back() - rows.front() + 1 == faiss::idx_t(m);
  if (!contiguous && m * d * sizeof(float) > kMaxGatheredBytes) return false;
  std::vector<float> gathered;
  const float* y = flat.get_xb();
  if (contiguous) {
    y += size_t(rows.front()) * d;
  } else {
    gathered.resize(m * d);
    for (size_t j = 0; j < m; j++) std::memcpy(gathered.data() + j * d, y + size_t(rows[j]) * d, d * sizeof(float));
    y = gathered.data();
  }
  // As IndexFlat::search on a flat index holding just these rows.
  if (flat.metric_type == faiss::METRIC_INNER_PRODUCT) {
    faiss::float_minheap_array_t res = {size_t(n), size_t(k), labels, distances};
    faiss::knn_inner_product(x, y, d, size_t(n), m, &res);
  } else {
    faiss::float_maxheap_array_t res = {size_t(n), size_t(k), labels, distances};
    faiss::knn_L2sqr(x, y, d, size_t(n), m, &res);
  }
  MapLabels(rows, ids, size_t(n) * size_t(k), labels);
  allowedRowSearches++;
  return true;
}

bool IsFlatVectors(const faiss::Index& index) {
  return IsPlainFlat(index) && (index.metric_type == faiss::METRIC_INNER_PRODUCT || index.metric_type == faiss::METRIC_L2);
}

// Every allowed vector of an HNSW index, from its storage: the allowed rows of flat vectors,
// else FAISS's scan of the storage's codes with the selector (translated to positions under an
// IDMap, the labels back to ids).
void SearchHnswStorage(const faiss::IndexHNSW& hnsw, const faiss::IndexIDMap* idmap, const faiss::IDSelector& sel, faiss::idx_t n,
                       const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels) {
  const faiss::idx_t* ids = idmap != nullptr ? idmap->id_map.data() : nullptr;
  if (IsFlatVectors(*hnsw.storage) &&
      SearchAllowedRows(static_cast<const faiss::IndexFlat&>(*hnsw.storage), ids, sel, n, x, k, distances, labels)) {
    return;
  }
  std::optional<faiss::IDSelectorTranslated> translated;
  if (idmap != nullptr) translated.emplace(idmap->id_map, &sel);
  faiss::SearchParameters params;
  params.sel = translated ? &*translated : const_cast<faiss::IDSelector*>(&sel);
  hnsw.storage->search(n, x, k, distances, labels, &params);
  if (ids != nullptr) {
    for (size_t i = 0; i < size_t(n * k); i++) labels[i] = labels[i] < 0 ? labels[i] : ids[labels[i]];
  }
}

// Whether `hits` allowed among `seen` nodes is kLocalShareSigmas standard deviations below what a
// filter allowing `share` of the ids at random would allow.
bool ClearlyFewer(size_t hits, size_t seen, double share) {
  const double expected = double(seen) * share;
  return double(hits) < expected - kLocalShareSigmas * std::sqrt(expected * (1 - share));
}

// Whether the k-th allowed result's `rank` among the nodes a walk of `ef` candidates met (1 for
// the nearest) is beyond where the walk finds what lies there (kHnswReach x ef) and
// kLocalShareSigmas standard deviations beyond where a filter allowing `share` of the ids at
// random would put it (the rank of the k-th success of a coin of bias `share`: k / share on
// average, variance k (1 - share) / share^2).
bool RankedFar(size_t rank, size_t k, size_t ef, double share) {
  const double random = double(k) / share + kLocalShareSigmas * std::sqrt(double(k) * (1 - share)) / share;
  return double(rank) > std::max(random, kHnswReach * double(ef));
}

// FAISS's filtered walk's results, taken from its walk without a selector: FAISS then hands the
// handler every node it meets nearer than the k-th result so far, and the handler keeps the
// allowed ones as the selector would have (same walk, same results) while noting each node's
// distance, so that the k-th allowed result's rank among the nodes met is known (one query).
struct RankingResult final : faiss::ResultHandler<faiss::HNSW::C> {
  using Inner = faiss::HeapBlockResultHandler<faiss::HNSW::C>::SingleResultHandler;
  RankingResult(Inner& inner, const faiss::IDSelector& sel, std::vector<float>& met) : inner(inner), sel(sel), met(met) {
    met.clear();
    threshold = inner.threshold;
  }
  bool add_result(float dis, faiss::idx_t idx) override {
    met.push_back(dis);
    if (!sel.is_member(idx)) return false;
    const bool updated = inner.add_result(dis, idx);
    threshold = inner.threshold;
    return updated;
  }
  // The k-th allowed result's rank among the nodes met (past them all while fewer were found).
  size_t KthRank() const {
    return 1 + size_t(std::count_if(met.begin(), met.end(), [&](float dis) { return faiss::HNSW::C::cmp(threshold, dis); }));
  }
  Inner& inner;
  const faiss::IDSelector& sel;
  std::vector<float>& met;
};

// Whether fewer ids are allowed around a query, where FAISS's walk enters level 0 (at `entry`,
// where the greedy descent through the upper levels led it), than a filter allowing `share` of
// the ids at random would allow, by kLocalShareSigmas standard deviations: among the level-0
// neighbours of the entry and those of the kNearNeighbours of them nearest the query, each node
// counted once. Where results go wrong, the ids allowed among a query's 50 nearest vectors are
// few; among its 1000 nearest, not always (100k x 128, the 20% least like the queries allowed).
template <class Allowed>
bool FewAllowedAround(const faiss::HNSW& hnsw, faiss::DistanceComputer& dis, faiss::HNSW::storage_idx_t entry, const Allowed& allowed,
                      double share, faiss::VisitedTable& visited, std::vector<std::pair<float, faiss::HNSW::storage_idx_t>>& near) {
  size_t seen = 0, hits = 0;
  const auto count = [&](faiss::HNSW::storage_idx_t from, bool keep) {
    size_t begin, end;
    hnsw.neighbor_range(from, 0, &begin, &end);
    for (size_t j = begin; j < end && hnsw.neighbors[j] >= 0; j++) {
      const faiss::HNSW::storage_idx_t v = hnsw.neighbors[j];
      if (visited.get(v)) continue;  // neighbourhoods overlap
      visited.set(v);
      seen++;
      hits += allowed(v) ? 1 : 0;
      if (keep) near.emplace_back(dis(v), v);
    }
  };
  near.clear();
  count(entry, true);
  const size_t m = std::min(near.size(), kNearNeighbours);
  std::partial_sort(near.begin(), near.begin() + ptrdiff_t(m), near.end());
  for (size_t j = 0; j < m; j++) count(near[j].second, false);
  visited.advance();
  return ClearlyFewer(hits, seen, share);
}

// FAISS's filtered HNSW search (IndexHNSW::search with `params`, its selector on the user's ids
// under an IDMap), except for queries around which few ids are allowed (FewAllowedAround, or
// RankedFar after the walk, for a filter allowing `share` of the ids): those are left out and
// returned, ascending, for the exact plan.
std::vector<faiss::idx_t> WalkHnsw(const faiss::IndexHNSW& index, const faiss::IndexIDMap* idmap, const faiss::SearchParametersHNSW& params,
                                   double share, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels) {
  const faiss::HNSW& hnsw = index.hnsw;
  const faiss::idx_t* ids = idmap != nullptr ? idmap->id_map.data() : nullptr;
  std::optional<faiss::IDSelectorTranslated> translated;
  faiss::SearchParametersHNSW walk = params;
  if (idmap != nullptr) walk.sel = &translated.emplace(idmap->id_map, params.sel);
  const auto allowed = [&](faiss::HNSW::storage_idx_t v) { return walk.sel->is_member(v); };
  const size_t ef = size_t(std::max<faiss::idx_t>(params.efSearch, k));
  std::vector<char> far(size_t(n), 0);
  faiss::HeapBlockResultHandler<faiss::HNSW::C> results(size_t(n), distances, labels, size_t(k));
#pragma omp parallel if (n > 1)
  {
    faiss::VisitedTable visited(int(index.ntotal));
    faiss::SearchParametersHNSW unfiltered = walk;
    unfiltered.sel = nullptr;  // RankingResult filters
    std::vector<float> met;
    faiss::HeapBlockResultHandler<faiss::HNSW::C>::SingleResultHandler result(results);
    std::unique_ptr<faiss::DistanceComputer> dis(index.storage->get_distance_computer());
    if (faiss::is_similarity_metric(index.metric_type)) dis.reset(new faiss::NegativeDistanceComputer(dis.release()));  // HNSW minimises
    std::vector<std::pair<float, faiss::HNSW::storage_idx_t>> near;
    faiss::HNSWStats stats;
#pragma omp for schedule(guided)
    for (faiss::idx_t q = 0; q < n; q++) {
      result.begin(size_t(q));
      if (hnsw.entry_point >= 0) {
        // As HNSW::search: greedy through the upper levels, then the bounded walk of level 0.
        dis->set_query(x + size_t(q) * size_t(index.d));
        faiss::HNSW::storage_idx_t nearest = hnsw.entry_point;
        float nearestDistance = (*dis)(nearest);
        for (int level = hnsw.max_level; level >= 1; level--) faiss::greedy_update_nearest(hnsw, *dis, level, nearest, nearestDistance);
        if (FewAllowedAround(hnsw, *dis, nearest, allowed, share, visited, near)) {
          far[size_t(q)] = 1;
        } else {
          faiss::HNSW::MinimaxHeap candidates{int(ef)};
          candidates.push(nearest, nearestDistance);
          RankingResult ranking(result, *walk.sel, met);
          faiss::search_from_candidates(hnsw, *dis, ranking, candidates, visited, stats, 0, 0, &unfiltered);
          visited.advance();
          // The k-th allowed result lies clearly farther out than the share predicts: the
          // filter rejects most ids near the query, and the walk, which settles on the efSearch
          // nodes nearest it, may have stopped short of allowed ones.
          if (RankedFar(ranking.KthRank(), size_t(k), ef, share)) far[size_t(q)] = 1;
        }
      }
      result.end();
    }
  }
  std::vector<faiss::idx_t> exact;
  for (faiss::idx_t q = 0; q < n; q++) {
    if (far[size_t(q)] != 0) {
      exact.push_back(q);
      continue;
    }
    for (size_t j = size_t(q * k); j < size_t((q + 1) * k); j++) {
      if (faiss::is_similarity_metric(index.metric_type)) distances[j] = -distances[j];
      if (ids != nullptr && labels[j] >= 0) labels[j] = ids[labels[j]];
    }
  }
  return exact;
}

// Runs search(m, x, distances, labels) over the listed queries (ascending) gathered together,
// the results put back in place.
template <class Search>
void SearchSome(const std::vector<faiss::idx_t>& queries, const float* x, size_t d, faiss::idx_t k, float* distances, faiss::idx_t* labels,
                Search&& search) {
  const size_t m = queries.size();
  std::vector<float> xs(m * d);
  std::vector<float> ds(m * size_t(k));
  std::vector<faiss::idx_t> ls(m * size_t(k));
  for (size_t i = 0; i < m; i++) std::memcpy(xs.data() + i * d, x + size_t(queries[i]) * d, d * sizeof(float));
  search(faiss::idx_t(m), xs.data(), ds.data(), ls.data());
  for (size_t i = 0; i < m; i++) {
    std::memcpy(distances + size_t(queries[i]) * size_t(k), ds.data() + i * size_t(k), size_t(k) * sizeof(float));
    std::memcpy(labels + size_t(queries[i]) * size_t(k), ls.data() + i * size_t(k), size_t(k) * sizeof(faiss::idx_t));
  }
}

// A parameter divided by the allowed share, rounded up, within [value, limit].
size_t Widened(size_t value, double share, size_t limit) {
  const double wide = std::ceil(double(value) / std::max(share, 1e-9));
  return std::max(value, size_t(std::min(wide, double(limit))));
}

// The id an IDMap above an IVF gives the IVF's id (a position in its id map), or -1 where the
// map has no such position.
faiss::idx_t MappedId(const std::vector<faiss::idx_t>& idMap, faiss::idx_t id) {
  return id >= 0 && size_t(id) < idMap.size() ? idMap[size_t(id)] : -1;
}

InvalidArgument NoExactPlan(const faiss::Index& index) {
  std::string type = TypeName(typeid(index));
  if (type.rfind("faiss::", 0) == 0) type.erase(0, 7);
  return InvalidArgument("plan 'exact' is not available for " + type + " (flat, HNSW and IVF indexes, alone or under an IDMap)");
}

}  // namespace

// The allowed codes of an IVF index, grouped by list: where each lies in its list and its id.
struct AllowedCodes {
  std::vector<uint32_t> lists;   // the lists holding any, ascending
  std::vector<size_t> start;     // codes [start[i], start[i + 1]) lie in lists[i]
  std::vector<uint32_t> offset;  // in the list
  std::vector<faiss::idx_t> id;
  // The codes themselves in that order, copied once the filter comes again (FilterCache::Lookup):
  // scattered, a selective filter's codes were each a cache miss.
  std::vector<uint8_t> codes;
  size_t size() const { return id.size(); }
};

// Where each id's code lies in an IVF index's lists (FAISS's DirectMap encoding: list << 32 |
// offset), by the ids searches return (an IDMap's above it); 8 bytes a vector where the ids
// are dense. Unusable where an id is stored twice.
class IvfLocator {
 public:
  IvfLocator(const faiss::IndexIVF& ivf, const std::vector<faiss::idx_t>* idMap);
  bool usable() const { return usable_; }
  int64_t Find(faiss::idx_t id) const;  // -1 where absent
  // The ids lie in [MinId(), EndId()).
  faiss::idx_t MinId() const { return min_; }
  faiss::idx_t EndId() const { return end_; }

 private:
  bool usable_ = true;
  faiss::idx_t min_ = 0;
  faiss::idx_t end_ = 0;
  std::vector<int64_t> dense_;  // by id - min_ where the ids are dense
  std::unordered_map<faiss::idx_t, int64_t> sparse_;
};

IvfLocator::IvfLocator(const faiss::IndexIVF& ivf, const std::vector<faiss::idx_t>* idMap) {
  std::vector<std::pair<faiss::idx_t, int64_t>> slots;  // (id, slot)
  slots.reserve(size_t(ivf.ntotal));
  for (size_t l = 0; l < ivf.nlist; l++) {
    const size_t size = ivf.invlists->list_size(l);
    if (size == 0) continue;
    faiss::InvertedLists::ScopedIds ids(ivf.invlists, l);
    for (size_t o = 0; o < size; o++) {
      const faiss::idx_t id = idMap != nullptr ? MappedId(*idMap, ids[o]) : ids[o];
      if (idMap == nullptr || id != -1) slots.emplace_back(id, int64_t(faiss::lo_build(l, o)));
    }
  }
  if (slots.empty()) return;
  const auto [lo, hi] = std::minmax_element(slots.begin(), slots.end());
  min_ = lo->first;
  end_ = hi->first + 1;
  // Dense: an array while the id range is at most twice the count.
  if (uint64_t(end_ - min_) <= 2 * uint64_t(slots.size())) {
    dense_.assign(size_t(end_ - min_), -1);
    for (const auto& [id, slot] : slots) {
      int64_t& at = dense_[size_t(id - min_)];
      if (at >= 0) usable_ = false;
      at = slot;
    }
  } else {
    sparse_.reserve(slots.size());
    for (const auto& [id, slot] : slots) usable_ = sparse_.emplace(id, slot).second && usable_;
  }
}

int64_t IvfLocator::Find(faiss::idx_t id) const {
  if (id < min_ || id >= end_) return -1;
  if (!dense_.empty()) return dense_[size_t(id - min_)];
  const auto found = sparse_.find(id);
  return found == sparse_.end() ? -1 : found->second;
}

namespace {

// The codes of the ids a range, a bitmap or a set allows, found through the locator; false
// where the selector is none of those.
bool ListAllowedCodes(const IvfLocator& locator, const faiss::IDSelector& sel, size_t nlist, AllowedCodes& out) {
  std::vector<std::pair<uint64_t, faiss::idx_t>> found;  // (slot, id)
  const bool listed = VisitListedIds(sel, locator.MinId(), locator.EndId(), [&](faiss::idx_t id) {
    if (const int64_t slot = locator.Find(id); slot >= 0) found.emplace_back(uint64_t(slot), id);
    return true;
  });
  if (!listed) return false;
  // A counting sort by list (the slots' high half), offsets in each list in the order met.
  std::vector<size_t> count(nlist + 1, 0);
  for (const auto& [slot, id] : found) count[faiss::lo_listno(slot) + 1]++;
  for (size_t l = 0; l < nlist; l++) {
    if (count[l + 1] > 0) out.lists.push_back(uint32_t(l));
    count[l + 1] += count[l];
  }
  out.offset.resize(found.size());
  out.id.resize(found.size());
  for (const auto& [slot, id] : found) {
    const size_t at = count[faiss::lo_listno(slot)]++;
    out.offset[at] = uint32_t(faiss::lo_offset(slot));
    out.id[at] = id;
  }
  out.start.reserve(out.lists.size() + 1);
  out.start.push_back(0);
  for (const uint32_t l : out.lists) out.start.push_back(count[l]);
  return true;
}

// A copy of `allowed` with its codes copied from the lists (searches may be reading `allowed`).
std::shared_ptr<const AllowedCodes> WithCodes(const faiss::IndexIVF& ivf, const AllowedCodes& allowed) {
  auto copy = std::make_shared<AllowedCodes>(allowed);
  const size_t codeSize = ivf.code_size;
  copy->codes.resize(allowed.size() * codeSize);
  for (size_t i = 0; i < allowed.lists.size(); i++) {
    faiss::InvertedLists::ScopedCodes codes(ivf.invlists, allowed.lists[i]);
    for (size_t c = allowed.start[i]; c < allowed.start[i + 1]; c++) {
      std::memcpy(copy->codes.data() + c * codeSize, codes.get() + size_t(allowed.offset[c]) * codeSize, codeSize);
    }
  }
  return copy;
}

// (distance, id) of the allowed codes of a list, as the list's scanner scores them.
using Scored = std::vector<std::pair<float, faiss::idx_t>>;

// Moves about `wanted` (at least 1) of the nearest entries of order[from, end) to its front,
// unordered, and returns how many. One pass around a pivot sampled near that rank, ranks
// (then list indexes) compared as std::nth_element compares them: nth_element itself cost
// 6 us a query over 1024 lists (perf, a batch at 50% allowed), as much as scoring 500 codes.
using Order = std::vector<std::pair<float, uint32_t>>;  // (coarse distance, list index), smaller nearer
size_t SelectNearest(Order& order, size_t from, double wanted) {
  const size_t rest = order.size() - from;
  if (wanted >= double(rest)) return rest;
  const size_t want = std::max<size_t>(1, size_t(wanted));
  const auto begin = order.begin() + ptrdiff_t(from);
  constexpr size_t kSamples = 64;
  if (rest <= 4 * kSamples) {
    std::nth_element(begin, begin + ptrdiff_t(want - 1), order.end());
    return want;
  }
  std::pair<float, uint32_t> samples[kSamples];
  for (size_t i = 0; i < kSamples; i++) samples[i] = begin[ptrdiff_t(i * rest / kSamples)];
  const size_t at = std::min(kSamples - 1, want * kSamples / rest);
  std::nth_element(samples, samples + at, samples + kSamples);
  const std::pair<float, uint32_t> pivot = samples[at];
  const size_t taken = size_t(std::partition(begin, order.end(), [&](const auto& entry) { return !(pivot < entry); }) - begin);
  if (taken <= 2 * want) return taken;
  std::nth_element(begin, begin + ptrdiff_t(want - 1), begin + ptrdiff_t(taken));  // the sample overshot
  return want;
}

// An IVF search over the allowed codes only: each query visits candidate lists nearest first
// and scores their allowed codes with the list's own scanner (set to that list, as FAISS sets
// it when it probes the list), until it has met at least `target` of them, or every list (then
// it was exact). The widened scan met as many by probing nprobe / share lists whole; this walk
// scores none of the codes a filter rejects, and goes on past lists that hold few (allowed
// vectors far from the query). Lists come in chunks of the nearest, each about enough to meet
// what is left of the target at `perList` allowed codes a list (a selection, cheaper than
// ordering every list). scoreList(scorer, i, out) appends the scored allowed codes of lists[i]
// (scorer: the CodeScorer of the scanner set to that list); fetchList(i) starts reading them
// into cache, kListsAhead lists before. One query with enough codes
// runs on every thread, as split_search.h runs the unfiltered one: a chunk's lists split between
// threads, the heap fed in the serial order, so the results are the serial ones. Returns whether
// every query visited every list.
template <class C, class ScoreList, class FetchList>
bool WalkNearestLists(const faiss::IndexIVF& ivf, const faiss::IVFSearchParameters* scan, const std::vector<uint32_t>& lists, double perList,
                      size_t target, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels,
                      const ScoreList& scoreList, const FetchList& fetchList) {
  const size_t d = size_t(ivf.d);
  const size_t count = lists.size();
  perList = std::max(perList, 1e-3);
  // The centroids of the lists: the flat quantizer's own rows, or reconstructed once.
  std::vector<float> gathered;
  const float* centroids = nullptr;
  if (IsPlainFlat(*ivf.quantizer)) {
    centroids = static_cast<const faiss::IndexFlat&>(*ivf.quantizer).get_xb();
  } else {
    gathered.resize(count * d);
    for (size_t i = 0; i < count; i++) ivf.quantizer->reconstruct(lists[i], gathered.data() + i * d);
  }
  const auto centroid = [&](size_t i) { return gathered.empty() ? centroids + size_t(lists[i]) * d : gathered.data() + i * d; };
  const float* everyCentroid = centroids != nullptr && 2 * count > ivf.nlist ? centroids : nullptr;
  const bool ip = ivf.metric_type == faiss::METRIC_INNER_PRODUCT;
  const auto scanner = [&](const float* query) {
    std::unique_ptr<faiss::InvertedListScanner> made = IvfScanner(ivf, scan);
    made->set_query(query);
    return made;
  };
  // Lists order[begin, end) scored into out, in that order.
  const auto score = [&](faiss::InvertedListScanner& scan, const Order& order, size_t begin, size_t end, Scored& out) {
    const CodeScorer scorer(scan);
    for (size_t j = begin; j < std::min(end, begin + kListsAhead); j++) fetchList(size_t(order[j].second));
    for (size_t j = begin; j < end; j++) {
      if (j + kListsAhead < end) fetchList(size_t(order[j + kListsAhead].second));
      scan.set_list(lists[order[j].second], ip ? -order[j].first : order[j].first);  // inner products were negated
      scoreList(scorer, size_t(order[j].second), out);
    }
  };
  // Room for the allowed codes of that many lists: the expected count, with a margin.
  const auto expectedCodes = [&](size_t lists) { return size_t(double(lists) * perList * 1.5) + 16; };
  const int threads = omp_get_max_threads();
  std::atomic<bool> partial{false};
  const auto query = [&](faiss::idx_t q, bool split) {
    const float* xq = x + size_t(q) * d;
    Order order(count);
    if (everyCentroid != nullptr) {
      // Most lists are candidates: every centroid at once, as the quantizer's own scan does.
      std::vector<float> all(ivf.nlist);
      if (ip) faiss::fvec_inner_products_ny(all.data(), xq, everyCentroid, d, ivf.nlist);
      else faiss::fvec_L2sqr_ny(all.data(), xq, everyCentroid, d, ivf.nlist);
      for (size_t i = 0; i < count; i++) order[i] = {ip ? -all[lists[i]] : all[lists[i]], uint32_t(i)};
    } else {
      for (size_t i = 0; i < count; i++) order[i] = {ip ? -faiss::fvec_inner_product(xq, centroid(i), d) : faiss::fvec_L2sqr(xq, centroid(i), d), uint32_t(i)};
    }
    float* heapDistances = distances + q * k;
    faiss::idx_t* heapLabels = labels + q * k;
    faiss::heap_heapify<C>(size_t(k), heapDistances, heapLabels);
    const auto feed = [&](const Scored& scored) {
      for (const auto& [dis, id] : scored) {
        if (C::cmp(heapDistances[0], dis)) faiss::heap_replace_top<C>(size_t(k), heapDistances, heapLabels, dis, id);
      }
    };
    std::unique_ptr<faiss::InvertedListScanner> own = split ? nullptr : scanner(xq);
    size_t met = 0;
    size_t from = 0;
    while (from < count && met < target) {
      const double wanted = std::ceil(double(target - met) / perList);
      const size_t chunk = SelectNearest(order, from, wanted);
      if (split) {
        std::vector<Scored> parts(static_cast<size_t>(threads));
#pragma omp parallel num_threads(threads)
        {
          const size_t t = size_t(omp_get_thread_num());
          const size_t team = size_t(omp_get_num_threads());
          const size_t begin = from + chunk * t / team;
          const size_t end = from + chunk * (t + 1) / team;
          parts[t].reserve(expectedCodes(end - begin));
          if (begin < end) score(*scanner(xq), order, begin, end, parts[t]);
        }
        for (const Scored& part : parts) {
          feed(part);
          met += part.size();
        }
      } else {
        Scored scored;
        scored.reserve(expectedCodes(chunk));
        score(*own, order, from, from + chunk, scored);
        feed(scored);
        met += scored.size();
      }
      from += chunk;
    }
    if (from < count) partial = true;
    faiss::heap_reorder<C>(size_t(k), heapDistances, heapLabels);
  };
  if (n == 1) {
    std::unique_lock<std::mutex> gate;
    if (threads > 1 && std::min(target, size_t(double(count) * perList)) * d >= kMinIvfSplitWork) gate = TryParallelSection();
    query(0, gate.owns_lock());
  } else {
#pragma omp parallel for
    for (faiss::idx_t q = 0; q < n; q++) query(q, false);
  }
  allowedRowSearches++;
  return !partial;
}

// Scores codes a batch at a time (four side by side where the scanner can: ivf_sq_scan.h),
// appending (distance, id) to `out` in the order added.
class ScoreBatch {
 public:
  ScoreBatch(const CodeScorer& score, Scored& out) : score_(score), out_(out) {}
  void Add(const uint8_t* code, faiss::idx_t id) {
    codes_[size_] = code;
    ids_[size_] = id;
    if (++size_ == kSize) Flush();
  }
  void Flush() {
    float dis[kSize];
    score_(size_, codes_, dis);
    for (size_t i = 0; i < size_; i++) out_.emplace_back(dis[i], ids_[i]);
    size_ = 0;
  }

 private:
  static constexpr size_t kSize = 64;
  const CodeScorer& score_;
  Scored& out_;
  const uint8_t* codes_[kSize];
  faiss::idx_t ids_[kSize];
  size_t size_ = 0;
};

// The walk over listed allowed codes (found through FilterCache's map): the candidates are
// the lists that hold any. Their codes are read where they lie in the lists, or from the
// copy made for a filter that came again, one list's after another.
template <class C>
bool SearchAllowedCodes(const faiss::IndexIVF& ivf, const faiss::IVFSearchParameters* scan, const AllowedCodes& allowed, size_t target,
                        faiss::idx_t n, const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels) {
  const double perList = double(allowed.size()) / double(std::max<size_t>(1, allowed.lists.size()));
  const size_t codeSize = ivf.code_size;
  return WalkNearestLists<C>(ivf, scan, allowed.lists, perList, target, n, x, k, distances, labels,
                             [&](const CodeScorer& scorer, size_t i, Scored& out) {
                               if (!allowed.codes.empty()) {
                                 float dis[64];
                                 for (size_t c = allowed.start[i]; c < allowed.start[i + 1]; c += 64) {
                                   const size_t m = std::min<size_t>(64, allowed.start[i + 1] - c);
                                   scorer(m, allowed.codes.data() + c * codeSize, dis);
                                   for (size_t j = 0; j < m; j++) out.emplace_back(dis[j], allowed.id[c + j]);
                                 }
                                 return;
                               }
                               faiss::InvertedLists::ScopedCodes codes(ivf.invlists, allowed.lists[i]);
                               ScoreBatch batch(scorer, out);
                               for (size_t c = allowed.start[i]; c < allowed.start[i + 1]; c++) {
                                 batch.Add(codes.get() + size_t(allowed.offset[c]) * codeSize, allowed.id[c]);
                               }
                               batch.Flush();
                             },
                             [&](size_t i) {
                               // The first few allowed codes of the list, where they lie (a selective
                               // filter's lists hold one or two; each was a miss from memory).
                               const size_t end = std::min(allowed.start[i + 1], allowed.start[i] + kCodesAhead);
                               faiss::InvertedLists::ScopedCodes codes(ivf.invlists, allowed.lists[i]);
                               for (size_t c = allowed.start[i]; c < end; c++) {
                                 const uint8_t* code = allowed.codes.empty() ? codes.get() + size_t(allowed.offset[c]) * codeSize
                                                                             : allowed.codes.data() + c * codeSize;
                                 for (size_t line = 0; line < codeSize; line += 64) __builtin_prefetch(code + line);
                               }
                             });
}

// The walk that tests ids as it goes (nothing listed beforehand): the candidates are every
// list that holds codes, whose ids are tested by `member` (an IDMap's ids where idMap is given).
template <class C, class Member>
bool SearchTestedCodes(const faiss::IndexIVF& ivf, const faiss::IVFSearchParameters* scan, const std::vector<faiss::idx_t>* idMap,
                       const Member& member, double share, size_t target, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances,
                       faiss::idx_t* labels) {
  std::vector<uint32_t> lists;
  for (size_t l = 0; l < ivf.nlist; l++) {
    if (ivf.invlists->list_size(l) > 0) lists.push_back(uint32_t(l));
  }
  const double perList = share * double(ivf.ntotal) / double(std::max<size_t>(1, lists.size()));
  return WalkNearestLists<C>(ivf, scan, lists, perList, target, n, x, k, distances, labels,
                             [&](const CodeScorer& scorer, size_t i, Scored& out) {
                               const size_t size = ivf.invlists->list_size(lists[i]);
                               faiss::InvertedLists::ScopedIds ids(ivf.invlists, lists[i]);
                               faiss::InvertedLists::ScopedCodes codes(ivf.invlists, lists[i]);
                               ScoreBatch batch(scorer, out);
                               for (size_t o = 0; o < size; o++) {
                                 const faiss::idx_t id = idMap != nullptr ? MappedId(*idMap, ids[o]) : ids[o];
                                 if ((idMap == nullptr || id != -1) && member(id)) batch.Add(codes.get() + o * ivf.code_size, id);
                               }
                               batch.Flush();
                             },
                             [](size_t) {});  // each list is read in order: the hardware fetches ahead
}

// SearchTestedCodes with the selector's test inlined for a range or a bitmap.
template <class C>
bool SearchTestedCodes(const faiss::IndexIVF& ivf, const faiss::IVFSearchParameters* scan, const std::vector<faiss::idx_t>* idMap,
                       const faiss::IDSelector& sel, double share, size_t target, faiss::idx_t n, const float* x, faiss::idx_t k,
                       float* distances, faiss::idx_t* labels) {
  if (const auto* range = dynamic_cast<const faiss::IDSelectorRange*>(&sel)) {
    const faiss::idx_t lo = range->imin;
    const faiss::idx_t hi = range->imax;
    return SearchTestedCodes<C>(ivf, scan, idMap, [lo, hi](faiss::idx_t id) { return id >= lo && id < hi; }, share, target, n, x, k,
                                distances, labels);
  }
  if (const auto* bitmap = dynamic_cast<const faiss::IDSelectorBitmap*>(&sel)) {
    const uint8_t* bits = bitmap->bitmap;
    const size_t bytes = bitmap->n;
    return SearchTestedCodes<C>(
        ivf, scan, idMap, [bits, bytes](faiss::idx_t id) { return id >= 0 && size_t(id >> 3) < bytes && ((bits[id >> 3] >> (id & 7)) & 1) != 0; },
        share, target, n, x, k, distances, labels);
  }
  return SearchTestedCodes<C>(ivf, scan, idMap, [&sel](faiss::idx_t id) { return sel.is_member(id); }, share, target, n, x, k,
                              distances, labels);
}

// Whether the allowed-code walk can score this IVF's codes one by one: its codes lie one after
// another in each list (not in FastScan's blocks) and its scanner computes single distances.
bool ScoresSingleCodes(const faiss::IndexIVF& ivf) {
  if (dynamic_cast<const faiss::IndexIVFFastScan*>(&ivf) != nullptr) return false;
  try {
    std::unique_ptr<faiss::InvertedListScanner> scanner(ivf.get_InvertedListScanner(false, nullptr, nullptr));
    return scanner != nullptr;
  } catch (const faiss::FaissException&) {
    return false;
  }
}

}  // namespace

FilterCache::FilterCache(const std::atomic<uint64_t>& changes) : serial_(++filterCaches), changes_(changes) {}
FilterCache::~FilterCache() = default;

namespace {

// A bitmap's bytes up to its last nonzero one.
size_t SignificantBytes(const faiss::IDSelectorBitmap& bitmap) {
  size_t bytes = bitmap.n;
  while (bytes > 0 && bitmap.bitmap[bytes - 1] == 0) bytes--;
  return bytes;
}

}  // namespace

bool FilterCopy::Matches(const faiss::IDSelector& sel) const {
  if (const auto* range = dynamic_cast<const faiss::IDSelectorRange*>(&sel)) return kind_ == 'r' && range_ == std::pair(range->imin, range->imax);
  if (const auto* bitmap = dynamic_cast<const faiss::IDSelectorBitmap*>(&sel)) {
    return kind_ == 'b' && bitmap_.size() == SignificantBytes(*bitmap) && std::memcmp(bitmap_.data(), bitmap->bitmap, bitmap_.size()) == 0;
  }
  return false;
}

void FilterCopy::Assign(const faiss::IDSelector& sel) {
  kind_ = 0;
  if (const auto* range = dynamic_cast<const faiss::IDSelectorRange*>(&sel)) {
    kind_ = 'r';
    range_ = {range->imin, range->imax};
  } else if (const auto* bitmap = dynamic_cast<const faiss::IDSelectorBitmap*>(&sel)) {
    kind_ = 'b';
    bitmap_.assign(bitmap->bitmap, bitmap->bitmap + SignificantBytes(*bitmap));
  }
}

void FilterCache::ExpireLocked(const faiss::IndexIVF& ivf) {
  // Searches hold the index's lock shared, so the count cannot move during one.
  const uint64_t changes = changes_.load();
  if (ivf_ == &ivf && builtAt_ == changes) return;
  ivf_ = &ivf;
  builtAt_ = changes;
  locator_.reset();
  listed_.reset();
  listedFilter_.Clear();
}

std::shared_ptr<const AllowedCodes> PreparedListings::Find(uint64_t cache, uint64_t changes) const {
  std::lock_guard lock(mutex_);
  for (const Slot& slot : slots_) {
    if (slot.cache == cache && slot.changes == changes) return slot.allowed;
  }
  return nullptr;
}

void PreparedListings::Store(uint64_t cache, uint64_t changes, std::shared_ptr<const AllowedCodes> allowed) {
  std::lock_guard lock(mutex_);
  slots_.erase(std::remove_if(slots_.begin(), slots_.end(), [&](const Slot& slot) { return slot.cache == cache; }), slots_.end());
  if (slots_.size() == kPreparedIndexes) slots_.erase(slots_.begin());
  slots_.push_back({cache, changes, std::move(allowed)});
}

namespace {

// Listed allowed codes met again: with their codes copied, where they fit kMaxCopiedCodeBytes.
std::shared_ptr<const AllowedCodes> Reused(const faiss::IndexIVF& ivf, std::shared_ptr<const AllowedCodes> listed) {
  if (listed->codes.empty() && listed->size() * ivf.code_size <= kMaxCopiedCodeBytes) return WithCodes(ivf, *listed);
  return listed;
}

}  // namespace

FilterCache::Seen FilterCache::Lookup(const faiss::IndexIVF& ivf, const faiss::IDSelector& sel, PreparedListings* prepared) {
  std::lock_guard lock(mutex_);
  ExpireLocked(ivf);
  Seen seen;
  if (prepared != nullptr) {
    seen.repeated = true;  // made to be used again: its listing is paid once
    if (auto listed = prepared->Find(serial_, builtAt_); listed != nullptr) {
      seen.allowed = Reused(ivf, listed);
      if (seen.allowed != listed) prepared->Store(serial_, builtAt_, seen.allowed);
    }
    return seen;
  }
  if (listed_ != nullptr && listedFilter_.Matches(sel)) seen.allowed = listed_ = Reused(ivf, listed_);
  seen.repeated = previousFilter_.Matches(sel);
  if (!seen.repeated) previousFilter_.Assign(sel);
  return seen;
}

std::shared_ptr<const AllowedCodes> FilterCache::List(const faiss::IndexIVF& ivf, const std::vector<faiss::idx_t>* idMap,
                                                      const faiss::IDSelector& sel, PreparedListings* prepared) {
  std::lock_guard lock(mutex_);
  ExpireLocked(ivf);
  if (locator_ == nullptr) locator_ = std::make_shared<const IvfLocator>(ivf, idMap);
  auto allowed = std::make_shared<AllowedCodes>();
  if (!locator_->usable() || !ListAllowedCodes(*locator_, sel, ivf.nlist, *allowed)) return nullptr;
  if (prepared != nullptr) {
    prepared->Store(serial_, builtAt_, allowed);
  } else {
    listedFilter_.Assign(sel);
    listed_ = allowed;
  }
  return allowed;
}

double AllowedShare(const faiss::Index& index, const faiss::IDSelector& sel) {
  const faiss::idx_t ntotal = index.ntotal;
  if (ntotal <= 0) return 0;
  const auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(&index);
  const faiss::Index& inner = idmap != nullptr ? *idmap->index : index;
  const auto* ivf = dynamic_cast<const faiss::IndexIVF*>(&inner);
  // Ids are positions 0 .. ntotal - 1 without an IDMap or IVF layer; otherwise any: a selector's
  // own count is then an upper bound (ids the index lacks count too), still cheaper than a sample.
  const bool positions = idmap == nullptr && ivf == nullptr;
  const faiss::idx_t bound = positions ? ntotal : std::numeric_limits<faiss::idx_t>::max();
  const auto share = [&](size_t count) { return std::min(1.0, double(count) / double(ntotal)); };
  if (const auto* no = dynamic_cast<const faiss::IDSelectorNot*>(&sel); no != nullptr && positions) return 1 - AllowedShare(index, *no->sel);
  if (const auto* range = dynamic_cast<const faiss::IDSelectorRange*>(&sel)) {
    return share(size_t(std::max<faiss::idx_t>(0, std::min(range->imax, bound) - std::max<faiss::idx_t>(range->imin, 0))));
  }
  if (const auto* bitmap = dynamic_cast<const faiss::IDSelectorBitmap*>(&sel)) {
    const size_t bytes = positions ? std::min(bitmap->n, size_t(ntotal + 7) / 8) : bitmap->n;
    size_t count = 0;
    size_t b = 0;
    for (; b + 8 <= bytes; b += 8) {  // eight bytes a count (a library call per count here)
      uint64_t bits;
      std::memcpy(&bits, bitmap->bitmap + b, 8);
      count += size_t(__builtin_popcountll(bits));
    }
    for (; b < bytes; b++) count += size_t(__builtin_popcount(bitmap->bitmap[b]));
    // Ids past ntotal in its last byte.
    if (positions && bytes == size_t(ntotal + 7) / 8 && ntotal % 8 != 0) {
      count -= size_t(__builtin_popcount(bitmap->bitmap[bytes - 1] & ~((1u << (ntotal % 8)) - 1) & 0xff));
    }
    return share(count);
  }
  if (const auto* batch = dynamic_cast<const faiss::IDSelectorBatch*>(&sel)) {
    if (!positions) return share(batch->set.size());
    size_t count = 0;
    for (const faiss::idx_t id : batch->set) count += id >= 0 && id < ntotal ? 1 : 0;
    return share(count);
  }
  // Otherwise a sample of the stored vectors' ids. An IVF's, in even steps through its lists, each
  // list's ids read once (ids lie grouped by list there, not in id order, so even steps do not
  // alias with periodic filters; looking each position up cost 2.5x the search it planned).
  size_t hits = 0;
  if (idmap == nullptr && ivf != nullptr) {
    const size_t samples = size_t(std::min<faiss::idx_t>(ntotal, kIvfShareSamples));
    const double step = double(ntotal) / double(samples);
    size_t listStart = 0;
    size_t s = 0;
    for (size_t l = 0; l < ivf->nlist && s < samples; l++) {
      const size_t size = ivf->invlists->list_size(l);
      if (size == 0 || size_t((double(s) + 0.5) * step) >= listStart + size) {
        listStart += size;
        continue;
      }
      faiss::InvertedLists::ScopedIds ids(ivf->invlists, l);
      for (size_t pos; s < samples && (pos = size_t((double(s) + 0.5) * step)) < listStart + size; s++) hits += sel.is_member(ids[pos - listStart]) ? 1 : 0;
      listStart += size;
    }
    return double(hits) / double(std::max<size_t>(1, s));
  }
  // Elsewhere at positions spread by a fixed hash (even steps would alias with periodic filters
  // such as id % 10 == 3).
  const size_t samples = size_t(std::min<faiss::idx_t>(ntotal, kShareSamples));
  for (size_t s = 0; s < samples; s++) {
    const auto pos = size_t(samples == size_t(ntotal) ? s : ((uint64_t(s) + 1) * 0x9E3779B97F4A7C15ull >> 11) % uint64_t(ntotal));
    hits += sel.is_member(idmap != nullptr ? idmap->id_map[pos] : faiss::idx_t(pos)) ? 1 : 0;
  }
  return double(hits) / double(samples);
}

FilterPlan SearchFiltered(const faiss::Index& index, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances,
                          faiss::idx_t* labels, const SearchSpec* spec, const faiss::SearchParameters* params, FilterCache& cache,
                          const RunSearch& run) {
  if (spec == nullptr || !spec->filtered()) {
    run(params);
    return FilterPlan::kNone;
  }
  const auto forced = FilterPlan(spec->plan);
  // SearchParams gives IDMaps their inner index's parameters, with the selector of the user's ids.
  const auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(&index);
  const faiss::Index& inner = idmap != nullptr ? *idmap->index : index;
  const faiss::IDSelector* sel = params->sel;
  const auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(&inner);
  const auto* ivf = dynamic_cast<const faiss::IndexIVF*>(&inner);
  if (forced == FilterPlan::kIndex || sel == nullptr) {
    if (forced == FilterPlan::kExact) throw NoExactPlan(inner);
    run(params);
    return FilterPlan::kIndex;
  }
  // Flat codes: FAISS computes every allowed vector's distance (one id at a time, one query on
  // one thread); plain flat vectors go through the allowed rows instead (BLAS for batches, one
  // query on every thread).
  if (dynamic_cast<const faiss::IndexFlatCodes*>(&inner) != nullptr) {
    const bool rows = IsFlatVectors(inner) && SearchAllowedRows(static_cast<const faiss::IndexFlat&>(inner),
                                                                idmap != nullptr ? idmap->id_map.data() : nullptr, *sel, n, x, k, distances, labels);
    if (!rows) run(params);
    return FilterPlan::kExact;
  }
  if (hnsw != nullptr && hnsw->storage != nullptr) {
    const double share = AllowedShare(index, *sel);
    faiss::SearchParametersHNSW widened = *dynamic_cast<const faiss::SearchParametersHNSW*>(params);
    const auto ef = size_t(std::max<faiss::idx_t>(widened.efSearch, k));
    widened.efSearch = int(Widened(ef, std::pow(share, 0.25), std::min<size_t>(size_t(inner.ntotal), kMaxEf)));
    const double walk = kHnswWalkCost * double(widened.efSearch) * double(hnsw->hnsw.nb_neighbors(0));
    const bool exact = forced == FilterPlan::kExact ||
                       (forced != FilterPlan::kWidened && (share < kHnswMinWalkShare || share * double(inner.ntotal) <= walk));
    if (exact) {
      SearchHnswStorage(*hnsw, idmap, *sel, n, x, k, distances, labels);
      return FilterPlan::kExact;
    }
    if (forced == FilterPlan::kWidened) {
      run(&widened);
    } else {
      // Queries around which few ids are allowed miss them on the walk: those are searched exactly.
      const std::vector<faiss::idx_t> far = WalkHnsw(*hnsw, idmap, widened, share, n, x, k, distances, labels);
      if (far.size() == size_t(n)) {
        SearchHnswStorage(*hnsw, idmap, *sel, n, x, k, distances, labels);
        return FilterPlan::kExact;
      }
      if (!far.empty()) {
        SearchSome(far, x, size_t(inner.d), k, distances, labels,
                   [&](faiss::idx_t m, const float* xs, float* ds, faiss::idx_t* ls) { SearchHnswStorage(*hnsw, idmap, *sel, m, xs, k, ds, ls); });
      }
    }
    if (size_t(widened.efSearch) <= ef) return FilterPlan::kIndex;
    widenedSearches++;
    return FilterPlan::kWidened;
  }
  if (ivf != nullptr) {
    faiss::SearchParametersIVF widened = *dynamic_cast<const faiss::SearchParametersIVF*>(params);
    const size_t nprobe = std::min(widened.nprobe, ivf->nlist);
    if (ScoresSingleCodes(*ivf)) {
      // Two walks meet about as many allowed codes as the unfiltered search meets codes
      // (nprobe x ntotal / nlist), scoring no other: one over the allowed codes listed through
      // FilterCache's map (the listing paid once for a filter that comes again: the one listed
      // last, or the previous search's), one that tests each id of the lists it visits.
      PreparedListings* prepared = spec->filter.prepared != nullptr ? &spec->filter.prepared->listings() : nullptr;
      const FilterCache::Seen seen = cache.Lookup(*ivf, *sel, prepared);
      std::shared_ptr<const AllowedCodes> allowed = seen.allowed;
      const double share = allowed != nullptr ? double(allowed->size()) / double(std::max<faiss::idx_t>(1, ivf->ntotal)) : AllowedShare(index, *sel);
      const double listSize = double(ivf->ntotal) / double(ivf->nlist);
      const double allowedCount = share * double(ivf->ntotal);
      const size_t target = forced == FilterPlan::kExact ? SIZE_MAX : size_t(std::max(std::ceil(double(nprobe) * listSize), double(k)));
      const double scored = kWalkCodeCost * std::min(allowedCount, double(target));
      const double listedCost = (allowed != nullptr || seen.repeated ? 0 : kListCost * allowedCount) + double(n) * scored;
      const bool inlineTest = dynamic_cast<const faiss::IDSelectorRange*>(sel) != nullptr || dynamic_cast<const faiss::IDSelectorBitmap*>(sel) != nullptr;
      const bool listable = inlineTest || dynamic_cast<const faiss::IDSelectorBatch*>(sel) != nullptr;
      const double tested = std::min(double(ivf->ntotal), double(target) / std::max(share, 1e-9));
      const double testedCost = double(n) * ((inlineTest ? kTestCost : kSelectorTestCost) * tested + scored);
      const std::vector<faiss::idx_t>* idMap = idmap != nullptr ? &idmap->id_map : nullptr;
      if (allowed == nullptr && listable && listedCost <= testedCost) allowed = cache.List(*ivf, idMap, *sel, prepared);
      const bool ip = ivf->metric_type == faiss::METRIC_INNER_PRODUCT;
      // The call's parameters reach the scanner (RaBitQ's query bits); its selector does not: the walks test ids themselves.
      const auto* scan = dynamic_cast<const faiss::IVFSearchParameters*>(params);
      using Min = faiss::CMin<float, faiss::idx_t>;
      using Max = faiss::CMax<float, faiss::idx_t>;
      const bool every = allowed != nullptr
                             ? (ip ? SearchAllowedCodes<Min>(*ivf, scan, *allowed, target, n, x, k, distances, labels)
                                   : SearchAllowedCodes<Max>(*ivf, scan, *allowed, target, n, x, k, distances, labels))
                             : (ip ? SearchTestedCodes<Min>(*ivf, scan, idMap, *sel, share, target, n, x, k, distances, labels)
                                   : SearchTestedCodes<Max>(*ivf, scan, idMap, *sel, share, target, n, x, k, distances, labels));
      if (every) return FilterPlan::kExact;
      widenedSearches++;
      return FilterPlan::kWidened;
    }
    // Codes FAISS scores only a block at a time (FastScan): its search, nprobe divided by the
    // share allowed.
    widened.nprobe = forced == FilterPlan::kExact ? ivf->nlist : Widened(nprobe, AllowedShare(index, *sel), ivf->nlist);
    if (widened.nprobe == ivf->nlist) {
      widened.max_codes = 0;  // every list, whole
      run(&widened);
      return FilterPlan::kExact;
    }
    if (widened.nprobe == nprobe) {
      run(params);
      return FilterPlan::kIndex;
    }
    run(&widened);
    widenedSearches++;
    return FilterPlan::kWidened;
  }
  if (forced == FilterPlan::kExact) throw NoExactPlan(inner);
  run(params);
  return FilterPlan::kIndex;
}

uint64_t AllowedRowSearches() { return allowedRowSearches.load(); }
uint64_t WidenedSearches() { return widenedSearches.load(); }

}  // namespace faiss_native

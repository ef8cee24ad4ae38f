// Filtered search over the allowed rows alone, where FAISS's own filtered search is slow or
// wrong:
//  - flat batches: FAISS 1.12 searches a flat index with a selector one query and one id at a
//    time, testing every id for every query and computing distances without BLAS: a batch of
//    100 queries with half the ids allowed ran at 0.12x the unfiltered batch
//    (scripts/bench/filtered.mjs);
//  - HNSW over flat vectors with a selective filter: FAISS walks the graph and keeps the allowed
//    nodes it meets, so with few allowed most of the k results never come (recall@10 0.30 at
//    1% allowed, 0.58 at 5%, see filtered_flat.cc), while exact search over so few rows costs
//    less than the walk.
#pragma once

#include <faiss/Index.h>

#include <cstdint>

namespace faiss_native {

// With a selector, for n >= 20 queries (FAISS's own BLAS threshold) on a plain IndexFlat (IP or
// L2), and for any n on an IndexHNSW whose vectors are a plain IndexFlat when at most 5% of
// the ids are allowed, either also under an IDMap: finds the allowed rows once, gathers them (or points at them
// when they are one run), and searches them as FAISS searches a flat index holding just those
// rows; labels are mapped back (to the user's ids under an IDMap). The results are therefore
// those of exact search over the allowed subset, ties included. Returns false, having done
// nothing, where it does not apply (the caller runs FAISS's own search), or when a copy of the
// allowed rows would take more than 256 MiB.
bool SearchAllowedRows(const faiss::Index& index, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances,
                       faiss::idx_t* labels, const faiss::SearchParameters* params);

// How many searches took this path (for the specs).
uint64_t AllowedRowSearches();

}  // namespace faiss_native

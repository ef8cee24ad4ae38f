// One query over a flat index on every thread. FAISS 1.12 scans the database on one thread
// when a search has a single query; here threads take slices of it.
#pragma once

#include <faiss/Index.h>

#include <cstdint>

namespace faiss_native {

// Searches one query over a plain IndexFlat (IP or L2) with all of FAISS's threads and returns
// true, or returns false having done nothing where that does not apply: other index types, a
// database under 4 MB, k in FAISS's reservoir range (>= 100), one thread, or the parallel
// gate (threads.h) held by another job. Distances come from FAISS's own kernels and feed
// FAISS's own result handlers in id order, so results equal IndexFlat::search's, ties included.
bool SearchFlatOnAllThreads(const faiss::Index& index, const float* query, faiss::idx_t k, float* distances, faiss::idx_t* labels);

// How many searches took that path (for the specs).
uint64_t FlatSplitSearches();

}  // namespace faiss_native

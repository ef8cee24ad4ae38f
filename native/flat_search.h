// A few queries over a flat index on every thread. FAISS 1.12 gives each query of a small
// search (nq < 20, below its BLAS threshold) one thread that streams the whole database; here
// threads take slices of the database and each vector read serves every query.
#pragma once

#include <faiss/Index.h>

#include <cstdint>

namespace faiss_native {

// Searches n (< 20) queries over a plain IndexFlat (IP or L2) on all of FAISS's threads and
// returns true, or returns false having done nothing where that does not apply: other index
// types, a database under 4 MB, k in FAISS's reservoir range (>= 100), one thread, or (for one
// query, which runs outside the parallel gate of threads.h) the gate held by another job.
// Distances come from FAISS's own kernels and feed FAISS's own result handlers in id order,
// so results equal IndexFlat::search's (its direct-scan path), ties included.
bool SearchFlatOnAllThreads(const faiss::Index& index, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances,
                            faiss::idx_t* labels);

// How many searches took that path (for the specs).
uint64_t FlatSplitSearches();

}  // namespace faiss_native

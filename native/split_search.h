// A few queries on every thread. FAISS 1.12 gives each query its own thread (its flat search
// below the BLAS threshold of 20 queries, its IVF search in the default parallel_mode 0), so
// one query runs on one core however many there are. Here threads split the database instead:
// slices of a flat index, the probed lists of an IVF-SQ index.
#pragma once

#include <faiss/Index.h>

#include <cstddef>
#include <cstdint>

namespace faiss_native {

// Searches n queries on all of FAISS's threads and returns true, or returns false having done
// nothing where that does not apply, and the caller runs FAISS's own search:
//  - a plain IndexFlat (IP or L2) with n < 20, k < 100 (FAISS's reservoir range) and at least
//    4 MB of vectors;
//  - an IndexIVFScalarQuantizer with n below the thread count, enough codes in the probed
//    lists to pay for waking the threads, and default search settings (no selector, no
//    max_codes, parallel_mode 0);
//  - one thread, or (for one query, which runs outside the parallel gate of threads.h) the
//    gate held by another job.
// Threads compute distances with FAISS's arithmetic (its flat distance functions or
// flat_kernel.h's four-at-a-time copy of them; ivf_sq_scan.h's scanner); one thread then feeds
// them in FAISS's order to FAISS's own result handlers (heaps), so results equal FAISS's serial
// search, ties included.
bool SearchOnAllThreads(const faiss::Index& index, faiss::idx_t n, const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels,
                        const faiss::SearchParameters* params);

// Flat: floats scanned below which waking threads for a query costs more than it saves (4 MB).
constexpr size_t kMinFlatSplitFloats = size_t(1) << 20;
// IVF: codes scanned x d below which waking threads for one query costs more than it saves
// (at nprobe 1 the 100k x 768 bench index scans about 100 codes).
constexpr size_t kMinIvfSplitWork = size_t(1) << 17;

// How many searches took each path (for the specs).
uint64_t FlatSplitSearches();
uint64_t IvfSplitSearches();

}  // namespace faiss_native

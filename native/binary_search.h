// Searches of binary indexes with per-call parameters. FAISS 1.12's binary IVF and HNSW
// refuse any SearchParameters (no per-call nprobe or efSearch, no filter), and its binary
// IDMap passes a filter down to them; so those searches run here, on FAISS's own parts.
#pragma once

#include <faiss/IndexBinary.h>

#include <cstdint>

#include "filtered_search.h"
#include "search_params.h"

namespace faiss_native {

// The k nearest codes of each of the n queries (code_size bytes each) by Hamming distance,
// nearest first; -1 labels where fewer than k (allowed) codes exist. With a filter:
//  - flat: FAISS's own filtered scan;
//  - IVF: the nearest lists, until the allowed codes met are as many as the nprobe nearest
//    lists hold (an unfiltered search meets that many), or every list was visited;
//  - HNSW: every allowed code when few are allowed (kExactShare of the index or
//    kExactCodes), which a walk would mostly miss; else a walk with efSearch widened by
//    1/sqrt(share allowed), as the float HNSW's widened plan.
// Returns the plan it ran (kIndex: FAISS's own), kNone without a filter.
FilterPlan SearchBinary(const faiss::IndexBinary& index, faiss::idx_t n, const uint8_t* x, faiss::idx_t k, int32_t* distances,
                     faiss::idx_t* labels, const SearchSpec* spec);

}  // namespace faiss_native

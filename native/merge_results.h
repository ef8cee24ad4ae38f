// Merging the results of searches over disjoint parts of a collection (shards) into the result
// one index over all of it would give.
#pragma once

#include <napi.h>

namespace faiss_native {

// mergeResults(distances[], labels[], ks[], offsets[], nq, k, ip, outDistances, outLabels):
// each query's k best of the shards' results (shard s: nq * ks[s] entries, its labels shifted
// by offsets[s]; -1 for none), written to the out arrays.
Napi::Value MergeResults(const Napi::CallbackInfo& info);

}  // namespace faiss_native

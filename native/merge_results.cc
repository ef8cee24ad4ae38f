// Merging shards' results as one index would have ranked them, ties included.
#include "merge_results.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "args.h"

namespace faiss_native {

namespace {

struct Entry {
  float distance;
  int64_t label;
};

}  // namespace

// A flat L2 index scans vectors in id order and keeps a newcomer only if it beats its worst
// kept one, and evicts the highest id of a tie first: among equal distances it keeps the lowest
// ids, listed ascending (faiss::CMax's cmp2); shards do the same, so the k best by (distance,
// id) are among their results. An inner-product heap (CMin) lists equal distances by
// descending id but evicts the lowest first, so which ids of a tie cut at k survive depends on
// the order of the scan: there the lowest are kept. (FAISS's merge_knn_results orders ties by
// shard instead, which differs from one index when the shards' ids interleave.)
Napi::Value MergeResults(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array distancesIn = info[0].As<Napi::Array>();
  Napi::Array labelsIn = info[1].As<Napi::Array>();
  Napi::Array ks = info[2].As<Napi::Array>();
  Napi::Array offsets = info[3].As<Napi::Array>();
  const size_t nq = size_t(CountArg(info, 4));
  const size_t k = size_t(CountArg(info, 5));
  const bool ip = info[6].ToBoolean();
  const uint32_t shards = distancesIn.Length();
  struct Shard {
    const float* distances;
    const int64_t* labels;
    size_t k;
    int64_t offset;
  };
  std::vector<Shard> in;
  for (uint32_t s = 0; s < shards; s++) {
    const size_t ks_ = size_t(ks.Get(s).As<Napi::Number>().Int64Value());
    auto d = distancesIn.Get(s).As<Napi::Float32Array>();
    auto l = labelsIn.Get(s).As<Napi::TypedArrayOf<int64_t>>();
    if (d.ElementLength() < nq * ks_ || l.ElementLength() < nq * ks_) throw Napi::RangeError::New(env, "shard result arrays too short");
    in.push_back({d.Data(), l.Data(), ks_, offsets.Get(s).As<Napi::Number>().Int64Value()});
  }
  float* outD = FloatsArg(info, 7, nq * k).Data();
  int64_t* outL = IdsArg(info, 8, nq * k).Data();

  // Better first; among equal distances the lower id first (which a flat scan keeps).
  auto better = [ip](const Entry& a, const Entry& b) {
    if (a.distance != b.distance) return ip ? a.distance > b.distance : a.distance < b.distance;
    return a.label < b.label;
  };
  std::vector<Entry> all;
  for (size_t q = 0; q < nq; q++) {
    all.clear();
    for (const Shard& s : in) {
      for (size_t j = 0; j < s.k; j++) {
        const int64_t label = s.labels[q * s.k + j];
        if (label >= 0) all.push_back({s.distances[q * s.k + j], label + s.offset});
      }
    }
    const size_t kept = std::min(k, all.size());
    std::partial_sort(all.begin(), all.begin() + kept, all.end(), better);
    if (ip) {
      // Listed as the heap lists them: equal inner products by descending id.
      for (size_t i = 0; i < kept;) {
        size_t j = i + 1;
        while (j < kept && all[j].distance == all[i].distance) j++;
        std::reverse(all.begin() + i, all.begin() + j);
        i = j;
      }
    }
    for (size_t i = 0; i < k; i++) {
      outD[q * k + i] = i < kept ? all[i].distance : (ip ? -std::numeric_limits<float>::max() : std::numeric_limits<float>::max());
      outL[q * k + i] = i < kept ? all[i].label : -1;
    }
  }
  return env.Undefined();
}

}  // namespace faiss_native

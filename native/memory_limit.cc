// Memory checks of calls whose arguments size their allocations.
#include "memory_limit.h"

#include <faiss/IndexFlatCodes.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexScalarQuantizer.h>

#include <algorithm>
#include <cstdio>

#include "addon_data.h"
#include "errors.h"

namespace faiss_native {

namespace {

// As lib/memory.ts writes sizes.
std::string Format(double bytes) {
  char text[48];
  if (bytes < double(1 << 20)) {
    std::snprintf(text, sizeof text, "%.0f bytes", bytes);
  } else {
    std::snprintf(text, sizeof text, "%.1f MiB", bytes / double(1 << 20));
  }
  return text;
}

}  // namespace

void CheckMemory(size_t limit, double bytes, const std::string& what) {
  if (bytes <= double(limit)) return;
  throw InvalidArgument(what + " would allocate " + Format(bytes) + ", over the memory limit of " + Format(double(limit)) +
                        " (see setMemoryLimit)");
}

Napi::Value SetMemoryLimit(const Napi::CallbackInfo& info) {
  AddonData::Of(info.Env())->memoryLimit = size_t(info[0].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

double BytesPerVector(const faiss::Index& index) {
  constexpr double kId = sizeof(faiss::idx_t);
  if (auto* codes = dynamic_cast<const faiss::IndexFlatCodes*>(&index)) return double(codes->code_size);
  if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(&index)) {
    double directMap = ivf->direct_map.type == faiss::DirectMap::Array ? kId
                       : ivf->direct_map.type == faiss::DirectMap::Hashtable ? 4 * kId  // an unordered_map node
                                                                            : 0;
    return double(ivf->code_size) + kId + directMap;
  }
  if (auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(&index)) {
    double reverse = dynamic_cast<const faiss::IndexIDMap2*>(&index) ? 4 * kId : 0;
    return kId + reverse + BytesPerVector(*idmap->index);
  }
  if (auto* pre = dynamic_cast<const faiss::IndexPreTransform*>(&index)) {
    return 4.0 * pre->index->d + BytesPerVector(*pre->index);  // the transformed batch, then the sub-index
  }
  return 4.0 * index.d;
}

double TrainingBytes(const faiss::Index& index, faiss::idx_t n) {
  const double d = index.d;
  if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(&index)) {
    const double nlist = double(ivf->nlist);
    // k-means on at most max_points_per_centroid * nlist samples: a copy, assignments, centroids.
    const double samples = std::min(double(n), double(ivf->cp.max_points_per_centroid) * nlist);
    double bytes = samples * (4 * d + 12) + 2 * nlist * 4 * d;
    // The encoder trains on a sample of its own (all vectors when it sets no cap): the sample,
    // residuals and assignments, then a scalar quantizer's per-dimension copy.
    const faiss::idx_t cap = ivf->train_encoder_num_vectors();
    const double encoded = cap > 0 ? std::min(double(n), double(cap)) : double(n);
    bytes += (encoded < double(n) ? encoded * 4 * d : 0) + encoded * (4 * d + 8);
    if (dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(&index)) bytes += encoded * 4 * d;
    return bytes;
  }
  if (dynamic_cast<const faiss::IndexScalarQuantizer*>(&index)) return double(n) * 4 * d;
  if (auto* idmap = dynamic_cast<const faiss::IndexIDMap*>(&index)) return TrainingBytes(*idmap->index, n);
  if (auto* pre = dynamic_cast<const faiss::IndexPreTransform*>(&index)) {
    return double(n) * 4 * pre->index->d + TrainingBytes(*pre->index, n);
  }
  return 0;
}

}  // namespace faiss_native

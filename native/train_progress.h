// Training that counts its k-means iterations where JavaScript can read them while it runs.
#pragma once

#include <faiss/Index.h>

#include <cstdint>

namespace faiss_native {

// index.train(n, x). With `progress` ({done, total}, int32s that lib/ polls while the job runs)
// and an IVF index of the families lib/ exposes (under an IDMap or not) whose coarse quantizer
// FAISS would train by k-means, it sets total to the k-means iterations and counts done.
void TrainCounting(faiss::Index& index, faiss::idx_t n, const float* x, int32_t* progress);

}  // namespace faiss_native

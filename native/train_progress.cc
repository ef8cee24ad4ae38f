// IndexIVF::train offers no progress hook. Its first step, Level1Quantizer::train_q1, runs
// `Clustering(d, nlist, cp).train(n, x, *quantizer)` on the vectors as given when the quantizer
// is untrained, is trained by the IVF index (quantizer_trains_alone == 0) and no
// clustering_index is set. TrainCounting runs that step itself through an index that forwards every call to the
// quantizer and counts its searches (k-means searches once per iteration), so the centroids are
// FAISS's own; IndexIVF::train then finds the quantizer trained and trains the encoder as usual.
#include "train_progress.h"

#include <faiss/Clustering.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexScalarQuantizer.h>

#include <typeinfo>

namespace faiss_native {

namespace {

class CountingIndex : public faiss::Index {
 public:
  CountingIndex(faiss::Index& inner, int32_t* searches) : faiss::Index(inner.d, inner.metric_type), inner_(inner), searches_(searches) {
    metric_arg = inner.metric_arg;
    Mirror();
  }

  void train(faiss::idx_t n, const float* x) override {
    inner_.train(n, x);
    Mirror();
  }
  void add(faiss::idx_t n, const float* x) override {
    inner_.add(n, x);
    Mirror();
  }
  void reset() override {
    inner_.reset();
    Mirror();
  }
  void search(faiss::idx_t n, const float* x, faiss::idx_t k, float* distances, faiss::idx_t* labels,
              const faiss::SearchParameters* params) const override {
    inner_.search(n, x, k, distances, labels, params);
    __atomic_fetch_add(searches_, 1, __ATOMIC_RELAXED);
  }

 private:
  // Clustering reads these fields, not methods.
  void Mirror() {
    ntotal = inner_.ntotal;
    is_trained = inner_.is_trained;
  }

  faiss::Index& inner_;
  int32_t* searches_;
};

// The IVF index whose train() is IndexIVF::train (IndexIVFFlatDedup's, for one, is not).
faiss::IndexIVF* PlainIvf(faiss::Index& index) {
  faiss::Index* at = &index;
  if (auto* idmap = dynamic_cast<faiss::IndexIDMap*>(at)) at = idmap->index;
  const std::type_info& type = typeid(*at);
  if (type != typeid(faiss::IndexIVFFlat) && type != typeid(faiss::IndexIVFScalarQuantizer) && type != typeid(faiss::IndexIVFPQ)) return nullptr;
  return static_cast<faiss::IndexIVF*>(at);
}

}  // namespace

void TrainCounting(faiss::Index& index, faiss::idx_t n, const float* x, int32_t* progress) {
  faiss::IndexIVF* ivf = progress ? PlainIvf(index) : nullptr;
  if (ivf && ivf->quantizer_trains_alone == 0 && !ivf->clustering_index &&
      !(ivf->quantizer->is_trained && ivf->quantizer->ntotal == faiss::idx_t(ivf->nlist))) {
    __atomic_store_n(&progress[1], ivf->cp.niter * ivf->cp.nredo, __ATOMIC_RELAXED);
    faiss::Clustering clustering(ivf->quantizer->d, ivf->nlist, ivf->cp);
    ivf->quantizer->reset();
    CountingIndex counting(*ivf->quantizer, &progress[0]);
    clustering.train(n, x, counting);
    ivf->quantizer->is_trained = true;
  }
  index.train(n, x);
}

}  // namespace faiss_native

// Index creation: index_factory, the typed families (scalar quantizer, IVF, HNSW), IDMap and
// refinement wrappers, files and buffers.
#include "index_create.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexIVFPQFastScan.h>
#include <faiss/IndexIVFRaBitQ.h>
#include <faiss/IndexPQFastScan.h>
#include <faiss/IndexRaBitQ.h>
#include <faiss/IndexRefine.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/FaissException.h>
#include <faiss/clone_index.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>

#include <cctype>
#include <climits>
#include <memory>
#include <shared_mutex>
#include <stdexcept>

#include "addon_data.h"
#include "args.h"
#include "errors.h"
#include "index_io.h"
#include "index_wrap.h"
#include "jobs.h"
#include "memory_limit.h"

namespace faiss_native {

namespace {

// FAISS reads a factory string's numbers with std::stoi, whose error names no number. This finds
// the first that does not fit an int and names it by the component it follows ("nlist 99999999999
// is out of range"), or returns "" when none is found.
std::string OutOfRangeNumber(const std::string& description) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"IVF", "nlist"}, {"HNSW", "M"}, {"OPQ", "M"}, {"PQ", "M"}, {"NSG", "R"}, {"PCA", "d_out"},
      {"PCAR", "d_out"}, {"SQ", "bits"}, {"RQ", "M"}, {"LSH", "nbits"}};
  for (size_t i = 0; i < description.size();) {
    if (!std::isdigit(static_cast<unsigned char>(description[i]))) {
      i++;
      continue;
    }
    size_t end = description.find_first_not_of("0123456789", i);
    if (end == std::string::npos) end = description.size();
    std::string digits = description.substr(i, end - i);
    size_t word = i;
    while (word > 0 && std::isalpha(static_cast<unsigned char>(description[word - 1]))) word--;
    std::string component = description.substr(word, i - word);
    if (digits.size() > 10 || std::stoull(digits) > static_cast<unsigned long long>(INT_MAX)) {
      std::string name = "the number after '" + component + "'";
      for (const auto& [prefix, field] : kNames) {
        if (component == prefix) name = field;
      }
      return name + " " + digits + " is out of range (at most " + std::to_string(INT_MAX) + ")";
    }
    i = end;
  }
  return "";
}

// createFactory(d, description, metric)
Napi::Value CreateFactory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int d = info[0].As<Napi::Number>().Int32Value();
  std::string description = info[1].As<Napi::String>();
  auto metric = faiss::MetricType(info[2].As<Napi::Number>().Int32Value());
  faiss::Index* index = Guarded(env, [&] {
    try {
      return faiss::index_factory(d, description.c_str(), metric);
    } catch (const std::out_of_range&) {
      std::string which = OutOfRangeNumber(description);
      if (which.empty()) which = "a number in it is out of range";
      throw FailureException({"FAISS_ERROR", "cannot parse factory string '" + description + "': " + which});
    } catch (const std::invalid_argument&) {
      throw FailureException({"FAISS_ERROR", "cannot parse factory string '" + description + "': a number in it is malformed"});
    } catch (const faiss::FaissException& e) {
      Failure failure = DescribeCurrentException();
      failure.message = "cannot parse factory string '" + description + "': " + failure.message;
      throw FailureException(failure);
    }
  });
  return IndexWrap::Create(env, NewHandle(index));
}

// createScalarQuantizer(d, qtype, metric)
Napi::Value CreateScalarQuantizer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int d = info[0].As<Napi::Number>().Int32Value();
  auto qtype = faiss::ScalarQuantizer::QuantizerType(info[1].As<Napi::Number>().Int32Value());
  auto metric = faiss::MetricType(info[2].As<Napi::Number>().Int32Value());
  faiss::Index* index = Guarded(env, [&] { return new faiss::IndexScalarQuantizer(d, qtype, metric); });
  return IndexWrap::Create(env, NewHandle(index));
}

// An index built on another one the caller holds (`part`), by make() under the part's lock:
// they share that lock, and the new index keeps the part alive.
template <class Make>
Napi::Value CreateOver(Napi::Env env, const std::shared_ptr<IndexHandle>& part, Make&& make) {
  std::unique_lock lock(*part->mutex);
  faiss::Index* index = Guarded(env, [&]() -> faiss::Index* { return make(part->index.get()); });
  lock.unlock();
  auto handle = std::make_shared<IndexHandle>(std::shared_ptr<faiss::Index>(index), part->mutex, true);
  handle->AddPart(part);
  handle->file = part->file;
  return IndexWrap::Create(env, handle);
}

// The IVF index an encoding describes (lib/ivf.ts): { kind: 'Flat' }, { kind: 'RaBitQ' },
// { kind: 'SQ', qtype, byResidual }, { kind: 'PQ', M, nbits } or { kind: 'PQFastScan', M, nbits, bbs }.
faiss::IndexIVF* NewIvf(faiss::Index* quantizer, int d, size_t nlist, faiss::MetricType metric, const Napi::Object& encoding) {
  std::string kind = encoding.Get("kind").As<Napi::String>();
  if (kind == "Flat") return new faiss::IndexIVFFlat(quantizer, d, nlist, metric);
  if (kind == "RaBitQ") return new faiss::IndexIVFRaBitQ(quantizer, d, nlist, metric);
  if (kind == "PQFastScan") {
    auto M = size_t(encoding.Get("M").As<Napi::Number>().Int64Value());
    auto nbits = size_t(encoding.Get("nbits").As<Napi::Number>().Int64Value());
    int bbs = encoding.Get("bbs").As<Napi::Number>().Int32Value();
    return new faiss::IndexIVFPQFastScan(quantizer, d, nlist, M, nbits, metric, bbs);
  }
  if (kind == "PQ") {
    auto M = size_t(encoding.Get("M").As<Napi::Number>().Int64Value());
    auto nbits = size_t(encoding.Get("nbits").As<Napi::Number>().Int64Value());
    return new faiss::IndexIVFPQ(quantizer, d, nlist, M, nbits, metric);
  }
  auto qtype = faiss::ScalarQuantizer::QuantizerType(encoding.Get("qtype").As<Napi::Number>().Int32Value());
  bool byResidual = encoding.Get("byResidual").ToBoolean();
  return new faiss::IndexIVFScalarQuantizer(quantizer, d, nlist, qtype, metric, byResidual);
}

// createIVF(quantizer | null, d, nlist, metric, encoding)
Napi::Value CreateIVF(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int d = info[1].As<Napi::Number>().Int32Value();
  size_t nlist = size_t(CountArg(info, 2));
  auto metric = faiss::MetricType(info[3].As<Napi::Number>().Int32Value());
  Napi::Object encoding = info[4].As<Napi::Object>();
  // Each list starts as two empty vectors, allocated (and zeroed) here for all nlist at once.
  using Lists = faiss::ArrayInvertedLists;
  Guarded(env, [&] {
    CheckMemory(AddonData::Of(env)->memoryLimit, double(nlist) * (sizeof(Lists::codes[0]) + sizeof(Lists::ids[0])),
                "an IVF index with nlist=" + std::to_string(nlist));
  });
  if (info[0].IsNull()) {
    // Builds and owns its flat quantizer of the same metric, like the factory's "IVF<nlist>,...".
    return IndexWrap::Create(env, NewHandle(Guarded(env, [&] {
                               auto quantizer = std::make_unique<faiss::IndexFlat>(d, metric);
                               faiss::IndexIVF* ivf = NewIvf(quantizer.get(), d, nlist, metric, encoding);
                               ivf->own_fields = true;
                               quantizer.release();
                               return static_cast<faiss::Index*>(ivf);
                             })));
  }
  return CreateOver(env, IndexWrap::HandleOf(env, info[0]),
                    [&](faiss::Index* quantizer) { return NewIvf(quantizer, d, nlist, metric, encoding); });
}

// createRaBitQ(d, metric)
Napi::Value CreateRaBitQ(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int d = info[0].As<Napi::Number>().Int32Value();
  auto metric = faiss::MetricType(info[1].As<Napi::Number>().Int32Value());
  return IndexWrap::Create(env, NewHandle(Guarded(env, [&] { return static_cast<faiss::Index*>(new faiss::IndexRaBitQ(d, metric)); })));
}

// createPQFastScan(d, M, nbits, metric, bbs)
Napi::Value CreatePQFastScan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int d = info[0].As<Napi::Number>().Int32Value();
  auto M = size_t(info[1].As<Napi::Number>().Int64Value());
  auto nbits = size_t(info[2].As<Napi::Number>().Int64Value());
  auto metric = faiss::MetricType(info[3].As<Napi::Number>().Int32Value());
  int bbs = info[4].As<Napi::Number>().Int32Value();
  return IndexWrap::Create(env, NewHandle(Guarded(env, [&] { return static_cast<faiss::Index*>(new faiss::IndexPQFastScan(d, M, nbits, metric, bbs)); })));
}

// createHNSWFlat(d, M, metric)
Napi::Value CreateHNSWFlat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int d = info[0].As<Napi::Number>().Int32Value();
  int M = info[1].As<Napi::Number>().Int32Value();
  auto metric = faiss::MetricType(info[2].As<Napi::Number>().Int32Value());
  return IndexWrap::Create(env, NewHandle(Guarded(env, [&] { return static_cast<faiss::Index*>(new faiss::IndexHNSWFlat(d, M, metric)); })));
}

// createIDMap(index, two): IndexIDMap, or IndexIDMap2 (which can also reconstruct by id).
Napi::Value CreateIDMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool two = info[1].As<Napi::Boolean>();
  return CreateOver(env, IndexWrap::HandleOf(env, info[0]), [&](faiss::Index* sub) -> faiss::Index* {
    if (two) return new faiss::IndexIDMap2(sub);
    return new faiss::IndexIDMap(sub);
  });
}

// createRefineFlat(base): IndexRefineFlat, which keeps the vectors whole beside the base index
// and re-ranks its candidates with exact distances.
Napi::Value CreateRefineFlat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return CreateOver(env, IndexWrap::HandleOf(env, info[0]), [](faiss::Index* base) { return new faiss::IndexRefineFlat(base); });
}

// createRefine(base, refine): IndexRefine over the base index and a copy of the refine index
// (FAISS's clone_index; a shared one would need the two indexes' locks as one).
Napi::Value CreateRefine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto base = IndexWrap::HandleOf(env, info[0]);
  auto exact = IndexWrap::HandleOf(env, info[1]);
  std::unique_ptr<faiss::Index> copy;
  {
    std::shared_lock lock(*exact->mutex);
    copy.reset(Guarded(env, [&] { return faiss::clone_index(exact->index.get()); }));
  }
  return CreateOver(env, base, [&](faiss::Index* baseIndex) {
    auto* made = new faiss::IndexRefine(baseIndex, copy.get());
    made->own_refine_index = true;
    copy.release();
    return made;
  });
}

// A job that yields a new index, wrapped on the main thread.
Napi::Value RunCreate(Napi::Env env, bool async, std::function<std::shared_ptr<IndexHandle>()> create,
                      const std::vector<Napi::Object>& keepAlive) {
  auto handle = std::make_shared<std::shared_ptr<IndexHandle>>();
  Work work = [handle, create = std::move(create)] { *handle = create(); };
  Finish finish = [handle](Napi::Env env) -> Napi::Value { return IndexWrap::Create(env, *handle); };
  return RunJob(env, async, std::move(work), std::move(finish), keepAlive);
}

LoadTypes LoadTypesOf(const Napi::Value& trusted) {
  return trusted.ToBoolean() ? LoadTypes::kAny : LoadTypes::kChecked;
}

// readIndex(path, ioFlags, trusted) / readIndexSync
template <bool Async>
Napi::Value ReadIndex(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  int flags = info[1].As<Napi::Number>().Int32Value();
  LoadTypes types = LoadTypesOf(info[2]);
  return RunCreate(info.Env(), Async, [path, flags, types] {
    LoadedIndex loaded = ReadIndexFile(path, flags, types);
    return NewHandle(loaded.index.release(), std::move(loaded.file));
  }, {});
}

// deserializeIndex(bytes: Uint8Array, trusted) / deserializeIndexSync
template <bool Async>
Napi::Value Deserialize(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "expected a Uint8Array");
  auto bytes = info[0].As<Napi::Uint8Array>();
  const uint8_t* data = bytes.Data();
  size_t size = bytes.ByteLength();
  LoadTypes types = LoadTypesOf(info[1]);
  return RunCreate(info.Env(), Async, [data, size, types] { return NewHandle(DeserializeIndex(data, size, types)); }, {bytes});
}

}  // namespace

void ExportCreators(Napi::Env env, Napi::Object exports) {
  exports.Set("createFactory", Napi::Function::New<CreateFactory>(env, "createFactory"));
  exports.Set("createScalarQuantizer", Napi::Function::New<CreateScalarQuantizer>(env, "createScalarQuantizer"));
  exports.Set("createIVF", Napi::Function::New<CreateIVF>(env, "createIVF"));
  exports.Set("createHNSWFlat", Napi::Function::New<CreateHNSWFlat>(env, "createHNSWFlat"));
  exports.Set("createIDMap", Napi::Function::New<CreateIDMap>(env, "createIDMap"));
  exports.Set("createRefineFlat", Napi::Function::New<CreateRefineFlat>(env, "createRefineFlat"));
  exports.Set("createRaBitQ", Napi::Function::New<CreateRaBitQ>(env, "createRaBitQ"));
  exports.Set("createPQFastScan", Napi::Function::New<CreatePQFastScan>(env, "createPQFastScan"));
  exports.Set("createRefine", Napi::Function::New<CreateRefine>(env, "createRefine"));
  exports.Set("readIndex", Napi::Function::New<ReadIndex<true>>(env, "readIndex"));
  exports.Set("readIndexSync", Napi::Function::New<ReadIndex<false>>(env, "readIndexSync"));
  exports.Set("deserializeIndex", Napi::Function::New<Deserialize<true>>(env, "deserializeIndex"));
  exports.Set("deserializeIndexSync", Napi::Function::New<Deserialize<false>>(env, "deserializeIndexSync"));
}

}  // namespace faiss_native

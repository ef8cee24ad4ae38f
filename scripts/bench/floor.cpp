// The C++ floor of the benchmarks: the same FAISS library the addon links, the same index
// files and queries, the same workloads, no binding in between. Built by bench.mjs.
//   floor bandwidth <MiB>
//   floor search <index> <queries.f32> <d> <nSingle> <k> <nprobes,...> <batch,...> <reps>
//   floor add <trained empty index> <base.f32> <d>
// Prints one JSON object.
#include <faiss/IVFlib.h>
#include <faiss/IndexIVF.h>
#include <faiss/index_io.h>
#include <omp.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using Clock = std::chrono::steady_clock;

static double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

static std::vector<long> ParseList(const char* s) {
  std::vector<long> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stol(item));
  return out;
}

static double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * (v.size() - 1) + 0.5))];
}

// Sums floats with four independent accumulators, 64 bytes a load where the CPU has AVX-512 (as
// the flat scan's kernel reads them): a plain 8-byte loop measured 6.5-9.4 GB/s on one thread
// here, under the scan itself, so it could not be the scan's ceiling.
#if defined(__x86_64__)
__attribute__((target("avx512f"))) static float SumAvx512(const float* x, size_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 64 <= n; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
    a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}
#endif

static float SumPlain(const float* x, size_t n) {
  float a[4] = {0, 0, 0, 0};
  for (size_t i = 0; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; j++) a[j] += x[i + j];
  return a[0] + a[1] + a[2] + a[3];
}

// A streaming read of `mib` MiB, best of 5, with 1 thread and with all (each thread its slice).
static int Bandwidth(size_t mib) {
  size_t n = mib * (1 << 20) / sizeof(float);
  std::vector<float> buf(n, 1.0f);
  bool avx512 = false;
#if defined(__x86_64__)
  avx512 = __builtin_cpu_supports("avx512f");
#endif
  std::printf("{");
  for (int threads : {1, omp_get_max_threads()}) {
    double best = 1e9;
    float sum = 0;
    for (int rep = 0; rep < 5; rep++) {
      auto t0 = Clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : sum)
      {
        const size_t t = size_t(omp_get_thread_num()), nt = size_t(omp_get_num_threads());
        const size_t from = n * t / nt / 64 * 64, to = n * (t + 1) / nt / 64 * 64;
#if defined(__x86_64__)
        sum += avx512 ? SumAvx512(buf.data() + from, to - from) : SumPlain(buf.data() + from, to - from);
#else
        sum += SumPlain(buf.data() + from, to - from);
#endif
      }
      best = std::min(best, Seconds(t0, Clock::now()));
    }
    std::printf("%s\"threads%d_GBps\": %.3f", threads == 1 ? "" : ", ", threads, n * sizeof(float) / best / 1e9);
    if (sum == 42) std::printf(" ");  // keeps the loop
  }
  std::printf("}\n");
  return 0;
}

static std::vector<float> ReadFloats(const char* path) {
  std::vector<float> out;
  FILE* f = std::fopen(path, "rb");
  std::fseek(f, 0, SEEK_END);
  out.resize(std::ftell(f) / sizeof(float));
  std::fseek(f, 0, SEEK_SET);
  if (std::fread(out.data(), sizeof(float), out.size(), f) != out.size()) std::abort();
  std::fclose(f);
  return out;
}

// Adds all base vectors to a trained, empty index in one call.
static int Add(char** argv) {
  std::unique_ptr<faiss::Index> index(faiss::read_index(argv[2]));
  std::vector<float> x = ReadFloats(argv[3]);
  int d = std::atoi(argv[4]);
  auto t0 = Clock::now();
  index->add(long(x.size()) / d, x.data());
  std::printf("{\"add_s\": %.4f}\n", Seconds(t0, Clock::now()));
  return 0;
}

static int Search(char** argv) {
  std::unique_ptr<faiss::Index> index(faiss::read_index(argv[2]));
  int d = std::atoi(argv[4]);
  long nSingle = std::atol(argv[5]);
  long k = std::atol(argv[6]);
  auto nprobes = ParseList(argv[7]);
  auto batches = ParseList(argv[8]);
  int reps = std::atoi(argv[9]);
  std::vector<float> q = ReadFloats(argv[3]);
  long nq = long(q.size()) / d;
  faiss::IndexIVF* ivf = faiss::ivflib::try_extract_index_ivf(index.get());
  std::vector<float> D(size_t(nq) * k);
  std::vector<faiss::idx_t> I(size_t(nq) * k);

  std::printf("{\"runs\": [");
  for (size_t pi = 0; pi < nprobes.size(); pi++) {
    faiss::SearchParametersIVF params;
    if (ivf) {
      params.nprobe = nprobes[pi];
      params.max_codes = ivf->max_codes;
    }
    const faiss::SearchParameters* p = ivf ? &params : nullptr;
    // Single queries, one at a time: per-call latency.
    std::vector<double> lat;
    for (long i = 0; i < std::min(nSingle, nq); i++) {
      auto t0 = Clock::now();
      index->search(1, q.data() + size_t(i) * d, k, D.data(), I.data(), p);
      lat.push_back(Seconds(t0, Clock::now()) * 1e6);
    }
    double total = 0;
    for (double l : lat) total += l;
    std::printf("%s{\"nprobe\": %ld, \"single\": {\"p50_us\": %.2f, \"p99_us\": %.2f, \"qps\": %.1f}, \"batch\": {", pi ? ", " : "",
                ivf ? nprobes[pi] : 0, Percentile(lat, 0.5), Percentile(lat, 0.99), lat.size() / (total / 1e6));
    for (size_t bi = 0; bi < batches.size(); bi++) {
      long b = std::min(batches[bi], nq);
      // Up to `reps` repetitions, fewer once 2 s are spent (as bench.mjs does).
      std::vector<double> times;
      double spent = 0;
      for (int r = 0; r < reps && (r < 2 || spent < 2); r++) {
        auto t0 = Clock::now();
        index->search(b, q.data(), k, D.data(), I.data(), p);
        times.push_back(Seconds(t0, Clock::now()));
        spent += times.back();
      }
      std::printf("%s\"%ld\": {\"qps\": %.1f}", bi ? ", " : "", b, b / Percentile(times, 0.5));
    }
    std::printf("}}");
  }
  std::printf("]}\n");
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "bandwidth") return Bandwidth(std::atol(argv[2]));
  if (argc >= 10 && std::string(argv[1]) == "search") return Search(argv);
  if (argc >= 5 && std::string(argv[1]) == "add") return Add(argv);
  std::fprintf(stderr, "usage: floor bandwidth <MiB> | search <index> <queries.f32> <d> <nSingle> <k> <nprobes> <batches> <reps> | add <index> <base.f32> <d>\n");
  return 2;
}

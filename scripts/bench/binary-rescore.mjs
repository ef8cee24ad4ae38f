#!/usr/bin/env node
// The "binary first pass, float re-rank" recipe on the SIFT sample (test/data, 4,500 x 128, L2,
// 500 queries): each vector's bits (above its dimension's mean: SIFT's values are all >= 0) in an
// IndexBinaryFlat, a search for k x kFactor candidates by Hamming distance, then Index.rescore
// of those by an exact IndexFlatL2 or by 8-bit codes (IndexScalarQuantizer QT_8bit). Prints
// recall@10 against exact search and batch throughput as a ratio to exact search (IndexFlatL2)
// in the same run, with each pass's bytes a vector.
//   node scripts/bench/binary-rescore.mjs [--rounds=5]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { median } from './paired.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { readSift, recallAtK } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const K = 10;
const K_FACTORS = [1, 4, 10, 20, 50];

/** The mean of each dimension: the thresholds of binarize for data not centred on 0. */
export function dimensionMeans(x, d) {
  const mean = new Float64Array(d);
  for (let i = 0; i < x.length; i++) mean[i % d] += x[i];
  return Float32Array.from(mean, (v) => (v * d) / x.length);
}

/**
 * The recipe as one index-like object (for tradeoffs.mjs): train finds the thresholds (and
 * trains the re-ranking index), add fills both passes, search asks the binary pass for
 * k x kFactor candidates and re-ranks them; its bytes are both passes'.
 */
export class BinaryRescore {
  constructor(d, fine, kFactor) {
    this.d = d;
    this.kFactor = kFactor;
    this.binary = new faiss.IndexBinaryFlat(d);
    this.fine = fine;
  }

  get isTrained() {
    return this.thresholds !== undefined && this.fine.isTrained;
  }

  trainSync(x) {
    this.thresholds = dimensionMeans(x, this.d);
    if (!this.fine.isTrained) this.fine.trainSync(x);
  }

  addSync(x) {
    this.binary.addSync(faiss.binarize(x, this.d, this.thresholds));
    this.fine.addSync(x);
  }

  searchSync(q, k) {
    return this.fine.rescoreSync(q, this.binary.searchSync(faiss.binarize(q, this.d, this.thresholds), k * this.kFactor), k);
  }

  serializeSync() {
    return Buffer.concat([this.binary.serializeSync(), this.fine.serializeSync()]);
  }

  dispose() {
    this.binary.dispose();
    this.fine.dispose();
  }
}

/** Batch queries per second of `search` (a function of the queries), median of the rounds. */
function qps(search, queries, nq, rounds) {
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint();
    search(queries);
    runs.push(nq / (Number(process.hrtime.bigint() - t) / 1e9));
  }
  return median(runs);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 5);
  const { d, base, queries, nq } = readSift();
  const n = base.length / d;
  const thresholds = dimensionMeans(base, d);
  const exact = new faiss.IndexFlatL2(d);
  exact.addSync(base);
  const truth = exact.searchSync(queries, K).labels;
  const exactQps = qps((q) => exact.searchSync(q, K), queries, nq, rounds);
  const binary = new faiss.IndexBinaryFlat(d);
  binary.addSync(faiss.binarize(base, d, thresholds));
  const sq8 = new faiss.IndexScalarQuantizer(d, 'QT_8bit', faiss.METRIC_L2);
  sq8.trainSync(base);
  sq8.addSync(base);
  const bytes = (index) => index.serializeSync().length / n;

  console.log(`SIFT ${n} x ${d}, L2, ${nq} queries, recall@${K}; batch QPS as a ratio to IndexFlatL2 (${exactQps.toFixed(0)} QPS here), medians of ${rounds} rounds`);
  console.log(`binary codes ${bytes(binary).toFixed(1)} B/vector, SQ8 ${bytes(sq8).toFixed(1)}, float ${bytes(exact).toFixed(1)}`);
  console.log('');
  console.log('| first pass | re-rank | candidates (k x kFactor) | recall@10 | batch QPS vs Flat |');
  console.log('|---|---|---:|---:|---:|');
  for (const kFactor of K_FACTORS) {
    const first = (q) => binary.searchSync(faiss.binarize(q, d, thresholds), K * kFactor);
    for (const [name, fine] of kFactor === 1 ? [['none', null]] : [['IndexFlatL2', exact], ['SQ8', sq8]]) {
      const run = fine === null ? (q) => first(q) : (q) => fine.rescoreSync(q, first(q), K);
      const recall = recallAtK(run(queries).labels, truth, K);
      const ratio = qps(run, queries, nq, rounds) / exactQps;
      console.log(`| binary (${d} bits) | ${name} | ${K * kFactor} | ${recall.toFixed(3)} | ${ratio.toFixed(2)} |`);
    }
  }
}

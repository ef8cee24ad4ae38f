#!/usr/bin/env node
// One-query flat search on one thread (FAISS's own serial scan) against every thread
// (native/split_search.cc), in one process, alternating 3 rounds of 60 queries each; prints the
// p50 latencies, the scan speed they imply and the speed-up, per database size:
//   node scripts/bench/flat-threads.mjs
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const faiss = createRequire(import.meta.url)(path.join(root, 'dist'));
const all = faiss.getNumThreads();
const SIZES = [[100_000, 768], [10_000, 1536], [60_000, 256], [100_000, 128]];

for (const [n, d] of SIZES) {
  const x = new Float32Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37);
  const index = new faiss.IndexFlatIP(d);
  index.addSync(x);
  const p50 = (threads) => {
    faiss.setNumThreads(threads);
    for (let i = 0; i < 5; i++) index.searchSync(x.subarray(i * d, (i + 1) * d), 10);
    const lat = [];
    for (let i = 0; i < 60; i++) {
      const t0 = process.hrtime.bigint();
      index.searchSync(x.subarray(i * d, (i + 1) * d), 10);
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return lat.sort((a, b) => a - b)[30];
  };
  const rounds = [];
  for (let r = 0; r < 3; r++) rounds.push([p50(1), p50(all)]);
  const med = (i) => rounds.map((p) => p[i]).sort((a, b) => a - b)[1];
  const gbps = (ms) => (n * d * 4) / 1e9 / (ms / 1e3);
  console.log(`n=${n} d=${d}: 1 thread ${med(0).toFixed(2)} ms (${gbps(med(0)).toFixed(1)} GB/s), ${all} threads ${med(1).toFixed(2)} ms ` +
    `(${gbps(med(1)).toFixed(1)} GB/s): ${(med(0) / med(1)).toFixed(2)}x`);
  index.dispose();
}
faiss.setNumThreads(all);

#!/usr/bin/env node
// One copy of the package on the workloads of python_bench.py and floor.cpp (single-query latency,
// batch throughput) on the same files: bench.mjs runs it for each build of the addon (the Debian
// 12 development build and the Debian 11 prebuild) to compare them in one run. Single-query
// throughput here is 1 / median latency.
//   node node_bench.mjs <package dir> <index> <queries.f32> <d> <nSingle> <k> <nprobes,...> <batch,...> <reps>
// Prints one JSON object.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [pkg, indexPath, queriesPath, dArg, nSingleArg, kArg, nprobesArg, batchesArg, repsArg] = process.argv.slice(2);
const faiss = createRequire(import.meta.url)(path.resolve(pkg, 'dist'));
const [d, nSingle, k, reps] = [dArg, nSingleArg, kArg, repsArg].map(Number);
const bytes = fs.readFileSync(queriesPath);
const q = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
const index = faiss.readIndexSync(indexPath);
const now = () => Number(process.hrtime.bigint()) / 1e3; // microseconds
const pick = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))];

const nprobes = nprobesArg.split(',').map(Number);
const isIvf = nprobes[0] !== 0; // bench.mjs passes nprobe 0 for a flat index
// Each figure keeps measuring for at least MIN_S seconds, so that sub-millisecond workloads (the
// SIFT sample) are medians of many calls rather than of a handful.
const MIN_S = 0.25;
const runs = [];
for (const nprobe of nprobes) {
  const options = isIvf ? { nprobe } : {};
  const nq = q.length / d;
  const lat = [];
  for (let i = 0, spent = 0; i < nSingle || spent < MIN_S * 1e6; i++) {
    const x = q.subarray((i % nq) * d, ((i % nq) + 1) * d);
    const t0 = now();
    index.searchSync(x, k, options);
    lat.push(now() - t0);
    spent += lat.at(-1);
  }
  const sorted = [...lat].sort((a, b) => a - b);
  const batch = {};
  for (const b of batchesArg.split(',').map(Number)) {
    const times = [];
    for (let spent = 0; times.length < reps || spent < MIN_S; spent += times.at(-1)) {
      const t0 = now();
      index.searchSync(q.subarray(0, Math.min(b, nq) * d), k, options);
      times.push((now() - t0) / 1e6);
    }
    batch[b] = { qps: b / [...times].sort((a, c) => a - c)[Math.floor(times.length / 2)] };
  }
  runs.push({ nprobe: isIvf ? nprobe : 0, single: { p50_us: pick(sorted, 0.5), p99_us: pick(sorted, 0.99), qps: 1e6 / pick(sorted, 0.5) }, batch });
}
index.dispose();
process.stdout.write(JSON.stringify({ runs, simd: faiss.buildInfo.simdLevel, nativePath: faiss.buildInfo.nativePath }));

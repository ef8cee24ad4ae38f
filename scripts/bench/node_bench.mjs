#!/usr/bin/env node
// One copy of the package on the workloads of python_bench.py and floor.cpp, on the same files:
// bench.mjs runs it once per build of the addon (the Debian 12 development build and the
// Debian 11 prebuild) to compare them in one run.
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
const isIvf = index.nlist !== undefined;
const now = () => Number(process.hrtime.bigint()) / 1e3; // microseconds
const pick = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))];

const runs = [];
for (const nprobe of nprobesArg.split(',').map(Number)) {
  const options = isIvf ? { nprobe } : {};
  const lat = [];
  for (let i = 0; i < Math.min(nSingle, q.length / d); i++) {
    const x = q.subarray(i * d, (i + 1) * d);
    const t0 = now();
    index.searchSync(x, k, options);
    lat.push(now() - t0);
  }
  const sorted = [...lat].sort((a, b) => a - b);
  const batch = {};
  for (const b of batchesArg.split(',').map(Number)) {
    const times = []; // up to reps repetitions, fewer once 2 s are spent (as python_bench.py does)
    while (times.length < reps && (times.length < 2 || times.reduce((a, c) => a + c, 0) < 2)) {
      const t0 = now();
      index.searchSync(q.subarray(0, Math.min(b, q.length / d) * d), k, options);
      times.push((now() - t0) / 1e6);
    }
    batch[b] = { qps: b / [...times].sort((a, c) => a - c)[Math.floor(times.length / 2)] };
  }
  runs.push({ nprobe: isIvf ? nprobe : 0, single: { p50_us: pick(sorted, 0.5), p99_us: pick(sorted, 0.99), qps: lat.length / (lat.reduce((a, c) => a + c, 0) / 1e6) }, batch });
}
index.dispose();
process.stdout.write(JSON.stringify({ runs, simd: faiss.buildInfo.simdLevel, nativePath: faiss.buildInfo.nativePath }));

#!/usr/bin/env node
// A/B of OpenBLAS's kernels. OpenBLAS picks them from the CPU's model number and, on a model it
// does not know (as on this VM, "Intel(R) Xeon(R) Processor"), falls back to "Prescott" (SSE3).
// lib/native.ts now names them from the CPU flags (OPENBLAS_CORETYPE). Two workers in paired
// rounds (paired.mjs), one as the addon loads now, one forced to Prescott, on what runs through
// BLAS: batch flat search, batch IVF-SQ8 search (its coarse search) and k-means training, at
// d = 768 (n = 50k, nlist 256). Prints Prescott time / our time.
//   node scripts/bench/openblas-core.mjs
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { pairedRounds, worker } from './paired.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32 } = require(path.join(root, 'scripts', 'data.cjs'));

const [d, n, nlist] = [768, 50_000, 256];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openblas-core-'));
const rnd = mulberry32(7);
const centres = Float32Array.from({ length: (n / 100) * d }, () => rnd() * 2 - 1);
const base = clustered(n, d, 11, centres);
const files = { base: path.join(dir, 'base.f32'), queries: path.join(dir, 'queries.f32'), flat: path.join(dir, 'flat.index'), ivf: path.join(dir, 'ivf.index') };
fs.writeFileSync(files.base, base);
fs.writeFileSync(files.queries, clustered(1000, d, 12, centres));
const flat = new faiss.IndexFlatIP(d);
flat.addSync(base);
flat.writeSync(files.flat);
flat.dispose();
const ivf = new faiss.IndexIVFScalarQuantizer(d, nlist, 'QT_8bit');
ivf.trainSync(base);
ivf.addSync(base);
ivf.writeSync(files.ivf);
ivf.dispose();

const env = (core) => {
  const e = { ...process.env };
  if (core) e.OPENBLAS_CORETYPE = core;
  else delete e.OPENBLAS_CORETYPE;
  return e;
};
const args = [path.join(here, 'peer-worker.mjs'), root];
const workers = { ours: worker(process.execPath, args, env()), Prescott: worker(process.execPath, args, env('Prescott')) };
const rows = [];
for (const [what, index, req] of [
  ['flat batch search, nq = 500', files.flat, { op: 'batch', nprobe: 0, k: 10, nq: 500 }],
  ['IVF-SQ8 batch search, nq = 500, nprobe 1', files.ivf, { op: 'batch', nprobe: 1, k: 10, nq: 500 }],
  ['IVF-SQ8 batch search, nq = 500, nprobe 16', files.ivf, { op: 'batch', nprobe: 16, k: 10, nq: 500 }],
  [`k-means training, IVF${nlist},SQ8`, null, { op: 'train', base: files.base, d, nlist }],
]) {
  if (index) for (const w of Object.values(workers)) await w.request({ op: 'load', index, queries: files.queries, d });
  const r = await pairedRounds(workers, req, { rounds: 9, budgetS: 20 });
  rows.push(`| ${what} | ${(r.us.ours / 1e3).toFixed(1)} | ${(r.us.Prescott / 1e3).toFixed(1)} | ${r.ratio.Prescott.toFixed(2)} | ${r.rounds} |`);
  process.stderr.write(`${rows.at(-1)}\n`);
}
for (const w of Object.values(workers)) w.close();
fs.rmSync(dir, { recursive: true });
console.log(`OpenBLAS kernels at d = ${d}, n = ${n}: ours (${faiss.buildInfo.openblasCore}) against Prescott, paired rounds\n`);
console.log('| workload | ours ms | Prescott ms | Prescott / ours | rounds |\n|---|---|---|---|---|\n' + rows.join('\n'));

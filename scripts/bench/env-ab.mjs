#!/usr/bin/env node
// A/B of one environment setting that FAISS's libraries read at load time: two workers in paired
// rounds (paired.mjs), one as the addon loads by default and one with NAME=VALUE, on d = 768
// (n = 50k, nlist 256): batch flat search, batch IVF-SQ8 search (its coarse search goes through
// BLAS), one-query IVF-SQ8 search, flat add and k-means training. Prints their time / ours.
//   node scripts/bench/env-ab.mjs [NAME=VALUE]
// The default, OPENBLAS_CORETYPE=Prescott, is the kernel OpenBLAS falls back to on CPU models it
// does not know (as on this VM, "Intel(R) Xeon(R) Processor"), before lib/native.ts named them
// from the CPU flags. OMP_WAIT_POLICY=passive measures OpenMP's wait policy;
// MALLOC_MMAP_THRESHOLD_=33554432 glibc's own (dynamic) threshold against ours (4 MiB, addon.cc).
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
const { clustered, mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const [d, n, nlist] = [768, 50_000, 256];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'env-ab-'));
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

const setting = process.argv[2] ?? 'OPENBLAS_CORETYPE=Prescott';
const [name, value] = setting.split('=');
const args = [path.join(here, 'peer-worker.mjs'), root];
const defaults = { ...process.env };
delete defaults[name];
const workers = { ours: worker(process.execPath, args, defaults), [setting]: worker(process.execPath, args, { ...defaults, [name]: value }) };
const rows = [];
for (const [what, index, req] of [
  ['flat batch search, nq = 500', files.flat, { op: 'batch', nprobe: 0, k: 10, nq: 500 }],
  ['IVF-SQ8 batch search, nq = 500, nprobe 1', files.ivf, { op: 'batch', nprobe: 1, k: 10, nq: 500 }],
  ['IVF-SQ8 batch search, nq = 500, nprobe 16', files.ivf, { op: 'batch', nprobe: 16, k: 10, nq: 500 }],
  ['IVF-SQ8 one query, nprobe 16', files.ivf, { op: 'single', nprobe: 16, k: 10, count: 20 }],
  [`flat add of ${n / 1000}k`, null, { op: 'add', base: files.base, d }],
  [`k-means training, IVF${nlist},SQ8`, null, { op: 'train', base: files.base, d, nlist }],
]) {
  if (index) for (const w of Object.values(workers)) await w.request({ op: 'load', index, queries: files.queries, d });
  const r = await pairedRounds(workers, req, { rounds: 9, budgetS: 20 });
  rows.push(`| ${what} | ${(r.us.ours / 1e3).toFixed(2)} | ${(r.us[setting] / 1e3).toFixed(2)} | ${r.ratio[setting].toFixed(2)} | ${r.rounds} |`);
  process.stderr.write(`${rows.at(-1)}\n`);
}
for (const w of Object.values(workers)) w.close();
fs.rmSync(dir, { recursive: true });
console.log(`${setting} against the defaults (OpenBLAS ${faiss.buildInfo.openblasCore}) at d = ${d}, n = ${n}, paired rounds\n`);
console.log(`| workload | ours ms | ${setting} ms | ${setting} / ours | rounds |\n|---|---|---|---|---|\n` + rows.join('\n'));

#!/usr/bin/env node
// Re-ranking on the SIFT sample (test/data): IVF32,PQ16x4 at nprobe 8 alone, then under
// IndexRefineFlat at kFactor 1 to 16: recall@10 against exact search, and the time of a batch
// of the 500 queries against the base index alone (medians of alternating rounds).
//   node scripts/bench/refine.mjs [--rounds=7]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { median } from './paired.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { readSift, recallAtK } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 7);
const { d, base, queries, nq } = readSift();
const K = 10;
const NPROBE = 8;
const FACTORS = [1, 2, 4, 8, 16];
const exact = new faiss.IndexFlatL2(d);
exact.addSync(base);
const truth = exact.searchSync(queries, K).labels;
const recall = (labels) => recallAtK(labels, truth, K);
const index = new faiss.IndexRefineFlat(new faiss.IndexIVFPQ(new faiss.IndexFlatL2(d), d, 32, 16, 4, faiss.METRIC_L2));
index.trainSync(base);
index.addSync(base);
const shapes = [['base', index.baseIndex, { nprobe: NPROBE }], ...FACTORS.map((kFactor) => [`kFactor ${kFactor}`, index, { nprobe: NPROBE, kFactor }])];
const ms = Object.fromEntries(shapes.map(([name]) => [name, []]));
for (const [, ix, options] of shapes) ix.searchSync(queries, K, options); // warm-up
for (let r = 0; r < rounds; r++) {
  for (const [name, ix, options] of shapes) {
    const t0 = process.hrtime.bigint();
    ix.searchSync(queries, K, options);
    ms[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
console.log(`SIFT ${base.length / d} x ${d}, ${nq} queries in one call, IVF32,PQ16x4 nprobe ${NPROBE}, medians of ${rounds} alternating rounds`);
console.table(
  shapes.map(([name, ix, options]) => ({
    search: name === 'base' ? 'IVF32,PQ16x4 alone' : `IndexRefineFlat, ${name}`,
    'recall@10': +recall(ix.searchSync(queries, K, options).labels).toFixed(3),
    'time vs alone': +(median(ms[name]) / median(ms.base)).toFixed(2),
  })),
);

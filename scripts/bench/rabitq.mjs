#!/usr/bin/env node
// RaBitQ on the SIFT sample (test/data, L2): IndexRaBitQ at query bits qb 0, 4 and 8, and (qb 4)
// under IndexRefineFlat at kFactor 4 to 20; IVF64,RaBitQ (qb 4) alone and re-ranked; against
// IndexFlatL2: bytes a vector (the serialized index over n), recall@10 against exact search,
// and the time of a batch of the 500 queries against the flat index's (medians of alternating
// rounds).
//   node scripts/bench/rabitq.mjs [--rounds=7]
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
const n = base.length / d;
const K = 10;
const built = (index) => {
  index.trainSync(base);
  index.addSync(base);
  return index;
};
const flat = built(new faiss.IndexFlatL2(d));
const truth = flat.searchSync(queries, K).labels;
const rabitq = built(new faiss.IndexRaBitQ(d, faiss.METRIC_L2));
const refined = built(new faiss.IndexRefineFlat(new faiss.IndexRaBitQ(d, faiss.METRIC_L2)));
const ivf = built(new faiss.IndexIVFRaBitQ(new faiss.IndexFlatL2(d), d, 64, faiss.METRIC_L2));
const ivfRefined = built(new faiss.IndexRefineFlat(new faiss.IndexIVFRaBitQ(new faiss.IndexFlatL2(d), d, 64, faiss.METRIC_L2)));
// Queries quantized to 4 bits below (qb 0, FAISS's default, estimates bit by bit: see the qb rows).
for (const index of [refined.baseIndex, ivf, ivfRefined.baseIndex]) index.qb = 4;
// [name, index, search options, qb to set first]
const shapes = [
  ['IndexFlatL2', flat, {}],
  ...[0, 4, 8].map((qb) => [`RaBitQ, qb ${qb}`, rabitq, {}, qb]),
  ...[4, 10, 20].map((kFactor) => [`RefineFlat(RaBitQ qb 4), kFactor ${kFactor}`, refined, { kFactor }]),
  ...[8, 64].map((nprobe) => [`IVF64,RaBitQ qb 4, nprobe ${nprobe}`, ivf, { nprobe }]),
  ['RefineFlat(IVF64,RaBitQ qb 4), nprobe 8, kFactor 10', ivfRefined, { nprobe: 8, kFactor: 10 }],
];
const run = ([, index, options, qb]) => {
  if (qb !== undefined) index.qb = qb;
  return index.searchSync(queries, K, options);
};
const recall = shapes.map((shape) => recallAtK(run(shape).labels, truth, K));
const ms = shapes.map(() => []);
for (let r = 0; r < rounds; r++) {
  shapes.forEach((shape, i) => {
    const t0 = process.hrtime.bigint();
    run(shape);
    ms[i].push(Number(process.hrtime.bigint() - t0) / 1e6);
  });
}
const flatMs = median(ms[0]);
console.log(`SIFT ${n} x ${d}, L2, ${nq} queries in one call, medians of ${rounds} alternating rounds`);
console.table(
  shapes.map(([name, index], i) => ({
    index: name,
    'bytes a vector': (index.serializeSync().length / n).toFixed(1),
    'recall@10': recall[i].toFixed(3),
    'time / flat': (median(ms[i]) / flatMs).toFixed(2),
  })),
);
for (const index of [flat, rabitq, refined, ivf, ivfRefined]) index.dispose();

#!/usr/bin/env node
// What train(x, { onProgress }) costs: IVF512,SQ8 training on 100,000 x 96 random vectors with
// and without progress, alternating in one process over 6 rounds; prints each time (ms) and the
// ratio of the medians (progress / plain):
//   node scripts/bench/train-progress.mjs
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const [n, d, nlist] = [100_000, 96, 512];
const rnd = mulberry32(3);
const x = Float32Array.from({ length: n * d }, () => rnd() - 0.5);
const times = { plain: [], progress: [] };
for (let round = 0; round < 6; round++) {
  for (const kind of round % 2 ? ['progress', 'plain'] : ['plain', 'progress']) {
    const index = new faiss.IndexIVFScalarQuantizer(new faiss.IndexFlatL2(d), d, nlist, 'QT_8bit', faiss.METRIC_L2);
    const t0 = performance.now();
    await index.train(x, kind === 'progress' ? { onProgress: () => {} } : {});
    times[kind].push(Math.round(performance.now() - t0));
    index.dispose();
  }
}
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log(JSON.stringify({ ...times, ratio: +(median(times.progress) / median(times.plain)).toFixed(3) }));

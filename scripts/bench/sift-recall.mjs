#!/usr/bin/env node
// Recall and size on the real SIFT sample (test/data): exact IndexFlatIP against
// IndexIVFScalarQuantizer (nlist 32) of each quantizer type, at nprobe 1..32.
//   node scripts/bench/sift-recall.mjs        (after npm install; uses dist/)
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { readSift, bruteForceGroundTruth } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const sift = readSift();
const base = { n: sift.n, d: sift.d, data: sift.base };
const queries = { n: sift.nq, data: sift.queries };
const gt = { d: 10, data: bruteForceGroundTruth(sift.base, sift.queries, sift.d, 10).ip };
const recall = (labels, k, at) => {
  let hit = 0;
  for (let q = 0; q < queries.n; q++) {
    const want = new Set(gt.data.subarray(q * gt.d, q * gt.d + at));
    for (let r = 0; r < at; r++) if (want.has(Number(labels[q * k + r]))) hit++;
  }
  return hit / (queries.n * at);
};

const flat = new faiss.IndexFlatIP(base.d);
flat.addSync(base.data);
const exact = flat.searchSync(queries.data, 10);
console.log(`SIFT sample: n=${base.n}, d=${base.d}, ${queries.n} queries, inner product; FAISS ${faiss.faissVersion} (${faiss.buildInfo.simdLevel})`);
console.log(`IndexFlatIP: recall@1 ${recall(exact.labels, 10, 1).toFixed(3)}, recall@10 ${recall(exact.labels, 10, 10).toFixed(3)}, ${flat.serializeSync().length} bytes serialized\n`);
console.log('| qtype | bytes serialized | recall@10 at nprobe 1 / 2 / 4 / 8 / 16 / 32 |\n|---|---|---|');
for (const qtype of ['QT_8bit', 'QT_6bit', 'QT_4bit', 'QT_fp16', 'QT_bf16', 'QT_8bit_uniform', 'QT_4bit_uniform', 'QT_8bit_direct']) {
  const index = new faiss.IndexIVFScalarQuantizer(base.d, 32, qtype);
  index.trainSync(base.data);
  index.addSync(base.data);
  const recalls = [1, 2, 4, 8, 16, 32].map((nprobe) => recall(index.searchSync(queries.data, 10, { nprobe }).labels, 10, 10).toFixed(3));
  console.log(`| ${qtype} | ${index.serializeSync().length} | ${recalls.join(' / ')} |`);
}

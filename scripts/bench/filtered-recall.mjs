#!/usr/bin/env node
// Issue 26's recall table, before and after the planner: recall@10 of filtered search against
// exact search over the allowed ids (a flat index of the same vectors), with FAISS's own filtered
// search (plan 'index', what Python faiss returns) and with the plan chosen ('auto'). HNSW16 at
// efSearch 64 and IVF128,SQ8 at nprobe 8, clustered vectors, inner product, 200 queries in one
// batch; filters keeping 0.1% to 50% of the ids at random, and 5% as the vectors least like the
// queries (their mean). The unfiltered recall of each index comes first.
//   node scripts/bench/filtered-recall.mjs [--n=20000] [--d=64]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32, recallAtK } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const [n, d, nq, K] = [arg('n', 20_000), arg('d', 64), 200, 10];
const rnd = mulberry32(3);
const centres = Float32Array.from({ length: 200 * d }, () => rnd() * 2 - 1);
const base = clustered(n, d, 4, centres);
const queries = clustered(nq, d, 5, centres);

const flat = new faiss.IndexFlatIP(d);
flat.addSync(base);
const indexes = [
  { name: 'HNSW16, efSearch 64', index: faiss.indexFactory(d, 'HNSW16', faiss.METRIC_INNER_PRODUCT), params: { efSearch: 64 } },
  { name: 'IVF128,SQ8, nprobe 8', index: faiss.indexFactory(d, 'IVF128,SQ8', faiss.METRIC_INNER_PRODUCT), params: { nprobe: 8 } },
];
for (const { index } of indexes) {
  if (!index.isTrained) index.trainSync(base);
  index.addSync(base);
}

// Ids by their vector's inner product with the mean query, least first.
const mean = new Float64Array(d);
for (let i = 0; i < nq * d; i++) mean[i % d] += queries[i];
const score = Array.from({ length: n }, (_, i) => base.subarray(i * d, (i + 1) * d).reduce((s, v, j) => s + v * mean[j], 0));
const leastLike = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]);

const filters = [0.001, 0.01, 0.05, 0.2, 0.5].map((share) => {
  const pick = mulberry32(Math.round(share * 1e4));
  const ids = [];
  for (let i = 0; i < n; i++) if (pick() < share) ids.push(i);
  return { label: `${share * 100}%, random`, ids };
});
filters.push({ label: '5%, least like the queries', ids: leastLike.slice(0, Math.round(0.05 * n)) });

const rows = [];
for (const { label, ids } of filters) {
  const filter = new Uint8Array(Math.ceil(n / 8));
  for (const id of ids) filter[id >> 3] |= 1 << (id & 7);
  const truth = flat.searchSync(queries, K, { filter }).labels;
  const row = { 'filter keeps': label };
  for (const { name, index, params } of indexes) {
    const recall = (plan) => recallAtK(index.searchSync(queries, K, { ...params, filter, plan }).labels, truth, K).toFixed(3);
    const auto = index.searchSync(queries, K, { ...params, filter });
    row[`${name}: FAISS's own`] = recall('index');
    row[`${name}: planned`] = `${recallAtK(auto.labels, truth, K).toFixed(3)} (${auto.plan})`;
  }
  rows.push(row);
}
const exact = flat.searchSync(queries, K).labels;
const unfiltered = indexes.map(({ name, index, params }) => `${name} ${recallAtK(index.searchSync(queries, K, params).labels, exact, K).toFixed(3)}`);
console.log(`n=${n}, d=${d}, ${nq} queries, inner product, recall@${K} against exact search over the allowed ids; unfiltered: ${unfiltered.join(', ')}`);
console.table(rows);
for (const { index } of indexes) index.dispose();
flat.dispose();

#!/usr/bin/env node
// Filtered HNSW, one query at a time: the data behind its plan (native/filtered_search.cc,
// kHnswWalkCost, kHnswMinWalkShare, kHnswLocalShareFloor). At 0.1% to 50% allowed, for ids chosen
// at random and for the vectors least like the queries (their mean), it reports recall@10 against
// exact search over the allowed ids and the time against the unfiltered walk of:
// - FAISS's filtered walk (plan 'index') at efSearch 64, and widened to 64 / share^(1/4) and
//   64 / sqrt(share);
// - the exact plan (the allowed rows), and the plan chosen ('auto').
// Then the walk's cost per candidate and level-0 neighbour slot in units of one allowed row of the
// exact plan: what kHnswWalkCost holds.
//   node scripts/bench/filtered-hnsw.mjs [--n=20000] [--d=64] [--M=16] [--centres=200]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32, recallAtK } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const [n, d, M, centreCount, nq, K, EF] = [arg('n', 20_000), arg('d', 64), arg('M', 16), arg('centres', 200), 200, 10, 64];
const rnd = mulberry32(3);
const centres = Float32Array.from({ length: centreCount * d }, () => rnd() * 2 - 1);
const base = clustered(n, d, 4, centres);
const queries = clustered(nq, d, 5, centres);
const hnsw = faiss.indexFactory(d, `HNSW${M}`, faiss.METRIC_INNER_PRODUCT);
hnsw.addSync(base);
const flat = new faiss.IndexFlatIP(d);
flat.addSync(base);

/** Microseconds per query, one query a call, best of 3 passes over the queries. */
function usPerQuery(options) {
  const pass = () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < nq; i++) hnsw.searchSync(queries.subarray(i * d, (i + 1) * d), K, options);
    return Number(process.hrtime.bigint() - t0) / 1e3 / nq;
  };
  pass();
  return Math.min(pass(), pass(), pass());
}

// Ids by their vector's inner product with the mean query, least first: the adversarial filters.
const mean = new Float64Array(d);
for (let i = 0; i < nq * d; i++) mean[i % d] += queries[i];
const score = Array.from({ length: n }, (_, i) => base.subarray(i * d, (i + 1) * d).reduce((s, v, j) => s + v * mean[j], 0));
const leastLike = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]);

const unfiltered = usPerQuery({ efSearch: EF });
const recall = (labels, truth) => +recallAtK(labels, truth, K).toFixed(3);
const unfilteredRecall = recall(hnsw.searchSync(queries, K, { efSearch: EF }).labels, flat.searchSync(queries, K).labels);
const rows = [];
const rowCosts = [];
for (const share of [0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5]) {
  const pick = mulberry32(Math.round(share * 1e4));
  const random = [];
  for (let i = 0; i < n; i++) if (pick() < share) random.push(BigInt(i));
  const far = leastLike.slice(0, Math.round(share * n)).map(BigInt);
  for (const [kind, ids] of [['random', random], ['least like', far]]) {
    const filter = new Uint8Array(Math.ceil(n / 8)); // a bitmap: a set's hash lookups would cost more than the walk
    for (const id of ids) filter[Number(id >> 3n)] |= 1 << Number(id & 7n);
    const truth = flat.searchSync(queries, K, { filter }).labels;
    const row = { allowed: `${share * 100}%`, filter: kind };
    const measure = (name, options) => {
      const result = hnsw.searchSync(queries, K, { efSearch: EF, filter, ...options });
      row[`${name} recall`] = recall(result.labels, truth);
      const us = usPerQuery({ efSearch: EF, filter, ...options });
      row[`${name} vs unfiltered`] = +(us / unfiltered).toFixed(2);
      return { result, us };
    };
    row.plan = measure('auto', {}).result.plan;
    const { us } = measure('exact', { plan: 'exact' });
    if (kind === 'random' && ids.length >= 1000) rowCosts.push(us / ids.length);
    measure(`ef ${EF}`, { plan: 'index' });
    // Widened below 5% allowed, the walk visits much of the graph (64 / sqrt(0.001) = 2024).
    if (share >= 0.05) {
      for (const [name, p] of [['1/4', 0.25], ['1/2', 0.5]]) measure(`ef/share^${name}`, { plan: 'index', efSearch: Math.ceil(EF / share ** p) });
    }
    rows.push(row);
  }
}
console.log(`HNSW${M}, n=${n}, d=${d}, ${centreCount} centres, inner product, ${nq} queries one at a time; unfiltered efSearch ${EF}: ${unfiltered.toFixed(1)} us a query, recall@${K} ${unfilteredRecall}`);
console.table(rows);
// The unfiltered walk in allowed rows of the exact plan, per candidate (efSearch) and level-0 slot (2M).
const perRow = rowCosts.reduce((a, b) => a + b, 0) / rowCosts.length;
console.log(`walk cost per candidate and level-0 slot, in exact-plan rows: ${(unfiltered / perRow / (EF * 2 * M)).toFixed(2)} (kHnswWalkCost)`);

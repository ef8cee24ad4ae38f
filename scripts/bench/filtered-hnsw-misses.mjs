#!/usr/bin/env node
// Where the filtered HNSW walk misses (issue 26), with the share of ids least like the queries
// (their mean) allowed; HNSW16 at efSearch 64, clustered vectors, inner product, one batch.
//  1. For the planned search ('auto'), the queries that find under 9 of the true 10 against the
//     rest, by the share of allowed ids among each query's 50, 200 and 1000 nearest vectors.
//  2. For the widened walk alone (plan 'widened': efSearch / share^(1/4), no query searched
//     exactly), recall@10 by the true rank of each query's 10th allowed neighbour over that
//     efSearch, with 20%, 30%, 50% and 80% allowed: how far the walk reaches (kHnswReach in
//     native/filtered_search.cc).
//   node scripts/bench/filtered-hnsw-misses.mjs [--n=100000] [--d=128] [--share=0.2]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const [n, d, share, nq, K, EF] = [arg('n', 100_000), arg('d', 128), arg('share', 0.2), 200, 10, 64];
const NEAREST = 2000;
const rnd = mulberry32(3);
const centres = Float32Array.from({ length: 1000 * d }, () => rnd() * 2 - 1);
const base = clustered(n, d, 4, centres);
const queries = clustered(nq, d, 5, centres);
const hnsw = faiss.indexFactory(d, 'HNSW16', faiss.METRIC_INNER_PRODUCT);
hnsw.addSync(base);
const flat = new faiss.IndexFlatIP(d);
flat.addSync(base);
const nearest = flat.searchSync(queries, NEAREST).labels;

const mean = new Float64Array(d);
for (let i = 0; i < nq * d; i++) mean[i % d] += queries[i];
const score = Array.from({ length: n }, (_, i) => base.subarray(i * d, (i + 1) * d).reduce((s, v, j) => s + v * mean[j], 0));
const byScore = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]);

/** The `s` least like the queries: a bitmap filter, a byte per id, and the true top K under it. */
function leastLike(s) {
  const filter = new Uint8Array(Math.ceil(n / 8));
  const allowed = new Uint8Array(n);
  for (const i of byScore.slice(0, Math.round(s * n))) {
    filter[i >> 3] |= 1 << (i & 7);
    allowed[i] = 1;
  }
  return { filter, allowed, truth: flat.searchSync(queries, K, { filter }).labels };
}
const found = (truth, labels, q) => {
  const want = new Set(truth.subarray(q * K, (q + 1) * K));
  return Array.from(labels.subarray(q * K, (q + 1) * K)).filter((l) => want.has(l)).length;
};
const mean3 = (rs, key) => (rs.reduce((s, r) => s + r[key], 0) / Math.max(1, rs.length)).toFixed(3);

{
  const { filter, allowed, truth } = leastLike(share);
  const planned = hnsw.searchSync(queries, K, { efSearch: EF, filter });
  const rows = Array.from({ length: nq }, (_, q) => {
    const allowedAmong = (m) => {
      let c = 0;
      for (let j = 0; j < m; j++) c += allowed[Number(nearest[q * NEAREST + j])];
      return c / m;
    };
    return { found: found(truth, planned.labels, q), a50: allowedAmong(50), a200: allowedAmong(200), a1000: allowedAmong(1000) };
  });
  const missed = rows.filter((r) => r.found < 9);
  const kept = rows.filter((r) => r.found >= 9);
  console.log(`n=${n}, d=${d}, ${share * 100}% least like the queries allowed, plan ${planned.plan}: recall@10 ${mean3(rows, 'found') / K}`);
  console.table([
    { queries: `missed (under 9 of 10): ${missed.length}`, 'allowed among 50 nearest': mean3(missed, 'a50'), 'among 200': mean3(missed, 'a200'), 'among 1000': mean3(missed, 'a1000') },
    { queries: `the rest: ${kept.length}`, 'allowed among 50 nearest': mean3(kept, 'a50'), 'among 200': mean3(kept, 'a200'), 'among 1000': mean3(kept, 'a1000') },
  ]);
}

const BINS = [0.25, 0.5, 0.75, 1, 1.5, 2, Infinity];
const bins = BINS.map(() => ({ queries: 0, found: 0 }));
for (const s of [0.2, 0.3, 0.5, 0.8]) {
  const { filter, allowed, truth } = leastLike(s);
  const ef = Math.round(EF / s ** 0.25);
  const walked = hnsw.searchSync(queries, K, { efSearch: EF, filter, plan: 'widened' });
  for (let q = 0; q < nq; q++) {
    let seen = 0;
    let rank = NEAREST + 1; // beyond the nearest listed
    for (let j = 0; j < NEAREST && rank > NEAREST; j++) if (allowed[Number(nearest[q * NEAREST + j])] && ++seen === K) rank = j + 1;
    const bin = bins[BINS.findIndex((b) => rank / ef < b)];
    bin.queries++;
    bin.found += found(truth, walked.labels, q);
  }
}
console.log(`the widened walk alone, 20%, 30%, 50% and 80% least like the queries allowed (${4 * nq} queries):`);
console.table(
  bins.map((b, i) => ({
    'rank of the 10th allowed / efSearch': `${i === 0 ? 0 : BINS[i - 1]} to ${BINS[i]}`,
    queries: b.queries,
    'recall@10': b.queries === 0 ? '' : (b.found / b.queries / K).toFixed(3),
  })),
);
hnsw.dispose();
flat.dispose();

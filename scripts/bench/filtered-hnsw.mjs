#!/usr/bin/env node
// Filtered HNSW, one query at a time: recall@10 against exact search over the allowed ids, and
// microseconds per query against the unfiltered walk, at 0.1%, 1%, 5% and 20% allowed (random
// ids). Up to 5% the search runs exactly over the allowed rows (native/filtered_search.h); above
// it, FAISS's filtered walk.
//   node scripts/bench/filtered-hnsw.mjs [--n=20000] [--d=64]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const [n, d, nq, K] = [arg('n', 20_000), arg('d', 64), 200, 10];
const rnd = mulberry32(3);
const centres = Float32Array.from({ length: 200 * d }, () => rnd() * 2 - 1);
const base = clustered(n, d, 4, centres);
const queries = clustered(nq, d, 5, centres);
const hnsw = faiss.indexFactory(d, 'HNSW16', faiss.METRIC_INNER_PRODUCT);
hnsw.addSync(base);
hnsw.efSearch = 64;
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

const unfiltered = usPerQuery({});
const rows = [];
for (const share of [0.001, 0.01, 0.05, 0.2]) {
  const pick = mulberry32(Math.round(share * 1e4));
  const ids = [];
  for (let i = 0; i < n; i++) if (pick() < share) ids.push(BigInt(i));
  const filter = BigInt64Array.from(ids);
  const truth = flat.searchSync(queries, K, { filter }).labels; // exact over the allowed ids
  const got = hnsw.searchSync(queries, K, { filter }).labels;
  let hits = 0;
  let total = 0;
  for (let q = 0; q < nq; q++) {
    const want = new Set(Array.from(truth.subarray(q * K, (q + 1) * K)).filter((l) => l >= 0n));
    total += want.size;
    for (const l of got.subarray(q * K, (q + 1) * K)) if (want.has(l)) hits++;
  }
  const us = usPerQuery({ filter });
  rows.push({ allowed: `${share * 100}%`, ids: ids.length, recall: +(hits / total).toFixed(3), usPerQuery: +us.toFixed(1), vsUnfiltered: +(us / unfiltered).toFixed(2) });
}
console.log(`HNSW16 efSearch 64, n=${n}, d=${d}, inner product, ${nq} queries one at a time; unfiltered ${unfiltered.toFixed(1)} us a query`);
console.table(rows);

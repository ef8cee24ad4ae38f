#!/usr/bin/env node
// Where the filtered HNSW walk still misses (issue 26): with the share of ids least like the
// queries (their mean) allowed, the queries whose planned search finds under 9 of the true 10,
// against the rest, by the share of allowed ids among each query's 50, 200 and 1000 nearest
// vectors (flat search). HNSW16 at efSearch 64, clustered vectors, inner product, one batch.
//   node scripts/bench/filtered-hnsw-misses.mjs [--n=100000] [--d=128] [--share=0.2]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const [n, d, share, nq, K] = [arg('n', 100_000), arg('d', 128), arg('share', 0.2), 200, 10];
const rnd = mulberry32(3);
const centres = Float32Array.from({ length: 1000 * d }, () => rnd() * 2 - 1);
const base = clustered(n, d, 4, centres);
const queries = clustered(nq, d, 5, centres);
const hnsw = faiss.indexFactory(d, 'HNSW16', faiss.METRIC_INNER_PRODUCT);
hnsw.addSync(base);
const flat = new faiss.IndexFlatIP(d);
flat.addSync(base);

const mean = new Float64Array(d);
for (let i = 0; i < nq * d; i++) mean[i % d] += queries[i];
const score = Array.from({ length: n }, (_, i) => base.subarray(i * d, (i + 1) * d).reduce((s, v, j) => s + v * mean[j], 0));
const least = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]).slice(0, Math.round(share * n));
const filter = new Uint8Array(Math.ceil(n / 8));
const allowed = new Uint8Array(n);
for (const i of least) {
  filter[i >> 3] |= 1 << (i & 7);
  allowed[i] = 1;
}
const truth = flat.searchSync(queries, K, { filter }).labels;
const planned = hnsw.searchSync(queries, K, { efSearch: 64, filter });
const nearest = flat.searchSync(queries, 1000).labels;
const rows = Array.from({ length: nq }, (_, q) => {
  const want = new Set(truth.subarray(q * K, (q + 1) * K));
  const found = Array.from(planned.labels.subarray(q * K, (q + 1) * K)).filter((l) => want.has(l)).length;
  const allowedAmong = (m) => {
    let c = 0;
    for (let j = 0; j < m; j++) c += allowed[Number(nearest[q * 1000 + j])];
    return c / m;
  };
  return { found, a50: allowedAmong(50), a200: allowedAmong(200), a1000: allowedAmong(1000) };
});
const mean3 = (rs, key) => (rs.reduce((s, r) => s + r[key], 0) / Math.max(1, rs.length)).toFixed(3);
const missed = rows.filter((r) => r.found < 9);
const kept = rows.filter((r) => r.found >= 9);
console.log(`n=${n}, d=${d}, ${share * 100}% least like the queries allowed, plan ${planned.plan}: recall@10 ${mean3(rows, 'found') / K}`);
console.table([
  { queries: `missed (under 9 of 10): ${missed.length}`, 'allowed among 50 nearest': mean3(missed, 'a50'), 'among 200': mean3(missed, 'a200'), 'among 1000': mean3(missed, 'a1000') },
  { queries: `the rest: ${kept.length}`, 'allowed among 50 nearest': mean3(kept, 'a50'), 'among 200': mean3(kept, 'a200'), 'among 1000': mean3(kept, 'a1000') },
]);
hnsw.dispose();
flat.dispose();

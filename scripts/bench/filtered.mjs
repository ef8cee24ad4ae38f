#!/usr/bin/env node
// Filtered search by plan: for Flat, IVF-SQ8 (nprobe 16) and HNSW16 (efSearch 64), with a
// filter (a bitmap) allowing 0.1% to 50% of the ids at random: the plan chosen ('auto'), its
// time against the cheaper of the same search unfiltered and the exact plan, one query at a
// time (100 calls) and in one batch of 100; its recall@10 against exact search over the allowed
// ids (a flat index of the same vectors); the same filter given as a set of ids, and as an
// IdFilter made once of that set, against the bitmap; one query at a time, a new filter on every
// call, and two IdFilters in turn (against the exact plan with the same new filters: a new
// filter's allowed vectors come from memory, not cache, whatever the plan). Medians of
// alternating rounds in one process:
//   node scripts/bench/filtered.mjs [--n=100000] [--d=128] [--rounds=5]
// `npm run bench` runs it too (20k vectors, 3 rounds; --full: 100k, 5 rounds).
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { median } from './paired.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32, recallAtK } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const SHARES = [0.001, 0.01, 0.05, 0.2, 0.5];
/** The indexes measured; IVF with about 4 sqrt(n) lists (1024 from 65k vectors). */
function kinds(n) {
  const ivf = `IVF${n >= 65_536 ? 1024 : 256},SQ8`;
  return [
    { kind: 'Flat', params: {} },
    { kind: ivf, params: { nprobe: 16 } },
    { kind: 'HNSW16', params: { efSearch: 64 } },
  ];
}
const NQ = 100;
const K = 10;

/** A random share of the ids, as a set and as a bitmap. */
function allowedIds(n, share, seed) {
  const rnd = mulberry32(seed);
  const chosen = [];
  for (let i = 0; i < n; i++) if (rnd() < share) chosen.push(BigInt(i));
  if (chosen.length === 0) chosen.push(0n);
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  for (const id of chosen) bitmap[Number(id >> 3n)] |= 1 << Number(id & 7n);
  return { ids: BigInt64Array.from(chosen), bitmap, count: chosen.length };
}

/** Plan, cost and recall of filtered search at each share, for each index kind and call shape. */
export async function filteredSearch({ n = 100_000, d = 128, rounds = 5, log = () => {} } = {}) {
  const rnd = mulberry32(21);
  const centres = Float32Array.from({ length: 1000 * d }, () => rnd() * 2 - 1);
  const base = clustered(n, d, 22, centres);
  const queries = clustered(NQ, d, 23, centres);
  const metric = faiss.METRIC_INNER_PRODUCT;
  const exact = new faiss.IndexFlatIP(d);
  exact.addSync(base);
  const filters = SHARES.map((share) => ({ share, ...allowedIds(n, share, Math.round(share * 1e4)) }));
  // A second filter of each share: alternated with the first, every call brings a new filter.
  const others = SHARES.map((share) => allowedIds(n, share, Math.round(share * 1e4) + 1).bitmap);
  const truths = filters.map(({ bitmap }) => exact.searchSync(queries, K, { filter: bitmap }).labels);
  exact.dispose();
  const out = { n, d, nq: NQ, k: K, rounds, indexes: [] };
  for (const { kind, params } of kinds(n)) {
    log(`filtered search: ${kind}, n=${n}, d=${d}`);
    const index = faiss.indexFactory(d, kind, metric);
    if (!index.isTrained) index.trainSync(base.subarray(0, Math.min(n, 100_000) * d));
    index.addSync(base);
    // Seconds for NQ queries, one call each (options taken in turn from a list) or one call for all.
    const time = (single, options) => {
      const t0 = process.hrtime.bigint();
      const turns = [options].flat();
      if (single) for (let q = 0; q < NQ; q++) index.searchSync(queries.subarray(q * d, (q + 1) * d), K, turns[q % turns.length]);
      else index.searchSync(queries, K, options);
      return Number(process.hrtime.bigint() - t0) / 1e9;
    };
    const rows = [];
    for (const [f, { share, ids, bitmap, count }] of filters.entries()) {
      const auto = index.searchSync(queries, K, { ...params, filter: bitmap });
      const prepared = new faiss.IdFilter(ids);
      const preparedTurns = [new faiss.IdFilter(bitmap), new faiss.IdFilter(others[f])];
      for (const single of [true, false]) {
        const shapes = {
          unfiltered: params,
          exact: { ...params, filter: bitmap, plan: 'exact' },
          auto: { ...params, filter: bitmap },
          ids: { ...params, filter: ids },
          prepared: { ...params, filter: prepared },
        };
        if (single) {
          shapes.fresh = [{ ...params, filter: bitmap }, { ...params, filter: others[f] }];
          shapes.freshExact = [{ ...params, filter: bitmap, plan: 'exact' }, { ...params, filter: others[f], plan: 'exact' }];
          shapes.preparedTurns = preparedTurns.map((filter) => ({ ...params, filter }));
        }
        const seconds = Object.fromEntries(Object.keys(shapes).map((s) => [s, []]));
        for (const options of Object.values(shapes)) time(single, options); // warm-up
        for (let r = 0; r < rounds; r++) for (const [s, options] of Object.entries(shapes)) seconds[s].push(time(single, options));
        const t = Object.fromEntries(Object.entries(seconds).map(([s, v]) => [s, median(v)]));
        rows.push({
          share,
          allowed: count,
          call: single ? 'single' : 'batch',
          plan: auto.plan,
          recall: recallAtK(auto.labels, truths[f], K),
          qps: NQ / t.auto,
          vsCheaper: t.auto / Math.min(t.unfiltered, t.exact),
          vsUnfiltered: t.auto / t.unfiltered,
          vsExact: t.auto / t.exact,
          idsVsBitmap: t.ids / t.auto,
          preparedVsBitmap: t.prepared / t.auto,
          freshVsCheaper: single ? t.fresh / Math.min(t.unfiltered, t.freshExact) : undefined,
          preparedTurnsVsCheaper: single ? t.preparedTurns / Math.min(t.unfiltered, t.freshExact) : undefined,
        });
      }
    }
    out.indexes.push({ kind, params, rows });
    index.dispose();
  }
  return out;
}

/** Markdown table of a filteredSearch result. */
export function filteredTable(result) {
  const x = (ratio) => (ratio === undefined ? '' : `${ratio.toFixed(2)}x`);
  const lines = [
    `Filtered search by plan, n=${result.n}, d=${result.d}, k=${result.k}, ${result.nq} queries one at a time (single) or in one call (batch), a random bitmap filter, medians of ${result.rounds} alternating rounds: the plan chosen, its recall@10 against exact search over the allowed ids, queries per second, and its time against the cheaper of (unfiltered, exact plan); the same filter as a set of ids, and as an IdFilter made once of that set, against the bitmap; one query a call with two filters of that share in turn, so that every call brings a new one, and two IdFilters of them in turn, against the cheaper of (unfiltered, exact plan with the same new filters) (single)`,
    '',
    '| index | allowed | call | plan | recall@10 | queries/s | vs cheaper | vs unfiltered | vs exact | set / bitmap | IdFilter(set) / bitmap | new filter each call, vs cheaper | two IdFilters in turn, vs cheaper |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const ix of result.indexes) {
    const params = Object.entries(ix.params).map(([k, v]) => `${k} ${v}`).join(', ');
    for (const r of ix.rows) {
      lines.push(
        `| ${ix.kind}${params ? ` ${params}` : ''} | ${r.share * 100}% | ${r.call} | ${r.plan} | ${r.recall.toFixed(3)} | ${Math.round(r.qps)} | ${r.vsCheaper.toFixed(2)}x | ${r.vsUnfiltered.toFixed(2)}x | ${r.vsExact.toFixed(2)}x | ${r.idsVsBitmap.toFixed(2)}x | ${r.preparedVsBitmap.toFixed(2)}x | ${x(r.freshVsCheaper)} | ${x(r.preparedTurnsVsCheaper)} |`,
      );
    }
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
  const result = await filteredSearch({ n: arg('n', 100_000), d: arg('d', 128), rounds: arg('rounds', 5), log: (m) => process.stderr.write(`${m}\n`) });
  console.log(filteredTable(result));
}

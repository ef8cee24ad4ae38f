#!/usr/bin/env node
// The calibration of filtered IVF's cost model (native/filtered_search.cc: kListCost, kTestCost,
// kSelectorTestCost, in units of one code scored), from one query a call on IVF1024,SQ8 (nprobe 16):
// - scoring: the exact plan with a filter listed before (the same bitmap every call) at 5% and
//   20% allowed; the time's slope over the allowed codes is one code's scoring;
// - listing: the exact plan with a new bitmap every call (two in turn) against the same bitmap,
//   at 1% and 5%: the slope of the difference over the allowed ids is one id's listing (what is
//   left, paid once a call, is mostly the new filter's codes coming from memory, which every plan
//   pays);
// - testing: the plan chosen with a new bitmap every call, where it tests the ids of the lists it
//   visits (20%, 50% allowed), against the walk over the listed codes of the same bitmap: the
//   difference over the ids visited (about nprobe x ntotal / nlist / share) is one inline test;
//   the complement bitmap inverted ({ bitmap, not: true }, never listed) gives a test through
//   FAISS's selector (a set's hash lookup costs more again).
//   node scripts/bench/filtered-ivf.mjs [--n=100000] [--d=128] [--rounds=7]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { median } from './paired.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const [n, d, rounds, nq, K, NLIST, NPROBE] = [arg('n', 100_000), arg('d', 128), arg('rounds', 7), 100, 10, 1024, 16];
const rnd = mulberry32(21);
const centres = Float32Array.from({ length: 1000 * d }, () => rnd() * 2 - 1);
const base = clustered(n, d, 22, centres);
const queries = clustered(nq, d, 23, centres);
const index = faiss.indexFactory(d, `IVF${NLIST},SQ8`, faiss.METRIC_INNER_PRODUCT);
index.trainSync(base);
index.addSync(base);
const visitedPerQuery = (share) => Math.min(n, (NPROBE * n) / NLIST / share);

/** Two random filters allowing `share` of the ids: bitmaps, and the same as inverted complements. */
function filters(share) {
  return [1, 2].map((seed) => {
    const pick = mulberry32(Math.round(share * 1e4) + seed);
    const bitmap = new Uint8Array(Math.ceil(n / 8));
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (pick() < share) {
        bitmap[i >> 3] |= 1 << (i & 7);
        count++;
      }
    }
    return { bitmap, inverse: { bitmap: bitmap.map((byte) => ~byte & 0xff), not: true }, count };
  });
}

/** Median microseconds per query of each shape (options taken in turn), in alternating rounds. */
function measure(shapes) {
  const us = Object.fromEntries(Object.keys(shapes).map((s) => [s, []]));
  const pass = (turns) => {
    const t0 = process.hrtime.bigint();
    for (let q = 0; q < nq; q++) index.searchSync(queries.subarray(q * d, (q + 1) * d), K, turns[q % turns.length]);
    return Number(process.hrtime.bigint() - t0) / 1e3 / nq;
  };
  for (const turns of Object.values(shapes)) pass(turns); // warm-up
  for (let r = 0; r < rounds; r++) for (const [s, turns] of Object.entries(shapes)) us[s].push(pass(turns));
  return Object.fromEntries(Object.entries(us).map(([s, v]) => [s, median(v)]));
}

const p = { nprobe: NPROBE };
// Scoring: the exact plan over a listed filter at 5% and 20% allowed.
const [low, high] = [filters(0.05)[0], filters(0.2)[0]];
const scoring = measure({ low: [{ ...p, filter: low.bitmap, plan: 'exact' }], high: [{ ...p, filter: high.bitmap, plan: 'exact' }] });
const score = (scoring.high - scoring.low) / (high.count - low.count);
const rows = [{ measured: 'scoring a code', share: '5-20%', 'us per query': `${scoring.low.toFixed(1)}-${scoring.high.toFixed(1)}`, 'ns each': +(score * 1e3).toFixed(1), 'in codes scored': 1 }];
const listing = [];
for (const share of [0.01, 0.05]) {
  const [a, b] = filters(share);
  const t = measure({ same: [{ ...p, filter: a.bitmap, plan: 'exact' }], fresh: [{ ...p, filter: a.bitmap, plan: 'exact' }, { ...p, filter: b.bitmap, plan: 'exact' }] });
  listing.push({ share, count: a.count, extra: t.fresh - t.same, t });
}
const list = (listing[1].extra - listing[0].extra) / (listing[1].count - listing[0].count);
for (const { share, extra, t } of listing) {
  rows.push({ measured: 'a new filter, listed', share: `${share * 100}%`, 'us per query': `${t.same.toFixed(1)} -> ${t.fresh.toFixed(1)}`, 'ns each': '', 'in codes scored': '' });
}
rows.push({ measured: 'listing an id (slope)', share: '1-5%', 'us per query': `+${(listing[0].extra - list * listing[0].count).toFixed(1)} a call`, 'ns each': +(list * 1e3).toFixed(1), 'in codes scored': +(list / score).toFixed(3) });
const tests = [];
const selectorTests = [];
for (const share of [0.2, 0.5]) {
  const [a, b] = filters(share);
  const t = measure({
    same: [{ ...p, filter: a.bitmap }],
    fresh: [{ ...p, filter: a.bitmap }, { ...p, filter: b.bitmap }],
    inverse: [{ ...p, filter: a.inverse }, { ...p, filter: b.inverse }],
  });
  const visited = visitedPerQuery(share);
  const inline = (t.fresh - t.same) / visited;
  const selector = (t.inverse - t.same) / visited;
  tests.push(inline / score);
  selectorTests.push(selector / score);
  rows.push({ measured: 'testing an id inline', share: `${share * 100}%`, 'us per query': `${t.same.toFixed(1)} -> ${t.fresh.toFixed(1)}`, 'ns each': +(inline * 1e3).toFixed(1), 'in codes scored': +(inline / score).toFixed(3) });
  rows.push({ measured: 'testing through the selector', share: `${share * 100}%`, 'us per query': `${t.same.toFixed(1)} -> ${t.inverse.toFixed(1)}`, 'ns each': +(selector * 1e3).toFixed(1), 'in codes scored': +(selector / score).toFixed(3) });
}
console.log(`IVF${NLIST},SQ8 nprobe ${NPROBE}, n=${n}, d=${d}, inner product, ${nq} queries one a call, medians of ${rounds} alternating rounds`);
console.table(rows);
const mean = (v) => v.reduce((x, y) => x + y, 0) / v.length;
console.log(`kListCost ${(list / score).toFixed(3)}, kTestCost ${mean(tests).toFixed(3)}, kSelectorTestCost ${mean(selectorTests).toFixed(3)} (in codes scored)`);

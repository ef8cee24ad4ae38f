#!/usr/bin/env node
// The binding's IVF-SQ scan (native/ivf_sq_scan.h: FAISS's arithmetic, four codes at a time)
// against FAISS's own, in the same process on the same index: FAISS's is reached by a maxCodes
// no list reaches, which leaves its search unchanged and makes the binding hand it over. Per
// quantizer and d: a batch of 500 queries and one query at a time, IVF256 at nprobe 16 (or as given), n
// clustered vectors, inner product; the ratio is the median over alternating rounds of FAISS's
// time / ours (above 1: ours is faster). Results are checked identical first.
//   node scripts/bench/ivf-sq-scan.mjs [--rounds=9] [--n=60000] [--dims=128,256,768] [--qtypes=QT_8bit,QT_4bit,QT_fp16]
//     [--nlist=256] [--nprobe=16]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { median } from './paired.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { native } = require(path.join(root, 'dist', 'native'));
const { clustered, mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const rounds = Number(arg('rounds', 9));
const N = Number(arg('n', 60000));
const dims = arg('dims', '128,256,768').split(',').map(Number);
const qtypes = arg('qtypes', 'QT_8bit,QT_4bit,QT_fp16').split(',');
const NLIST = Number(arg('nlist', 256));
const NPROBE = Number(arg('nprobe', 16));
const BATCH = 500;
const SINGLES = 50;
const K = 10;
const OURS = { nprobe: NPROBE };
const FAISS = { nprobe: NPROBE, maxCodes: Number.MAX_SAFE_INTEGER };

function same(a, b) {
  return a.labels.every((l, i) => l === b.labels[i]) && a.distances.every((v, i) => Object.is(v, b.distances[i]));
}

const ms = (fn) => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

console.log(`FAISS ${faiss.faissVersion} (${native.compileOptions.trim()}), ${faiss.getNumThreads()} threads; IVF${NLIST} at nprobe ${NPROBE}, ${N} clustered vectors, inner product, k ${K}`);
const rows = [];
for (const d of dims) {
  const rnd = mulberry32(7);
  const centres = Float32Array.from({ length: (N / 100) * d }, () => rnd() * 2 - 1);
  const base = clustered(N, d, 11, centres);
  const queries = clustered(BATCH, d, 12, centres);
  for (const qtype of qtypes) {
    const ivf = new faiss.IndexIVFScalarQuantizer(d, NLIST, qtype, faiss.METRIC_INNER_PRODUCT);
    ivf.trainSync(base.subarray(0, Math.min(N, 40 * NLIST) * d));
    ivf.addSync(base);
    const before = native.ivfSqScanners();
    const ours = ivf.searchSync(queries, K, OURS);
    const replaced = native.ivfSqScanners() > before;
    if (!same(ours, ivf.searchSync(queries, K, FAISS))) throw new Error(`${qtype} d=${d}: results differ from FAISS's own scan`);
    const singles = (options) => () => {
      for (let i = 0; i < SINGLES; i++) ivf.searchSync(queries.subarray(i * d, (i + 1) * d), K, options);
    };
    const batch = { ours: [], faiss: [] };
    const single = { ours: [], faiss: [] };
    for (let r = 0; r < rounds; r++) {
      // Alternate which side goes first, so that neither always follows the other.
      const order = r % 2 ? ['faiss', 'ours'] : ['ours', 'faiss'];
      for (const side of order) batch[side].push(ms(() => ivf.searchSync(queries, K, side === 'ours' ? OURS : FAISS)));
      for (const side of order) single[side].push(ms(singles(side === 'ours' ? OURS : FAISS)) / SINGLES);
    }
    const ratio = (t) => median(t.faiss.map((f, r) => f / t.ours[r]));
    rows.push({
      d, qtype, replaced,
      'batch ms (ours)': +median(batch.ours).toFixed(2),
      'batch FAISS / ours': +ratio(batch).toFixed(2),
      'one query us (ours)': Math.round(median(single.ours) * 1e3),
      'one query FAISS / ours': +ratio(single).toFixed(2),
    });
    console.log(JSON.stringify(rows.at(-1)));
    ivf.dispose();
  }
}
console.table(rows);

#!/usr/bin/env node
// The memory / speed / accuracy trade-off of each index family (issue 27's table): bytes a
// vector (the serialized index over n), build time (train and add), recall@10 against exact
// search, and queries per second one at a time and in one batch (medians of alternating
// rounds), on the SIFT sample (test/data, 4,500 x 128, L2, 500 queries) or with --set=1m on 1M
// synthetic vectors of d = 128 with the intrinsic dimension of real embeddings (SETS below).
// Writes a Markdown table, and with --plot=FILE a Vega-Lite SVG of recall against batch
// throughput, the point's size its bytes a vector.
//   node scripts/bench/tradeoffs.mjs [--set=sift|1m] [--rounds=5] [--plot=tradeoffs.svg]
// Binary rows: scripts/bench/binary-rescore.mjs's recipe (bits above each dimension's mean,
// Hamming first pass, exact or 8-bit re-rank).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { BinaryRescore } from './binary-rescore.mjs';
import { median } from './paired.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { latentClustered, readSift, recallAtK } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const K = 10;
const SINGLE = 100; // one-query calls a round

/**
 * [family, how it is made (d), search options], with IVF layers of `nlist` lists searched at
 * `nprobe`.
 */
function families(nlist, nprobe) {
  const ivf = `IVF${nlist}`;
  return [
    ['Flat', (d) => new faiss.IndexFlatL2(d), {}],
    ['SQ8', (d) => new faiss.IndexScalarQuantizer(d, 'QT_8bit', faiss.METRIC_L2), {}],
    ['SQ4', (d) => new faiss.IndexScalarQuantizer(d, 'QT_4bit', faiss.METRIC_L2), {}],
    ['SQfp16', (d) => new faiss.IndexScalarQuantizer(d, 'QT_fp16', faiss.METRIC_L2), {}],
    [`${ivf},SQ8 nprobe ${nprobe}`, (d) => new faiss.IndexIVFScalarQuantizer(new faiss.IndexFlatL2(d), d, nlist, 'QT_8bit', faiss.METRIC_L2), { nprobe }],
    [`${ivf},PQ16x8 nprobe ${nprobe}`, (d) => new faiss.IndexIVFPQ(new faiss.IndexFlatL2(d), d, nlist, 16, 8, faiss.METRIC_L2), { nprobe }],
    [`${ivf},PQ32x4fs nprobe ${nprobe} (FastScan)`, (d) => faiss.indexFactory(d, `${ivf},PQ32x4fs`, faiss.METRIC_L2), { nprobe }],
    [`${ivf},RaBitQ qb 4 nprobe ${nprobe}`, (d) => new faiss.IndexIVFRaBitQ(new faiss.IndexFlatL2(d), d, nlist, faiss.METRIC_L2), { nprobe, qb: 4 }],
    [
      `RefineFlat(${ivf},RaBitQ) kFactor 10`,
      (d) => new faiss.IndexRefineFlat(new faiss.IndexIVFRaBitQ(new faiss.IndexFlatL2(d), d, nlist, faiss.METRIC_L2)),
      { nprobe, qb: 4, kFactor: 10 },
    ],
    ['HNSW32 efSearch 64', (d) => new faiss.IndexHNSWFlat(d, 32, faiss.METRIC_L2), { efSearch: 64 }],
    ['binary (128 bits), SQ8 re-rank of k x 20', (d) => new BinaryRescore(d, new faiss.IndexScalarQuantizer(d, 'QT_8bit', faiss.METRIC_L2), 20), {}],
    ['binary (128 bits), Flat re-rank of k x 50', (d) => new BinaryRescore(d, new faiss.IndexFlatL2(d), 50), {}],
  ];
}

/**
 * The sets: the SIFT sample (IVF64 at nprobe 8), and 1M vectors of d = 128 with the low
 * intrinsic dimension of real embeddings (latentClustered: 24 latent dimensions), 500 queries,
 * IVF4096 at nprobe 64, IVF trained on 200k of them (FAISS samples 256 a centroid anyway).
 */
const SETS = {
  sift: () => ({ name: 'SIFT', ...readSift(), nlist: 64, nprobe: 8 }),
  '1m': () => {
    const d = 128;
    return { name: 'latent-24 clustered', d, base: latentClustered(1_000_000, d, 21), queries: latentClustered(500, d, 22), nq: 500, nlist: 4096, nprobe: 64, trainN: 200_000 };
  },
};

/** Each family's row on a set (SETS). */
export function tradeoffs({ rounds = 5, set = 'sift' } = {}) {
  const { name, d, base, queries, nq, nlist, nprobe, trainN } = SETS[set]();
  const n = base.length / d;
  const exact = new faiss.IndexFlatL2(d);
  exact.addSync(base);
  const truth = exact.searchSync(queries, K).labels;
  exact.dispose();
  const training = trainN ? base.subarray(0, trainN * d) : base;
  const rows = [];
  for (const [family, make, options] of families(nlist, nprobe)) {
    const index = make(d);
    const t0 = process.hrtime.bigint();
    if (!index.isTrained) index.trainSync(training);
    index.addSync(base);
    const buildSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const recall = recallAtK(index.searchSync(queries, K, options).labels, truth, K);
    const single = [];
    const batch = [];
    for (let r = 0; r < rounds; r++) {
      let t = process.hrtime.bigint();
      for (let q = 0; q < SINGLE; q++) index.searchSync(queries.subarray(q * d, (q + 1) * d), K, options);
      single.push(SINGLE / (Number(process.hrtime.bigint() - t) / 1e9));
      t = process.hrtime.bigint();
      index.searchSync(queries, K, options);
      batch.push(nq / (Number(process.hrtime.bigint() - t) / 1e9));
    }
    rows.push({ family, bytes: index.serializeSync().length / n, buildSeconds, recall, single: median(single), batch: median(batch) });
    index.dispose();
  }
  return { name, n, d, nq, k: K, rounds, rows };
}

/** Markdown table of a tradeoffs result. */
export function tradeoffsTable(result) {
  return [
    `${result.name ?? 'SIFT'} ${result.n} x ${result.d}, L2, ${result.nq} queries, k=${result.k}; medians of ${result.rounds} rounds (${SINGLE} one-query calls, one batch of ${result.nq})`,
    '',
    '| index | bytes a vector | build s | recall@10 | queries/s, one at a time | queries/s, batch |',
    '|---|---|---|---|---|---|',
    ...result.rows.map(
      (r) => `| ${r.family} | ${r.bytes.toFixed(1)} | ${r.buildSeconds.toFixed(2)} | ${r.recall.toFixed(3)} | ${Math.round(r.single)} | ${Math.round(r.batch)} |`,
    ),
  ].join('\n');
}

/** Vega-Lite SVG of recall against batch throughput, the point's size its bytes a vector. */
export async function tradeoffsPlot(result) {
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${result.name ?? 'SIFT'} ${result.n} x ${result.d}: recall@10 against batch throughput (size: bytes a vector)`,
    width: 560,
    height: 360,
    background: 'white',
    data: { values: result.rows },
    mark: { type: 'point', filled: true, opacity: 0.7 },
    encoding: {
      x: { field: 'recall', type: 'quantitative', scale: { zero: false }, title: 'recall@10 against exact search' },
      y: { field: 'batch', type: 'quantitative', scale: { type: 'log' }, title: 'queries per second, batch of 500' },
      size: { field: 'bytes', type: 'quantitative', title: 'bytes a vector' },
      color: { field: 'family', type: 'nominal', title: 'index' },
    },
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  return `${await view.toSVG()}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const option = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
  const result = tradeoffs({ rounds: Number(option('rounds', 5)), set: option('set', 'sift') });
  console.log(tradeoffsTable(result));
  const plot = option('plot', undefined);
  if (plot) {
    fs.writeFileSync(plot, await tradeoffsPlot(result));
    console.log(`\nplot: ${plot}`);
  }
}

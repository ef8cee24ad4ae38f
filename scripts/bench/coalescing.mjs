#!/usr/bin/env node
// 32 concurrent clients, each awaiting one single-query search after another, on a flat index
// of 100k x 768 clustered embeddings (inner product, k = 10), against the same queries called
// one after another with searchSync: queries per second and latency with coalescing on, with it
// off (one FAISS call each), and sequentially; alternating rounds, medians. Checks first that
// coalesced results equal separate calls.
//   node scripts/bench/coalescing.mjs [--per-client=15] [--rounds=3]
// bench.mjs runs it too (coalescing).
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './paired.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const CLIENTS = 32;
const K = 10;
const now = () => process.hrtime.bigint();
const us = (t0) => Number(now() - t0) / 1e3;
const pct = (v, p) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.round(p * (v.length - 1)))];

/** { clients, n, d, on, off, sync }: each { qps, p50_us, p99_us }, medians over rounds. */
export async function coalescing({ perClient = 15, rounds = 3 } = {}) {
  const d = 768;
  const rnd = mulberry32(7);
  const centres = Float32Array.from({ length: 1000 * d }, () => rnd() * 2 - 1);
  const index = new faiss.IndexFlatIP(d);
  index.addSync(clustered(100_000, d, 13, centres));
  const queries = clustered(1000, d, 14, centres);
  const nq = queries.length / d;
  const query = (q) => queries.subarray(q * d, (q + 1) * d);
  const total = CLIENTS * perClient;

  const together = await Promise.all(Array.from({ length: CLIENTS }, (_, q) => index.search(query(q), K)));
  together.forEach((r, q) => {
    const alone = index.searchSync(query(q), K);
    if (!r.labels.every((l, i) => l === alone.labels[i]) || !r.distances.every((v, i) => Object.is(v, alone.distances[i]))) {
      throw new Error(`query ${q}: a coalesced search differs from a call of its own`);
    }
  });

  const concurrent = async (on) => {
    index.coalesceSearches = on;
    const lat = [];
    const t0 = now();
    await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = 0; i < perClient; i++) {
        const t = now();
        await index.search(query((c * perClient + i) % nq), K);
        lat.push(us(t));
      }
    }));
    return { qps: lat.length / (us(t0) / 1e6), p50_us: median(lat), p99_us: pct(lat, 0.99) };
  };
  const sequential = async () => {
    const lat = [];
    const t0 = now();
    for (let i = 0; i < total; i++) {
      const t = now();
      index.searchSync(query(i % nq), K);
      lat.push(us(t));
    }
    return { qps: lat.length / (us(t0) / 1e6), p50_us: median(lat), p99_us: pct(lat, 0.99) };
  };
  const modes = { on: () => concurrent(true), off: () => concurrent(false), sync: sequential };
  await modes.on(); // warm-up
  const runs = { on: [], off: [], sync: [] };
  for (let r = 0; r < rounds; r++) {
    const order = Object.keys(modes);
    for (let i = 0; i < order.length; i++) {
      const mode = order[(i + r) % order.length];
      runs[mode].push(await modes[mode]());
    }
  }
  index.coalesceSearches = true;
  index.dispose();
  const med = (list) => ({ qps: median(list.map((x) => x.qps)), p50_us: median(list.map((x) => x.p50_us)), p99_us: median(list.map((x) => x.p99_us)) });
  return { clients: CLIENTS, n: 100_000, d, on: med(runs.on), off: med(runs.off), sync: med(runs.sync) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
  const result = await coalescing({ perClient: Number(arg('per-client', 15)), rounds: Number(arg('rounds', 3)) });
  const row = (name, m) => ({ mode: name, qps: Math.round(m.qps), 'p50 ms': +(m.p50_us / 1e3).toFixed(1), 'p99 ms': +(m.p99_us / 1e3).toFixed(1) });
  console.log(`flat ${result.n / 1000}k x ${result.d}, ${result.clients} clients (FAISS ${faiss.faissVersion}, ${faiss.getNumThreads()} threads)`);
  console.table([row('coalesced', result.on), row('one call each', result.off), row('searchSync one after another', result.sync)]);
  console.log(`coalesced / sequential searchSync: ${(result.on.qps / result.sync.qps).toFixed(2)}x; one call each / sequential: ${(result.off.qps / result.sync.qps).toFixed(2)}x`);
}

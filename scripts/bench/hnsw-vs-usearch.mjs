#!/usr/bin/env node
// HNSW build time against usearch (npm `usearch`, installed on first use into
// ~/.cache/faiss-native/usearch-<version>), inner product and L2, on the same clustered,
// normalised vectors: M = 32 (usearch's connectivity), efConstruction 200 (expansion_add),
// every thread on both sides. Alternating rounds; the ratio is the median over rounds of our
// time / usearch's (above 1: usearch builds faster). Recall@10 at efSearch 64 against exact
// search shows the graphs are comparable.
//   node scripts/bench/hnsw-vs-usearch.mjs [--n=100000] [--d=128] [--rounds=2]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { median } from './paired.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32, recallAtK } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const USEARCH = '2.26.2';
const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const N = Number(arg('n', 100_000));
const D = Number(arg('d', 128));
const rounds = Number(arg('rounds', 2));
const M = 32;
const EF_CONSTRUCTION = 200;
const EF_SEARCH = 64;
const K = 10;
const NQ = 1000;

function loadUsearch() {
  const dir = path.join(os.homedir(), '.cache', 'faiss-native', `usearch-${USEARCH}`);
  if (!fs.existsSync(path.join(dir, 'node_modules', 'usearch', 'package.json'))) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), '{"private": true}\n');
    execFileSync('npm', ['install', `usearch@${USEARCH}`, '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: dir, stdio: 'inherit' });
  }
  return createRequire(path.join(dir, 'package.json'))('usearch');
}

const usearch = loadUsearch();
const threads = faiss.getNumThreads();
const rnd = mulberry32(7);
const centres = Float32Array.from({ length: (N / 100) * D }, () => rnd() * 2 - 1);
const base = faiss.normalizeL2(clustered(N, D, 11, centres), D);
const queries = faiss.normalizeL2(clustered(NQ, D, 12, centres), D);
const keys = BigUint64Array.from({ length: N }, (_, i) => BigInt(i));
const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

const sides = {
  faiss: (metric) => {
    const index = new faiss.IndexHNSWFlat(D, M, metric === 'ip' ? faiss.METRIC_INNER_PRODUCT : faiss.METRIC_L2);
    index.efConstruction = EF_CONSTRUCTION;
    const t0 = process.hrtime.bigint();
    index.addSync(base);
    const s = seconds(t0);
    const labels = index.searchSync(queries, K, { efSearch: EF_SEARCH }).labels;
    index.dispose();
    return { s, labels };
  },
  usearch: (metric) => {
    const index = new usearch.Index({
      dimensions: D, metric: metric === 'ip' ? 'ip' : 'l2sq', quantization: 'f32', connectivity: M, expansion_add: EF_CONSTRUCTION, expansion_search: EF_SEARCH,
    });
    const t0 = process.hrtime.bigint();
    index.add(keys, base, threads);
    const s = seconds(t0);
    const labels = BigInt64Array.from(index.search(queries, K, threads).keys, (key) => BigInt.asIntN(64, key));
    return { s, labels };
  },
};

console.log(`HNSW M=${M} efConstruction ${EF_CONSTRUCTION}, ${N} x ${D} clustered normalised vectors, ${threads} threads; FAISS ${faiss.faissVersion}, usearch ${USEARCH}`);
const rows = [];
for (const metric of ['ip', 'l2']) {
  const exact = metric === 'ip' ? new faiss.IndexFlatIP(D) : new faiss.IndexFlatL2(D);
  exact.addSync(base);
  const truth = exact.searchSync(queries, K).labels;
  exact.dispose();
  const times = { faiss: [], usearch: [] };
  const recall = {};
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 ? ['usearch', 'faiss'] : ['faiss', 'usearch']) {
      const { s, labels } = sides[side](metric);
      times[side].push(s);
      recall[side] = recallAtK(labels, truth, K);
      console.log(JSON.stringify({ metric, side, round: r, s: +s.toFixed(2) }));
    }
  }
  rows.push({
    metric,
    'ours s': +median(times.faiss).toFixed(2),
    'usearch s': +median(times.usearch).toFixed(2),
    'ours / usearch': +median(times.faiss.map((t, r) => t / times.usearch[r])).toFixed(2),
    'recall@10 ours': +recall.faiss.toFixed(3),
    'recall@10 usearch': +recall.usearch.toFixed(3),
  });
}
console.table(rows);

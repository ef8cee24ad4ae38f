#!/usr/bin/env node
// tune() against Python's faiss.ParameterSpace().explore on the same index file and ground
// truth: the operating points (recall@10 at each nprobe), the value each picks for a recall
// target, and the time each takes:
//   node scripts/bench/tune-vs-python.mjs [--n=100000] [--d=128] [--recall=0.95]
// IVF1024,Flat over clustered vectors, 500 queries (half between the clusters). `npm run bench` runs it too (50k vectors).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));
const K = 10;

export async function tuneVsPython({ n = 100_000, d = 128, recall = 0.95, log = () => {} } = {}) {
  const { ensurePythonReference } = await import(path.join(root, 'scripts', 'check', 'python-reference.mjs'));
  const python = ensurePythonReference();
  // Clustered vectors, with queries drawn from twice as many centres as the data (half of them
  // fall between clusters), so that recall climbs over several nprobe values.
  const rnd = mulberry32(31);
  const centres = Float32Array.from({ length: 2000 * d }, () => rnd() * 2 - 1);
  const base = clustered(n, d, 32, centres.subarray(0, 1000 * d));
  const queries = clustered(500, d, 33, centres);
  log(`tune vs ParameterSpace.explore: IVF1024,Flat, n=${n}, d=${d}, recall@${K} >= ${recall}`);
  const index = faiss.indexFactory(d, 'IVF1024,Flat', faiss.METRIC_L2);
  index.trainSync(base);
  index.addSync(base);
  const exact = new faiss.IndexFlatL2(d);
  exact.addSync(base);
  const groundTruth = exact.searchSync(queries, K).labels;
  exact.dispose();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-tune-'));
  try {
    const file = (name, data) => {
      const p = path.join(dir, name);
      if (data) fs.writeFileSync(p, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return p;
    };
    index.writeSync(file('index.faiss'));
    const py = spawnSync(python, [path.join(here, 'tune_python.py'), file('index.faiss'), file('q.f32', queries), file('gt.i64', groundTruth), String(d), String(K), String(recall)], { encoding: 'utf8' });
    if (py.status !== 0) throw new Error(`tune_python.py failed:\n${py.stderr}`);
    const pyResult = JSON.parse(py.stdout);
    const t0 = process.hrtime.bigint();
    const mine = await faiss.tune(index, queries, { k: K, recall, groundTruth });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const points = pyResult.points.map((p) => ({ value: p.value, pythonRecall: p.recall, nodeRecall: mine.table.find((m) => m.value === p.value)?.recall }));
    return { n, d, k: K, target: recall, node: { chosen: mine.value, seconds, tried: mine.table.length }, python: { chosen: pyResult.chosen, seconds: pyResult.seconds, tried: pyResult.points.length }, points };
  } finally {
    index.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function tuneTable(r) {
  const f = (x) => (x === undefined ? '-' : x.toFixed(4));
  return [
    `tune() against ParameterSpace.explore (Python faiss-cpu), IVF1024,Flat, n=${r.n}, d=${r.d}, 500 queries, target recall@${r.k} >= ${r.target}:`,
    `chosen nprobe ${r.node.chosen} (Node) / ${r.python.chosen} (Python); time ${r.node.seconds.toFixed(2)} s, ${r.node.tried} values tried / ${r.python.seconds.toFixed(2)} s, ${r.python.tried} values`,
    '',
    '| nprobe | recall@10, Node tune | recall@10, Python explore |',
    '|---|---|---|',
    ...r.points.map((p) => `| ${p.value} | ${f(p.nodeRecall)} | ${f(p.pythonRecall)} |`),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
  const r = await tuneVsPython({ n: arg('n', 100_000), d: arg('d', 128), recall: arg('recall', 0.95), log: (m) => process.stderr.write(`${m}\n`) });
  console.log(tuneTable(r));
}

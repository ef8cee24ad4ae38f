#!/usr/bin/env node
// recommend() against autofaiss 2.18.0 on the same inputs: for each (n, memory) on d = 128,
// autofaiss's first index key (get_optimal_index_keys_v2, the key build_index uses) and its
// size estimate, and ours; autofaiss's key is then measured as recommend measures its own
// (built on the SIFT sample with IVF lists scaled to it, tuned to the same recall@10 target,
// queries per second scaled to n), so their recall and speed compare.
// autofaiss lives in .venv-autofaiss/ (created on first use: it pins numpy 1.x, so pyarrow < 16).
//   node scripts/bench/advisor-vs-autofaiss.mjs [--recall=0.9]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createVenv } from '../check/python-reference.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { measure, rescaled } = require(path.join(root, 'dist', 'advisor.js'));
const { readSift } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const AUTOFAISS = ['autofaiss==2.18.0', 'pyarrow<16'];
const venv = path.join(root, '.venv-autofaiss');
const python = path.join(venv, 'bin', 'python');

function ensureAutofaiss() {
  if (spawnSync(python, ['-c', 'import autofaiss'], { stdio: 'ignore' }).status !== 0) createVenv(venv, AUTOFAISS);
}

/** autofaiss's first key and its size estimate for each scenario. */
function autofaissKeys(scenarios, d) {
  const script = `
import json, sys
from autofaiss.external.optimize import get_optimal_index_keys_v2
from autofaiss.external.metadata import IndexMetadata
out = []
for n, mem in json.loads(sys.argv[1]):
    key = get_optimal_index_keys_v2(n, ${d}, f"{int(mem)}B")[0]
    out.append({"key": key, "bytes": IndexMetadata(key, n, ${d}).estimated_index_size_in_bytes()})
print(json.dumps(out))
`;
  const mems = scenarios.map(({ n, memory }) => [n, memory]);
  const r = spawnSync(python, ['-c', script, JSON.stringify(mems)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`autofaiss failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = Number(process.argv.find((a) => a.startsWith('--recall='))?.split('=')[1] ?? 0.9);
  ensureAutofaiss();
  const { d, base: sample } = readSift();
  const GB = 2 ** 30;
  const scenarios = [
    { n: 100_000, memory: 1 * GB },
    { n: 1_000_000, memory: 1 * GB },
    { n: 1_000_000, memory: 0.25 * GB },
    { n: 1_000_000, memory: 0.05 * GB },
    { n: 10_000_000, memory: 2 * GB },
    { n: 10_000_000, memory: 0.5 * GB },
  ];
  const theirs = autofaissKeys(scenarios, d);
  // The sample as recommend splits it: its last min(200, 10%) are the queries.
  const sampleN = sample.length / d;
  const nq = Math.min(200, Math.floor(sampleN / 10));
  const base = sample.subarray(0, (sampleN - nq) * d);
  const queries = sample.subarray((sampleN - nq) * d);
  const exact = new faiss.IndexFlatL2(d);
  exact.addSync(base);
  const truth = exact.searchSync(queries, 10).labels;
  const mib = (b) => `${Math.round(b / 2 ** 20)} MiB`;
  console.log(`d = ${d} (SIFT sample: ${sampleN - nq} base, ${nq} queries), recall@10 target ${target}; each choice built on the sample and tuned to the target`);
  console.log('');
  console.log('| n | memory | faiss-native recommend | its bytes | recall on sample, QPS at n (estimated) | autofaiss 2.18.0 | its bytes (autofaiss\'s estimate) | recall on sample, QPS at n (estimated) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [i, { n, memory }] of scenarios.entries()) {
    const ours = await faiss.recommend({ n, d, memoryBytes: memory, recall: target, sample });
    const oursRow = ours.candidates.find((c) => c.factory === ours.factory);
    const settings = Object.entries(ours.params).map(([key, value]) => `${key} ${value}`).join(', ');
    const t = theirs[i];
    const m = await measure({ factory: t.key, sampleFactory: rescaled(t.key, sampleN - nq) }, n, d, faiss.METRIC_L2, base, queries, truth, 10, target);
    const parameter = m.parameter ? ` (${m.parameter} ${m.value})` : '';
    console.log(
      `| ${n.toLocaleString('en')} | ${mib(memory)} | ${ours.factory}${settings ? ` (${settings})` : ''} | ${mib(ours.bytes)} | ${oursRow.recall.toFixed(3)}, ${Math.round(oursRow.qps)} | ${t.key}${parameter} | ${mib(t.bytes)} | ${m.recall.toFixed(3)}, ${Math.round(m.qps)} |`,
    );
  }
}

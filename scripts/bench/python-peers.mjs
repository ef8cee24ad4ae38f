#!/usr/bin/env node
// Python time / our time on the same index files, against faiss-cpu 1.12.0 (the same FAISS)
// and the newest faiss-cpu: single-query latency (p50) and batch throughput (nq = 500), flat
// and IVF-SQ8 at nprobe 1, 16 and 64, at d = 128, 256 and 768 (n = 100k clustered embeddings,
// nlist 1024); and flat `add` and k-means training on the same vectors. Each side is a worker
// process holding the same file, measured in paired rounds (paired.mjs); each ratio is the
// median over rounds of the round's ratio. Under 1: Python wins.
//   node scripts/bench/python-peers.mjs [--rounds=15] [--dims=128,256,768] [--n=100000] [--nlist=1024]
// Writes results/bench/peers-<time>/{peers.json,peers.md} and prints the table. bench.mjs runs
// it too (pythonPeers), on fewer vectors and rounds in its quick mode.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pairedRounds, worker } from './paired.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));
const { ensurePythonReference } = await import(path.join(root, 'scripts', 'check', 'python-reference.mjs'));

const NPROBES = [1, 16, 64];
const BATCH = 500;
const SINGLE = 20; // one-query searches a round
const K = 10;
const LATEST = '1.15.1';

/**
 * The comparison: { rows (search), builds (add, train), markdown }. Index files and vectors go
 * to outDir, and are removed as soon as measured.
 */
export async function pythonPeers({ rounds = 15, buildRounds = 5, dims = [128, 256, 768], n: N = 100_000, nlist: NLIST = 1024, outDir, log = () => {} }) {
  const peers = { node: null, 'faiss-cpu 1.12.0': ensurePythonReference(), [`faiss-cpu ${LATEST}`]: ensurePythonReference(LATEST) };
  const workers = Object.fromEntries(Object.entries(peers).map(([side, python]) => [side,
    side === 'node' ? worker(process.execPath, [path.join(here, 'peer-worker.mjs'), root]) : worker(python, [path.join(here, 'python_bench.py'), '--serve'])]));
  const workload = (req) => pairedRounds(workers, req, { rounds });
  const names = Object.keys(peers).slice(1);
  const rows = [];
  const builds = []; // flat add and IVF training, per d
  for (const d of dims) {
    const rnd = mulberry32(7);
    const centres = Float32Array.from({ length: (N / 100) * d }, () => rnd() * 2 - 1);
    log(`d=${d}: ${N} clustered vectors, flat and IVF${NLIST},SQ8`);
    const base = clustered(N, d, 11, centres);
    const queries = path.join(outDir, 'queries.f32');
    fs.writeFileSync(queries, clustered(1000, d, 12, centres));
    const baseFile = path.join(outDir, 'base.f32');
    fs.writeFileSync(baseFile, base);
    for (const req of [{ op: 'add', base: baseFile, d }, { op: 'train', base: baseFile, d, nlist: NLIST }]) {
      builds.push({ d, op: req.op, ...(await pairedRounds(workers, req, { rounds: buildRounds, budgetS: 30 })) });
      log(JSON.stringify(builds.at(-1)));
    }
    fs.rmSync(baseFile);
    const flat = new faiss.IndexFlatIP(d);
    flat.addSync(base);
    const ivf = new faiss.IndexIVFScalarQuantizer(d, NLIST, 'QT_8bit');
    ivf.trainSync(base.subarray(0, 40 * NLIST * d));
    ivf.addSync(base);
    for (const [kind, built, nprobes] of [['flat', flat, [0]], ['IVF-SQ8', ivf, NPROBES]]) {
      const file = path.join(outDir, `${kind}-${d}.faissindex`);
      built.writeSync(file);
      built.dispose();
      for (const w of Object.values(workers)) await w.request({ op: 'load', index: file, queries, d });
      for (const nprobe of nprobes) {
        const single = await workload({ op: 'single', nprobe, k: K, count: SINGLE });
        const batch = await workload({ op: 'batch', nprobe, k: K, nq: BATCH });
        rows.push({ d, kind, nprobe, single, batch });
        log(JSON.stringify(rows.at(-1)));
      }
      fs.rmSync(file);
    }
    fs.rmSync(queries);
  }
  for (const w of Object.values(workers)) w.close();

  const fmt = (x) => x.toFixed(2) + (x < 1 ? ' ⚠' : '');
  const lines = [
    `Python time / our time, median over ${rounds} paired rounds or fewer (n = ${N}, IVF${NLIST},SQ8, k = ${K}; single: p50 of one-query ` +
      `searches; batch: nq = ${BATCH}). Under 1 (⚠): Python wins. \`node scripts/bench/python-peers.mjs\``,
    '',
    `| d | index | nprobe | our single p50 µs | our batch ms | ${names.map((p) => `${p} single | ${p} batch`).join(' | ')} |`,
    `|---|---|---|---|---|${names.map(() => '---|---').join('|')}|`,
    ...rows.map((r) => `| ${r.d} | ${r.kind} | ${r.nprobe || '-'} | ${r.single.us.node.toFixed(0)} | ${(r.batch.us.node / 1e3).toFixed(1)} | ` +
      `${names.map((p) => `${fmt(r.single.ratio[p])} | ${fmt(r.batch.ratio[p])}`).join(' | ')} |`),
    '',
    `Building, Python time / our time: \`add\` of ${N} vectors to an IndexFlatIP, \`train\` of IVF${NLIST},SQ8 (k-means) on them.`,
    '',
    `| d | step | our s | ${names.join(' | ')} |`,
    `|---|---|---|${names.map(() => '---').join('|')}|`,
    ...builds.map((b) => `| ${b.d} | ${b.op} | ${(b.us.node / 1e6).toFixed(2)} | ${names.map((p) => fmt(b.ratio[p])).join(' | ')} |`),
  ];
  return { n: N, nlist: NLIST, rounds, rows, builds, markdown: lines.join('\n') + '\n' };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = path.join(root, 'results', 'bench', `peers-${stamp}`);
  fs.mkdirSync(outDir, { recursive: true });
  const { markdown, ...result } = await pythonPeers({
    rounds: Number(arg('rounds', 15)),
    dims: arg('dims', '128,256,768').split(',').map(Number),
    n: Number(arg('n', 100_000)),
    nlist: Number(arg('nlist', 1024)),
    outDir,
    log: (msg) => process.stderr.write(`peers: ${msg}\n`),
  });
  fs.writeFileSync(path.join(outDir, 'peers.json'), JSON.stringify(result, null, 1));
  fs.writeFileSync(path.join(outDir, 'peers.md'), markdown);
  console.log(markdown);
  process.stderr.write(`peers: wrote ${path.relative(root, outDir)}/{peers.json,peers.md}\n`);
}

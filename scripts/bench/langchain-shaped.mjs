// The "LangChain-shaped" workload of `npm run bench`: what FaissStore does with faiss-node's API
// (one add(number[]) per vector, then one search(number[], 4) per question) at d = 1,536 (the
// OpenAI embedding size), run by three implementations in child processes, alternating:
//   compat      faiss-native/faiss-node (dist/faiss-node.js), what LangChain gets after the one-line setup
//   native      faiss-native's own API on the same vectors as Float32Arrays (addSync, searchSync)
//   faiss-node  faiss-node 0.5.1 itself, built by faiss-node-peer.mjs against Debian's FAISS 1.7.3
// Each child prints its timings and the labels of the first questions, which must agree.
//   node scripts/bench/langchain-shaped.mjs [--rounds N]   prints the JSON summary
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const require = createRequire(import.meta.url);
const SHAPE = { d: 1536, nAdd: 10_000, nSearch: 1_000, k: 4 };
const CHECKED_QUERIES = 50;

const now = () => process.hrtime.bigint();
const usSince = (t0) => Number(now() - t0) / 1e3;
const pct = (v, p) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.round(p * (v.length - 1)))];
const median = (v) => pct(v, 0.5);

/** Unit-length embeddings around shared topics (as number[] rows, the form LangChain passes). */
function embeddings(n, d, seed) {
  const { mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));
  const topics = mulberry32(1);
  const centres = Array.from({ length: 50 * d }, () => topics() * 2 - 1);
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const c = Math.floor(rnd() * 50) * d;
    const v = Array.from({ length: d }, (_, j) => centres[c + j] + 0.5 * (rnd() * 2 - 1));
    const norm = Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
    return v.map((x) => x / norm);
  });
}

/** One implementation's run: add every vector one call at a time, then search one question at a time. */
function child(impl, faissNodePackage) {
  const { d, nAdd, nSearch, k } = SHAPE;
  const vectors = embeddings(nAdd, d, 2);
  const questions = embeddings(nSearch, d, 3);
  let add;
  let search;
  if (impl === 'native') {
    const faiss = require(path.join(root, 'dist'));
    const index = new faiss.IndexFlatL2(d);
    const rows = vectors.map((v) => Float32Array.from(v)); // a native caller holds Float32Arrays
    const qs = questions.map((q) => Float32Array.from(q));
    add = (i) => index.addSync(rows[i]);
    search = (i) => Array.from(index.searchSync(qs[i], k).labels, Number);
  } else {
    const { IndexFlatL2 } = require(impl === 'compat' ? path.join(root, 'dist', 'faiss-node.js') : faissNodePackage);
    const index = new IndexFlatL2(d);
    add = (i) => index.add(vectors[i]);
    search = (i) => index.search(questions[i], k).labels;
  }
  let t0 = now();
  for (let i = 0; i < nAdd; i++) add(i);
  const addS = usSince(t0) / 1e6;
  const latencies = [];
  const labels = [];
  for (let i = 0; i < nSearch; i++) {
    t0 = now();
    const found = search(i);
    latencies.push(usSince(t0));
    if (i < CHECKED_QUERIES) labels.push(found);
  }
  return { addS, addUsPerCall: (addS * 1e6) / nAdd, searchP50Us: median(latencies), searchP99Us: pct(latencies, 0.99), searchQps: nSearch / (latencies.reduce((a, b) => a + b, 0) / 1e6), labels };
}

/** faiss-node 0.5.1's package folder, or why it cannot be built here. */
async function faissNodePeer() {
  try {
    const { buildFaissNodePeer } = await import(path.join(here, 'faiss-node-peer.mjs'));
    return { pkg: buildFaissNodePeer() };
  } catch (err) {
    return { missing: err.message };
  }
}

/**
 * Runs every implementation `rounds` times in alternating order and reduces each figure to
 * its median; `ratios` are compat / native and faiss-node / compat times.
 */
export async function langchainShaped({ rounds = 3, log = () => {} } = {}) {
  const { pkg, missing: faissNodeMissing = null } = await faissNodePeer();
  if (faissNodeMissing) log(`faiss-node 0.5.1 is not compared: ${faissNodeMissing}`);
  const impls = ['compat', 'native', ...(faissNodeMissing ? [] : ['faiss-node'])];
  const runs = Object.fromEntries(impls.map((i) => [i, []]));
  for (let r = 0; r < rounds; r++) {
    for (const impl of r % 2 ? [...impls].reverse() : impls) {
      log(`LangChain-shaped: ${impl}, round ${r + 1} of ${rounds}`);
      const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', impl, pkg ?? ''], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (out.status !== 0) throw new Error(`LangChain-shaped ${impl}: ${out.stderr}`);
      runs[impl].push(JSON.parse(out.stdout));
    }
  }
  const summary = {};
  for (const impl of impls) {
    const keys = ['addS', 'addUsPerCall', 'searchP50Us', 'searchP99Us', 'searchQps'];
    summary[impl] = Object.fromEntries(keys.map((key) => [key, median(runs[impl].map((run) => run[key]))]));
    // Same data, exact search: every implementation must find the same neighbours.
    summary[impl].labelsAgree = JSON.stringify(runs[impl][0].labels) === JSON.stringify(runs.native[0].labels);
  }
  const ratio = (a, b, key) => summary[a] && summary[b] && summary[a][key] / summary[b][key];
  return {
    ...SHAPE,
    rounds,
    faissNodeMissing,
    impls: summary,
    ratios: {
      compatOverNativeSearchP50: ratio('compat', 'native', 'searchP50Us'),
      compatOverNativeAdd: ratio('compat', 'native', 'addS'),
      faissNodeOverCompatSearchP50: ratio('faiss-node', 'compat', 'searchP50Us'),
      faissNodeOverCompatAdd: ratio('faiss-node', 'compat', 'addS'),
    },
  };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const at = process.argv.indexOf('--child');
  if (at > 0) {
    console.log(JSON.stringify(child(process.argv[at + 1], process.argv[at + 2])));
  } else {
    const roundsAt = process.argv.indexOf('--rounds');
    const result = await langchainShaped({ rounds: roundsAt > 0 ? Number(process.argv[roundsAt + 1]) : 3, log: (m) => process.stderr.write(`bench: ${m}\n`) });
    console.log(JSON.stringify(result, null, 1));
  }
}

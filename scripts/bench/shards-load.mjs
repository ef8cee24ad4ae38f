#!/usr/bin/env node
// Scatter-gather over HTTP, loaded: 300k x 128 synthetic vectors in IVF1024,Flat built as 3
// shards apart (one trained index, each shard its third with global ids), served by 3
// shard-server.mjs processes behind router.mjs on 127.0.0.1; and the same vectors in one index
// behind one shard-server.mjs. First the router's answers are checked against the one index
// (500 queries, one request each and one batch); then autocannon loads each setup for a bounded
// time (one query a request, k = 10, nprobe 32) and reports throughput, latency and errors.
// On one machine the shards share its cores: this measures the router's cost and correctness
// under load, not what more machines would add.
//   node scripts/bench/shards-load.mjs [--seconds=10] [--connections=8]
// Also part of `npm run bench` (60k vectors, 3 s a setup; --full: as here).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { decodeResult } from '../examples/router.mjs';
import { bodyOf } from '../examples/shard-server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { latentClustered } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const D = 128;
const SHARDS = 3;
const K = 10;
const NPROBE = 32;
const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const log = (msg) => process.stderr.write(`shards-load: ${msg}\n`);

/** Starts a script that prints its port; resolves to { child, url }. */
function start(script, args) {
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'examples', script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (port) => resolve({ child, url: `http://127.0.0.1:${String(port).trim()}` }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** One POST /search; resolves to the decoded result. */
function search(url, queries, k) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/search?k=${k}&nprobe=${NPROBE}`, { method: 'POST' }, async (res) => {
      const body = await bodyOf(res);
      if (res.statusCode !== 200) return reject(new Error(`${res.statusCode} ${body}`));
      resolve(decodeResult(body, Number(res.headers['x-nq']), k));
    });
    req.on('error', reject);
    req.end(Buffer.from(queries.buffer, queries.byteOffset, queries.byteLength));
  });
}

async function load(url, queries, seconds, connections) {
  const bodies = Array.from({ length: queries.length / D }, (_, i) => Buffer.from(queries.buffer, i * D * 4, D * 4));
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [{ method: 'POST', path: `/search?k=${K}&nprobe=${NPROBE}`, setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
  });
  return { qps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, requests: result.requests.total, errors: result.errors + result.non2xx + result.timeouts };
}

/**
 * Builds the shards and the one index, serves them, checks the router, loads both setups.
 * Resolves to { n, seconds, connections, same, rows }.
 */
export async function shardsLoad({ n: N = 300_000, seconds = 10, connections = 8, log = () => {} } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-shards-'));
  const children = [];
  try {
    log(`scatter-gather over HTTP: ${N} x ${D}, ${SHARDS} shards of IVF1024,Flat (shards-load.mjs)`);
    const base = latentClustered(N, D, 21);
    const queries = latentClustered(500, D, 22);
    const trained = faiss.indexFactory(D, 'IVF1024,Flat', faiss.METRIC_INNER_PRODUCT);
    trained.trainSync(base.subarray(0, Math.min(N, 100_000) * D));
    const empty = trained.serializeSync();
    const ids = BigInt64Array.from({ length: N }, (_, i) => BigInt(i));
    const shardFiles = [];
    for (let s = 0; s < SHARDS; s++) {
      const [i0, i1] = [Math.floor((s * N) / SHARDS), Math.floor(((s + 1) * N) / SHARDS)];
      const shard = faiss.deserializeIndexSync(empty);
      shard.addWithIdsSync(base.subarray(i0 * D, i1 * D), ids.subarray(i0, i1));
      shardFiles.push(path.join(dir, `shard${s}.index`));
      shard.writeSync(shardFiles[s]);
      shard.dispose();
    }
    trained.addWithIdsSync(base, ids);
    trained.writeSync(path.join(dir, 'all.index'));
    const expected = trained.searchSync(queries, K, { nprobe: NPROBE });
    trained.dispose();

    const shards = await Promise.all(shardFiles.map((f) => start('shard-server.mjs', [f])));
    children.push(...shards.map((s) => s.child));
    const router = await start('router.mjs', ['ip', ...shards.map((s) => s.url)]);
    const single = await start('shard-server.mjs', [path.join(dir, 'all.index')]);
    children.push(router.child, single.child);

    // Correctness first: the router answers as the one index does.
    const batch = await search(router.url, queries, K);
    let same = batch.labels.every((l, i) => l === expected.labels[i]) && batch.distances.every((v, i) => v === expected.distances[i]);
    for (let q = 0; q < 500; q++) {
      const one = await search(router.url, queries.subarray(q * D, (q + 1) * D), K);
      same &&= one.labels.every((l, i) => l === expected.labels[q * K + i]);
    }

    const rows = [];
    for (const [name, url] of [['one index, one process', single.url], [`${SHARDS} shard processes + router`, router.url]]) {
      await load(url, queries, 1, connections); // warm-up
      rows.push({ name, ...(await load(url, queries, seconds, connections)) });
    }
    return { n: N, seconds, connections, same, rows };
  } finally {
    for (const child of children) child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The result as Markdown. */
export function shardsLoadTable({ n, seconds, connections, same, rows }) {
  return [
    `${n.toLocaleString('en')} x ${D}, IVF1024,Flat (inner product), nprobe ${NPROBE}, k ${K}; autocannon ${seconds} s, ${connections} connections, one query a request; all on this machine's ${os.cpus().length} cores.`,
    `The router's answers identical to the one index (500 queries, single and batch): ${same ? 'yes' : 'NO'}.`,
    '',
    '| served by | requests/s | p50 ms | p99 ms | requests | errors |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.qps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.requests} | ${r.errors} |`),
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await shardsLoad({ seconds: arg('seconds', 10), connections: arg('connections', 8), log });
  console.log(`\n${shardsLoadTable(result)}`);
  if (!result.same || result.rows.some((r) => r.errors > 0)) process.exitCode = 1;
}

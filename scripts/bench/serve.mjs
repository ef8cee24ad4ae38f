#!/usr/bin/env node
// A real server, loaded: a node:http server on 127.0.0.1 holds a flat index of 100k x 768 and
// answers POST /search (a JSON array of 768 numbers, k = 10) with await index.search(); autocannon
// loads it over loopback at concurrency 1, 8, 32 and 128 for a bounded time each, with search
// coalescing on and off (a fresh server per mode, in a child process, so the load generator has
// its own event loop). Writes results/bench/serve-<time>/{serve.json,serve.md,serve.svg}.
//   npm run bench:serve [-- --seconds 5]
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const D = 768;
const N = 100_000;
const K = 10;
const CONCURRENCY = [1, 8, 32, 128];
const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const log = (msg) => process.stderr.write(`serve: ${msg}\n`);

/** Deterministic vectors; a flat scan's speed does not depend on their values. */
function vectors(n, offset) {
  const x = new Float32Array(n * D);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin((i + offset) * 0.37);
  return x;
}

/** The server: listens on an ephemeral port of 127.0.0.1 and prints it. */
async function serve(coalesce) {
  const faiss = createRequire(import.meta.url)(path.join(root, 'dist'));
  const index = new faiss.IndexFlatIP(D);
  index.addSync(vectors(N, 0));
  index.coalesceSearches = coalesce;
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/search') {
      res.writeHead(404).end();
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const query = Float32Array.from(JSON.parse(Buffer.concat(chunks).toString()));
        const { labels, distances } = await index.search(query, K);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ labels: Array.from(labels, Number), distances: Array.from(distances) }));
      } catch (err) {
        res.writeHead(400).end(String(err.message));
      }
    });
  });
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
}

function startServer(coalesce) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--server', coalesce ? 'on' : 'off'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (port) => resolve({ child, port: Number(String(port).trim()) }));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function load(port, connections, seconds) {
  const queries = vectors(64, 12_345);
  const bodies = Array.from({ length: 64 }, (_, i) => JSON.stringify(Array.from(queries.subarray(i * D, (i + 1) * D))));
  let next = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    requests: [{ method: 'POST', path: '/search', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
  });
  if (result.non2xx || result.errors) throw new Error(`${result.non2xx} non-2xx responses, ${result.errors} errors at ${connections} connections`);
  return { connections, qps: result.requests.average, p50_ms: result.latency.p50, p99_ms: result.latency.p99, requests: result.requests.total };
}

async function plot(rows) {
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `node:http + faiss-native, flat ${N / 1000}k x ${D}, k=${K}, loaded by autocannon over loopback`,
    data: { values: rows.flatMap((r) => [
      { ...r, measure: 'queries per second', value: r.qps },
      { ...r, measure: 'p99 latency (ms)', value: r.p99_ms },
    ]) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'connections', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'concurrent connections' },
      y: { field: 'value', type: 'quantitative', title: null },
      color: { field: 'coalescing', type: 'nominal' },
      column: { field: 'measure', type: 'nominal', title: null },
    },
    resolve: { scale: { y: 'independent' } },
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

async function main() {
  const seconds = Number(arg('--seconds', '5'));
  const rows = [];
  for (const coalesce of [true, false]) {
    const { child, port } = await startServer(coalesce);
    try {
      await load(port, 8, 1); // warm-up (page faults, JIT), not reported
      for (const connections of CONCURRENCY) {
        log(`coalescing ${coalesce ? 'on' : 'off'}, ${connections} connections, ${seconds} s`);
        rows.push({ coalescing: coalesce ? 'on' : 'off', ...(await load(port, connections, seconds)) });
      }
    } finally {
      child.kill();
    }
  }
  const lines = [
    `Flat index ${N / 1000}k x ${D}, k=${K}, node:http on 127.0.0.1, autocannon ${seconds} s per row, client and server on the same 2 cores.`,
    '',
    '| connections | QPS on / off | p50 ms on / off | p99 ms on / off |',
    '|---|---|---|---|',
  ];
  for (const c of CONCURRENCY) {
    const [on, off] = ['on', 'off'].map((m) => rows.find((r) => r.coalescing === m && r.connections === c));
    lines.push(`| ${c} | ${on.qps.toFixed(0)} / ${off.qps.toFixed(0)} | ${on.p50_ms} / ${off.p50_ms} | ${on.p99_ms} / ${off.p99_ms} |`);
  }
  const out = path.join(root, 'results', 'bench', `serve-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'serve.json'), JSON.stringify(rows, null, 1));
  fs.writeFileSync(path.join(out, 'serve.md'), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(out, 'serve.svg'), await plot(rows));
  console.log(lines.join('\n'));
  log(`wrote ${path.relative(root, out)}/{serve.json,serve.md,serve.svg}`);
}

if (process.argv.includes('--server')) await serve(arg('--server') === 'on');
else await main();

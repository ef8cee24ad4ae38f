#!/usr/bin/env node
// `npm run soak -- --minutes N`: a bounded soak of a serving process. A node:http server on
// 127.0.0.1 answers searches from a HotIndex while a writer adds to and removes from its own
// copy of the index, saves it and has the server reload it, over and over; clients load the
// server over loopback. Reports requests served, errors (must be 0) and resident memory over
// time (flat after warm-up: the last sample within 10% of the one at the end of warm-up), then
// ends by itself. Exit code 1 when a check fails. Warm-up is the first fifth of the run, but at
// least 90 s (the heap arenas of the pool threads take that long to fill; a 10-minute run
// plateaus by then) and at most half of it.
//   node scripts/check/soak.mjs [--minutes 1] [--clients 8]
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const minutes = arg('--minutes', 1);
const clients = arg('--clients', 8);
const d = 128;
const K = 10;
const log = (msg) => console.log(`soak: ${msg}`);

const rnd = mulberry32(9);
const vectors = (n) => Float32Array.from({ length: n * d }, () => rnd() * 2 - 1);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-soak-'));
const file = path.join(dir, 'served.faiss');

// The writer's index: the one that changes; the server serves what the writer last saved.
const writer = new faiss.IndexIDMap2(new faiss.IndexFlatIP(d));
let nextId = 0n;
const live = []; // ids in the writer's index, so that each round removes as many as it adds
const addBatch = (n) => {
  const ids = BigInt64Array.from({ length: n }, () => nextId++);
  writer.addWithIdsSync(vectors(n), ids);
  live.push(...ids);
};
const takeRandomIds = (n) =>
  BigInt64Array.from({ length: n }, () => {
    const i = Math.floor(rnd() * live.length);
    [live[i], live[live.length - 1]] = [live[live.length - 1], live[i]];
    return live.pop();
  });
addBatch(20_000);
writer.writeSync(file);
const served = await faiss.HotIndex.open(file);

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', async () => {
    try {
      const q = Float32Array.from(JSON.parse(body).vector);
      const { labels, distances } = await served.search(q, K);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ labels: Array.from(labels, String), distances: Array.from(distances) }));
    } catch (err) {
      res.writeHead(500);
      res.end(String(err));
    }
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
log(`serving ${served.index.ntotal} vectors (d=${d}) on 127.0.0.1:${port} for ${minutes} min, ${clients} clients`);

const deadline = Date.now() + minutes * 60_000;
const stats = { served: 0, errors: 0, reloads: 0, rss: [] };
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });

function request(vector) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/search', agent }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        const ok = res.statusCode === 200 && JSON.parse(body).labels.length === K;
        resolve(ok);
      });
    });
    req.on('error', () => resolve(false));
    req.end(JSON.stringify({ vector: Array.from(vector) }));
  });
}

async function client() {
  while (Date.now() < deadline) {
    if (await request(vectors(1))) stats.served++;
    else stats.errors++;
  }
}

// Adds 200 vectors, removes 200 others, saves and reloads, every half second.
async function writerLoop() {
  while (Date.now() < deadline) {
    addBatch(200);
    const removed = await writer.removeIds(takeRandomIds(200));
    if (removed !== 200) throw new Error(`removed ${removed} of 200 ids`);
    await writer.write(file);
    await served.reload(file);
    stats.reloads++;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const sampler = setInterval(() => {
  stats.rss.push(process.memoryUsage().rss);
  log(`${Math.round((Date.now() - deadline) / 1000 + minutes * 60)} s: ${stats.served} served, ${stats.errors} errors, ` +
    `${stats.reloads} reloads, ${served.index.ntotal} vectors, RSS ${(stats.rss.at(-1) / 2 ** 20).toFixed(1)} MiB ` +
    `(V8 heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB)`);
}, Math.max(1000, (minutes * 60_000) / 30));

await Promise.all([writerLoop(), ...Array.from({ length: clients }, client)]);
clearInterval(sampler);
server.close();
agent.destroy();
fs.rmSync(dir, { recursive: true, force: true });

const warmUp = Math.min(Math.max(0.2, 90 / (minutes * 60)), 0.5);
const warm = stats.rss[Math.floor(stats.rss.length * warmUp)];
const last = stats.rss.at(-1);
const drift = last / warm - 1;
log(`done: ${stats.served} requests served (${(stats.served / (minutes * 60)).toFixed(0)}/s), ${stats.errors} errors, ` +
  `${stats.reloads} reloads; RSS after warm-up ${(warm / 2 ** 20).toFixed(1)} MiB, at the end ${(last / 2 ** 20).toFixed(1)} MiB (${(100 * drift).toFixed(1)}%)`);
const failed = stats.errors > 0 || stats.served === 0 || Math.abs(drift) > 0.1;
log(failed ? 'FAIL' : 'PASS');
process.exit(failed ? 1 : 0);

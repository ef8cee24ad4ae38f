#!/usr/bin/env node
// Example: a router that scatters each query to every shard server (shard-server.mjs) and
// gathers their results with mergeResults, so clients get what one index over the whole
// collection would answer (ties included). Same wire format as a shard, so routers nest.
// A shard that fails or times out fails the request (502, naming it): retries, replicas and
// failover belong to your load balancer or service mesh, not to this example.
//   node scripts/examples/router.mjs <ip|l2> <shard-url> [<shard-url> ...] [--port 0]   (prints its port)
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bodyOf, encodeResult } from './shard-server.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const faiss = createRequire(import.meta.url)(path.join(root, 'dist'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** A shard's reply as a search result (its bytes copied once, to align the int64 labels). */
export function decodeResult(body, nq, k) {
  const bytes = new Uint8Array(body.length);
  bytes.set(body);
  return { distances: new Float32Array(bytes.buffer, 0, nq * k), labels: new BigInt64Array(bytes.buffer, nq * k * 4, nq * k), nq, k };
}

/** POSTs the queries to one shard; rejects with the shard's URL in the message. */
function ask(shard, search, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(`/search${search}`, shard), { method: 'POST', agent, timeout: timeoutMs }, async (res) => {
      const reply = await bodyOf(res);
      if (res.statusCode !== 200) reject(Object.assign(new Error(`${shard}: ${res.statusCode} ${reply}`), { status: res.statusCode }));
      else resolve({ reply, nq: Number(res.headers['x-nq']) });
    });
    req.on('timeout', () => req.destroy(new Error(`${shard}: no answer in ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new Error(`${shard}: ${err.message}`)));
    req.end(body);
  });
}

export function createRouter(shards, metric, { timeoutMs = 5000 } = {}) {
  return http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://router');
    if (req.method !== 'POST' || url.pathname !== '/search') return void res.writeHead(404).end();
    const k = Number(url.searchParams.get('k') ?? 10);
    try {
      const body = await bodyOf(req);
      const replies = await Promise.all(shards.map((shard) => ask(shard, url.search, body, timeoutMs)));
      const merged = faiss.mergeResults(replies.map(({ reply, nq }) => decodeResult(reply, nq, k)), k, metric);
      const [headers, out] = encodeResult(merged);
      res.writeHead(200, headers).end(out);
    } catch (err) {
      // The client's own mistake comes back from every shard as a 400: pass it on as such.
      res.writeHead(err.status === 400 ? 400 : 502).end(String(err.message));
    }
  });
}

async function main() {
  const args = process.argv.slice(2);
  const portAt = args.indexOf('--port');
  const port = portAt >= 0 ? Number(args.splice(portAt, 2)[1]) : 0;
  const [metricName, ...shards] = args;
  const metric = metricName === 'l2' ? faiss.METRIC_L2 : faiss.METRIC_INNER_PRODUCT;
  const server = createRouter(shards, metric);
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => console.log(server.address().port));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();

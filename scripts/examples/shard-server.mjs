#!/usr/bin/env node
// Example: one shard of a collection served over HTTP, for a router (router.mjs) to scatter
// queries to. It holds an index file whose ids are the collection's ids (a shard built apart
// with addWithIds, or one of autofaiss's shards), and answers
//   POST /search?k=10[&nprobe=16]   body: nq * d little-endian float32 values
// with nq * k float32 distances then nq * k int64 labels (header x-nq). It only searches:
// where it runs, how many copies run and what restarts it stay with your process manager or
// orchestrator (systemd, Kubernetes, ...).
//   node scripts/examples/shard-server.mjs <index-file> [port]     (prints the port it listens on)
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const faiss = createRequire(import.meta.url)(path.join(root, 'dist'));

/** The request body as float32 values (copied when the bytes are not 4-aligned). */
export function floatsOf(body) {
  if (body.byteOffset % 4 === 0) return new Float32Array(body.buffer, body.byteOffset, body.length / 4);
  return new Float32Array(Uint8Array.from(body).buffer);
}

/** Reads a request's body into one Buffer. */
export function bodyOf(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A search result as the wire carries it: distances, then labels. */
export function encodeResult({ distances, labels, nq }) {
  return [{ 'content-type': 'application/octet-stream', 'x-nq': String(nq) }, Buffer.concat([Buffer.from(distances.buffer, distances.byteOffset, distances.byteLength), Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength)])];
}

async function main() {
  const [file, port = '0'] = process.argv.slice(2);
  const index = await faiss.readIndex(file, { readOnly: true });
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://shard');
      if (req.method !== 'POST' || url.pathname !== '/search') return void res.writeHead(404).end();
      const queries = floatsOf(await bodyOf(req));
      const k = Number(url.searchParams.get('k') ?? 10);
      const nprobe = url.searchParams.get('nprobe');
      const result = await index.search(queries, k, nprobe ? { nprobe: Number(nprobe) } : {});
      const [headers, body] = encodeResult(result);
      res.writeHead(200, headers).end(body);
    } catch (err) {
      // Bad queries (wrong length, NaN, k out of range) are the client's: 400 with the reason.
      res.writeHead(err instanceof RangeError || err instanceof TypeError ? 400 : 500).end(String(err.message));
    }
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(port), '127.0.0.1', () => console.log(server.address().port));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();

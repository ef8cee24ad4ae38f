#!/usr/bin/env node
// Builds many small HNSW graphs on all threads: FAISS's parallel add reads neighbour lists that
// other threads rewrite, and an id written a byte at a time (musl's memset, before
// scripts/install/faiss-1.12.0.patch) sent a reader far outside its visited table. Unpatched,
// this crashed within 3 s on musl (2 of 2 runs); each search must also return only real ids.
//   node scripts/check/hnsw-add-race.mjs [builds=2000]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const faiss = createRequire(import.meta.url)(path.join(root, 'dist'));
const builds = Number(process.argv[2] ?? 2000);
const [n, d] = [200, 16];
const x = Float32Array.from({ length: n * d }, (_, i) => Math.sin(i * 0.7));
const t0 = Date.now();
for (let b = 0; b < builds; b++) {
  const index = new faiss.IndexHNSWFlat(d, 4);
  index.addSync(x);
  const { labels, distances } = index.searchSync(x.subarray(0, 4 * d), 3);
  index.dispose();
  const bad = labels.findIndex((id, i) => id < 0n || id >= BigInt(n) || !(distances[i] >= 0));
  if (bad >= 0) throw new Error(`build ${b}: result ${bad} is id ${labels[bad]} at distance ${distances[bad]}`);
}
console.log(JSON.stringify({ builds, threads: faiss.getNumThreads(), seconds: (Date.now() - t0) / 1000 }));

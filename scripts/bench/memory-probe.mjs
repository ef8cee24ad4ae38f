#!/usr/bin/env node
// Child process of bench.mjs: resident memory an index costs. Reads a trained, empty index
// file and the vectors of base.f32 (both resident before the first reading), adds the
// vectors in one call, and prints RSS growth against the size of the filled index (its
// serialized bytes). A first, small add to a throwaway copy brings in what any process pays
// once (the code of the add path, OpenBLAS's buffers, the thread stacks: about 4.7 MB), so that
// the figure is the index's own.
//   node --expose-gc memory-probe.mjs <empty.faissindex> <base.f32> <d>
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const faiss = createRequire(import.meta.url)(path.join(root, 'dist'));
const [emptyFile, baseFile, d] = process.argv.slice(2);
const rss = () => {
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage().rss;
};
const index = faiss.readIndexSync(emptyFile);
const base = fs.readFileSync(baseFile);
const vectors = new Float32Array(base.buffer, base.byteOffset, base.length / 4);
const warmUp = faiss.readIndexSync(emptyFile);
warmUp.addSync(vectors.subarray(0, 2000 * Number(d)));
warmUp.searchSync(vectors.subarray(0, 100 * Number(d)), 10);
warmUp.dispose();
const before = rss();
index.addSync(vectors);
const growth = rss() - before;
const bytes = index.serializeSync().length;
console.log(JSON.stringify({ rssGrowth: growth, bytes, n: index.ntotal, d: Number(d) }));

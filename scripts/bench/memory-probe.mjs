#!/usr/bin/env node
// Child process of bench.mjs: resident memory an index costs. Reads a trained, empty index
// file, adds the vectors of base.f32 in small chunks (so the input barely counts), and prints
// RSS growth against the size of the filled index (its serialized bytes).
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
// The input goes through one reused buffer of 256 vectors, so it barely counts.
const chunk = Buffer.alloc(256 * Number(d) * 4);
const fd = fs.openSync(baseFile, 'r');
const size = fs.fstatSync(fd).size;
const before = rss();
for (let off = 0; off < size; off += chunk.length) {
  const len = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - off), off);
  index.addSync(new Float32Array(chunk.buffer, chunk.byteOffset, len / 4));
}
fs.closeSync(fd);
const growth = rss() - before;
const bytes = index.serializeSync().length;
console.log(JSON.stringify({ rssGrowth: growth, bytes, n: index.ntotal, d: Number(d) }));

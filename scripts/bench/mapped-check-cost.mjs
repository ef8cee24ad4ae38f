#!/usr/bin/env node
// What watching a memory-mapped file costs a search: every read of a mapped index fstat()s its
// file before and after (native/mapped_file.h). Times single-query searches, sync and async, on
// a small flat index read with { mmap: true } against the same file read into memory,
// alternating rounds in one process, and prints the median time ratio (mapped / in memory).
//   node scripts/bench/mapped-check-cost.mjs [--rounds 9]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const i = process.argv.indexOf('--rounds');
const rounds = i >= 0 ? Number(process.argv[i + 1]) : 9;
const d = 64;
const n = 1000; // small, so the per-call overhead is what shows
const rnd = mulberry32(1);
const built = new faiss.IndexFlatIP(d);
built.addSync(Float32Array.from({ length: n * d }, () => rnd()));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-mapcost-'));
const file = path.join(dir, 'flat.faiss');
built.writeSync(file);
const mapped = faiss.readIndexSync(file, { mmap: true });
const memory = faiss.readIndexSync(file);
const q = Float32Array.from({ length: d }, () => rnd());

async function time(index, calls, async) {
  const t0 = process.hrtime.bigint();
  for (let c = 0; c < calls; c++) {
    if (async) await index.search(q, 10);
    else index.searchSync(q, 10);
  }
  return Number(process.hrtime.bigint() - t0) / calls / 1000; // µs per call
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const async of [false, true]) {
  const calls = async ? 2000 : 20000;
  await time(mapped, calls / 10, async); // warm-up
  await time(memory, calls / 10, async);
  const ratios = [];
  const us = { mapped: [], memory: [] };
  for (let r = 0; r < rounds; r++) {
    const a = await time(mapped, calls, async);
    const b = await time(memory, calls, async);
    us.mapped.push(a);
    us.memory.push(b);
    ratios.push(a / b);
  }
  console.log(`${async ? 'search (async)' : 'searchSync'} nq=1 k=10 over ${n} x ${d}: mapped ${median(us.mapped).toFixed(2)} µs,` +
    ` in memory ${median(us.memory).toFixed(2)} µs, median ratio ${median(ratios).toFixed(3)} (${rounds} alternating rounds)`);
}
mapped.dispose();
memory.dispose();
fs.rmSync(dir, { recursive: true, force: true });

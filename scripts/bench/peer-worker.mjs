#!/usr/bin/env node
// The Node side of python-peers.mjs, twin of `python_bench.py --serve`: answers JSON-line
// requests on stdin, one line each on stdout:
//   { op: 'load', index, queries, d }            -> {}
//   { op: 'single', nprobe, k, count }           -> { us: [latency of each one-query search] }
//   { op: 'batch', nprobe, k, nq }               -> { us: [time of one nq-query search] }
//   { op: 'train', base, d, nlist }              -> { us: [time to train IVF<nlist>,SQ8 (IP) on base.f32] }
//   { op: 'add', base, d }                       -> { us: [time to add base.f32 to an empty IndexFlatIP] }
//   node peer-worker.mjs <package dir>
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';

const faiss = createRequire(import.meta.url)(path.resolve(process.argv[2], 'dist'));
const now = () => Number(process.hrtime.bigint()) / 1e3; // microseconds
let index;
let q;
let d;
let at = 0; // next query of the single-query loop, so that rounds go through every query
for await (const line of readline.createInterface({ input: process.stdin })) {
  const req = JSON.parse(line);
  let out;
  if (req.op === 'load') {
    index?.dispose();
    index = faiss.readIndexSync(req.index);
    const bytes = fs.readFileSync(req.queries);
    q = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    d = req.d;
    out = {};
  } else if (req.op === 'train' || req.op === 'add') {
    const bytes = fs.readFileSync(req.base);
    const x = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    const built = req.op === 'train' ? new faiss.IndexIVFScalarQuantizer(req.d, req.nlist, 'QT_8bit') : new faiss.IndexFlatIP(req.d);
    const t0 = now();
    if (req.op === 'train') built.trainSync(x);
    else built.addSync(x);
    out = { us: [now() - t0] };
    built.dispose();
  } else {
    const options = req.nprobe > 0 ? { nprobe: req.nprobe } : {};
    const nq = q.length / d;
    const us = [];
    if (req.op === 'single') {
      for (let i = 0; i < req.count; i++, at = (at + 1) % nq) {
        const x = q.subarray(at * d, (at + 1) * d);
        const t0 = now();
        index.searchSync(x, req.k, options);
        us.push(now() - t0);
      }
    } else {
      const t0 = now();
      index.searchSync(q.subarray(0, req.nq * d), req.k, options);
      us.push(now() - t0);
    }
    out = { us };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

#!/usr/bin/env node
// Times three adds of 100k x 768 vectors to fresh IndexFlatIP indexes, each followed by 20
// one-query scans. Run it plainly and with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 to see what
// transparent huge pages would give the flat codes buffer:
//   node scripts/bench/flat-add-scan.mjs
//   GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node scripts/bench/flat-add-scan.mjs
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const faiss = createRequire(import.meta.url)(path.join(root, 'dist'));
const d = 768;
const n = 100_000;
const x = new Float32Array(n * d);
for (let i = 0; i < x.length; i += 97) x[i] = Math.sin(i);
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
for (let round = 0; round < 3; round++) {
  const index = new faiss.IndexFlatIP(d);
  let t0 = process.hrtime.bigint();
  index.addSync(x);
  const add = ms(t0);
  t0 = process.hrtime.bigint();
  for (let i = 0; i < 20; i++) index.searchSync(x.subarray(i * d, (i + 1) * d), 10);
  console.log(`round ${round}: add ${add.toFixed(1)} ms, one-query scan ${(ms(t0) / 20).toFixed(2)} ms`);
  index.dispose();
}

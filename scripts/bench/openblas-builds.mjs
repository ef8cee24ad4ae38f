#!/usr/bin/env node
// Compares Debian's OpenMP and pthread builds of OpenBLAS under the addon: which threading
// the bundled OpenBLAS should use. Both must be installed:
//   apt-get install libopenblas0-openmp libopenblas0-pthread
//   node scripts/bench/openblas-builds.mjs [rounds]
// Each round runs both builds in fresh processes, alternating, on the same data; the result is
// the median time per build and the ratio pthread / openmp (above 1: OpenMP is faster).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILDS = {
  openmp: '/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0',
  pthread: '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0',
};
const rounds = Number(process.argv[2] ?? 5);

// The child: flat inner-product search over n=50k, d=256 random vectors with the addon's
// native surface; FAISS uses BLAS (sgemm) for nq >= 20.
const CHILD = `
const native = require(process.argv[1]);
const d = 256, n = 50000, k = 10;
let s = 12345; const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
const base = Float32Array.from({ length: n * d }, rnd);
const queries = Float32Array.from({ length: 1000 * d }, rnd);
const index = native.createFactory(d, 'Flat', 0);
index.addSync(base);
const D = new Float32Array(1000 * k), I = new BigInt64Array(1000 * k);
index.searchSync(queries.subarray(0, 100 * d), k, D, I, 0); // warm-up
const time = (f) => { const t = process.hrtime.bigint(); f(); return Number(process.hrtime.bigint() - t) / 1e6; };
const out = {};
out['batch nq=1000 (ms)'] = time(() => index.searchSync(queries, k, D, I, 0));
out['batch nq=100 x10 (ms)'] = time(() => { for (let i = 0; i < 10; i++) index.searchSync(queries.subarray(i * 100 * d, (i + 1) * 100 * d), k, D, I, 0); });
(async () => {
  // Four concurrent async searches: each libuv thread runs its own OpenMP/BLAS team.
  const t = process.hrtime.bigint();
  await Promise.all([0, 1, 2, 3].map((i) => index.search(queries.subarray(i * 250 * d, (i + 1) * 250 * d), k,
    new Float32Array(250 * k), new BigInt64Array(250 * k), 0)));
  out['4 concurrent async nq=250 (ms)'] = Number(process.hrtime.bigint() - t) / 1e6;
  console.log(JSON.stringify(out));
})();`;

const source = ['build/Release', `prebuilds/${process.platform}-${process.arch}`].map((d) => path.join(root, d)).find((d) =>
  fs.existsSync(path.join(d, 'faiss_native_avx512.node')),
);
if (!source) throw new Error('build the addon first (npm install)');
for (const [name, lib] of Object.entries(BUILDS)) if (!fs.existsSync(lib)) throw new Error(`${name} OpenBLAS missing: ${lib}`);

const dirs = {};
for (const [name, lib] of Object.entries(BUILDS)) {
  dirs[name] = fs.mkdtempSync(path.join(os.tmpdir(), `faiss-native-blas-${name}-`));
  fs.cpSync(source, dirs[name], { recursive: true });
  fs.copyFileSync(fs.realpathSync(lib), path.join(dirs[name], 'libopenblas.so.0'));
}
const samples = { openmp: [], pthread: [] };
try {
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 ? ['pthread', 'openmp'] : ['openmp', 'pthread']) {
      const res = spawnSync(process.execPath, ['-e', CHILD, path.join(dirs[name], 'faiss_native_avx512.node')], { encoding: 'utf8' });
      if (res.status !== 0) throw new Error(res.stderr);
      samples[name].push(JSON.parse(res.stdout));
    }
  }
} finally {
  for (const d of Object.values(dirs)) fs.rmSync(d, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`OpenBLAS builds, ${rounds} rounds, medians (${os.cpus().length} cores, ${os.cpus()[0].model})`);
console.log('| measure | openmp | pthread | pthread / openmp |\n|---|---|---|---|');
for (const key of Object.keys(samples.openmp[0])) {
  const a = median(samples.openmp.map((s) => s[key]));
  const b = median(samples.pthread.map((s) => s[key]));
  console.log(`| ${key} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)} |`);
}

#!/usr/bin/env node
// `npm run smoke:pack`: proves the npm tarball installs and searches with no build tools.
// Packs the package (prebuilds must exist: `npm run prebuild`), installs the tarball into an
// empty project with a PATH holding only node and npm (no compiler, cmake, make or cargo),
// runs a search under every SIMD variant, checks with ldd that every non-glibc library
// resolves inside the package, and reports sizes and the newest glibc symbol version needed.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedDeps } from './bundle-runtime.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const WHEEL_BYTES = 31e6; // faiss-cpu 1.12.0 manylinux x86-64 wheel, the size to stay under
const MB = (b) => `${(b / 1e6).toFixed(1)} MB`;
const fail = (msg) => {
  console.error(`smoke-pack: FAIL: ${msg}`);
  process.exit(1);
};

const prebuilds = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
if (!fs.existsSync(prebuilds)) fail('no prebuilds; run `npm run prebuild` first');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-smoke-'));
try {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  const tarball = path.join(work, packed.filename);

  // A PATH with node, npm and the shell npm runs scripts with, nothing else.
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  for (const tool of ['node', 'npm', 'sh']) fs.symlinkSync(execFileSync('which', [tool], { encoding: 'utf8' }).trim(), path.join(bin, tool));
  const env = { ...process.env, PATH: bin, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  for (const tool of ['cc', 'gcc', 'g++', 'c++', 'cmake', 'make', 'cargo', 'ninja']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status === 0) fail(`${tool} is reachable on the smoke PATH`);
  }

  const app = path.join(work, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'smoke-app', version: '1.0.0', private: true }));
  const install = spawnSync('npm', ['install', '--no-save', '--foreground-scripts', tarball], { cwd: app, env, encoding: 'utf8' });
  process.stderr.write(install.stdout + install.stderr);
  if (install.status !== 0) fail('npm install of the tarball failed');

  // A search checked against a hand-computed answer, under every variant.
  const script = `
    const f = require('faiss-native');
    const index = new f.IndexFlatIP(4);
    index.addSync(new Float32Array([1,0,0,0, 0,1,0,0, 0,0,1,0, 0.5,0.5,0.5,0.5]));
    const r = index.searchSync(new Float32Array([0.1,0.9,0.3,0]), 3);
    const labels = Array.from(r.labels, Number).join(',');
    if (labels !== '1,3,2') throw new Error('wrong labels ' + labels);
    if (Math.abs(r.distances[0] - 0.9) > 1e-6 || Math.abs(r.distances[1] - 0.65) > 1e-6) throw new Error('wrong distances ' + r.distances);
    console.log(f.buildInfo.simdLevel + ': search ok (' + f.buildInfo.compileOptions + ')');`;
  for (const level of ['generic', 'avx2', 'avx512']) {
    const r = spawnSync('node', ['-e', script], { cwd: app, env: { ...env, FAISS_OPT_LEVEL: level }, encoding: 'utf8' });
    if (r.status !== 0) fail(`search with FAISS_OPT_LEVEL=${level}: ${r.stderr}`);
    process.stdout.write(`smoke-pack: ${r.stdout}`);
  }

  // Every non-glibc dependency must resolve to a file shipped in the package.
  const installed = path.join(app, 'node_modules', 'faiss-native', 'prebuilds', `${process.platform}-${process.arch}`);
  const files = fs.readdirSync(installed);
  let newestGlibc = [0, 0];
  for (const file of files) {
    const full = path.join(installed, file);
    for (const [name, resolved] of sharedDeps(full)) {
      if (path.dirname(resolved) !== installed) fail(`${file} loads ${name} from ${resolved}, outside the package`);
    }
    for (const m of fs.readFileSync(full).toString('latin1').matchAll(/GLIBC_(\d+)\.(\d+)/g)) {
      const v = [Number(m[1]), Number(m[2])];
      if (v[0] > newestGlibc[0] || (v[0] === newestGlibc[0] && v[1] > newestGlibc[1])) newestGlibc = v;
    }
    console.log(`smoke-pack: ${file} ${MB(fs.statSync(full).size)}`);
  }
  console.log(`smoke-pack: ldd: every non-glibc library of ${files.length} files resolves inside the package`);
  console.log(`smoke-pack: oldest glibc accepted: ${newestGlibc.join('.')} (newest GLIBC_ symbol version needed)`);
  console.log(`smoke-pack: tarball ${packed.filename}: packed ${MB(packed.size)}, unpacked ${MB(packed.unpackedSize)}, ${packed.entryCount} files`);
  if (packed.size >= WHEEL_BYTES) fail(`packed size ${MB(packed.size)} is not below the faiss-cpu wheel's ${MB(WHEEL_BYTES)}`);
  console.log('smoke-pack: PASS');
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

// Checks the Debian packages the FAISS build links against, installing them when run as root.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

// The OpenMP build of OpenBLAS: the pthread build inside FAISS's OpenMP regions oversubscribes.
export const OPENBLAS_DIR = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
const PACKAGES = ['libopenblas-openmp-dev', 'patchelf', 'cmake', 'g++'];
const has = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

function missing() {
  const out = [];
  if (!fs.existsSync(`${OPENBLAS_DIR}/libopenblas.so`)) out.push('libopenblas-openmp-dev');
  if (!has('patchelf')) out.push('patchelf');
  if (!has('cmake')) out.push('cmake');
  if (!has(process.env.CXX || 'g++')) out.push('g++');
  return out;
}

export function ensureSystemDeps() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`building from source is supported on linux-x64 only (this is ${process.platform}-${process.arch})`);
  }
  let need = missing();
  if (!need.length) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    throw new Error(`missing build dependencies; install them with: sudo apt-get install ${PACKAGES.join(' ')}`);
  }
  process.stderr.write(`faiss-native: installing Debian packages ${need.join(' ')} (running as root)\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...need]]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed`);
  }
  need = missing();
  if (need.length) throw new Error(`still missing after apt-get: ${need.join(' ')}`);
}

// Checks the Debian packages the FAISS build links against. Installs them with apt when run as
// root in a checkout of this repository (the development flow); as an installed dependency, only
// with FAISS_NATIVE_INSTALL_SYSTEM_DEPS=1, and otherwise names them and stops.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTarget } from './target.mjs';

const PACKAGES = ['libopenblas-openmp-dev', 'patchelf', 'patch', 'cmake', 'g++'];
const has = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const inCheckout = !fileURLToPath(import.meta.url).split(path.sep).includes('node_modules');

function missing(target) {
  const out = [];
  if (!target.openblasDir) out.push('libopenblas-openmp-dev');
  if (!has('patchelf')) out.push('patchelf');
  if (!has('patch')) out.push('patch'); // FAISS is patched before it is built (build-faiss.mjs)
  if (!has('cmake')) out.push('cmake');
  if (!has(target.cxx)) out.push('g++');
  return out;
}

export function ensureSystemDeps() {
  const target = buildTarget();
  let need = missing(target);
  if (!need.length) return;
  // A cross build's packages come with the Debian 11 root (scripts/release/debian-root.mjs).
  if (target.cross) throw new Error(`missing for the ${target.arch} cross build: ${need.join(' ')}`);
  const optedIn = process.env.FAISS_NATIVE_INSTALL_SYSTEM_DEPS === '1';
  const canApt = process.getuid?.() === 0 && has('apt-get');
  if (!canApt || !(inCheckout || optedIn)) {
    const how = canApt ? ' (or set FAISS_NATIVE_INSTALL_SYSTEM_DEPS=1 to let this install run apt-get)' : '';
    throw new Error(`building from source needs these Debian/Ubuntu packages: sudo apt-get install ${PACKAGES.join(' ')}${how}`);
  }
  process.stderr.write(`faiss-native: installing Debian packages ${need.join(' ')} (running as root)\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...need]]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed`);
  }
  need = missing(buildTarget());
  if (need.length) throw new Error(`still missing after apt-get: ${need.join(' ')}`);
}

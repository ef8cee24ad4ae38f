#!/usr/bin/env node
// Builds faiss-node 0.5.1 (the package LangChain.js loads) for the benchmark's peer comparison,
// in ~/.cache/faiss-native/faiss-node-0.5.1/. Its own install clones FAISS from GitHub, which is
// unreachable here, so its unchanged src/faiss.cc is compiled against Debian 12's libfaiss-dev
// 1.7.3 (a static library, unpacked from the .deb rather than installed, so the system's include
// paths stay clean) and the OpenBLAS the addon uses.
//   node scripts/bench/faiss-node-peer.mjs   prints the package folder, or why it cannot be built
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const VERSION = '0.5.1';
const cache = path.join(os.homedir(), '.cache', 'faiss-native', `faiss-node-${VERSION}`);
const pkg = path.join(cache, 'package');
const addon = path.join(pkg, 'build', 'Release', 'faiss-node.node');

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim().slice(-500)}`);
  return r.stdout.trim();
}

/** The faiss-node package folder with its addon built; throws with the reason when it cannot be. */
export function buildFaissNodePeer() {
  if (fs.existsSync(addon)) return pkg;
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('the peer build is for linux-x64 Debian only');
  fs.rmSync(cache, { recursive: true, force: true });
  fs.mkdirSync(cache, { recursive: true });
  const tarball = run('npm', ['pack', `faiss-node@${VERSION}`, '--silent'], cache);
  run('tar', ['xzf', tarball], cache);
  // Its runtime dependencies (bindings, node-addon-api 6), without its install script.
  run('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--silent'], pkg);
  run('apt-get', ['download', 'libfaiss-dev'], cache);
  const deb = fs.readdirSync(cache).find((f) => f.startsWith('libfaiss-dev_') && f.endsWith('.deb'));
  const sysroot = path.join(cache, 'libfaiss-dev');
  run('dpkg-deb', ['-x', path.join(cache, deb), sysroot]);
  const libfaiss = path.join(sysroot, 'usr', 'lib', 'x86_64-linux-gnu', 'libfaiss.a');
  const nodeInclude = path.join(path.dirname(process.execPath), '..', 'include', 'node');
  fs.mkdirSync(path.dirname(addon), { recursive: true });
  // faiss-node 0.5.1 targets FAISS 1.7.4, which added the namespace-level faiss::idx_t; 1.7.3
  // has the same type as faiss::Index::idx_t. A forced include adds the alias, source unchanged.
  const shim = path.join(cache, 'idx_t-1.7.3.h');
  fs.writeFileSync(shim, '#include <cstdint>\nnamespace faiss { using idx_t = int64_t; }\n');
  // faiss-node's CMakeLists: C++17, NAPI_VERSION 6, C++ exceptions on, OpenMP; -O3 as cmake-js's Release.
  run('g++', ['-O3', '-std=c++17', '-fPIC', '-shared', '-fopenmp', '-DNAPI_VERSION=6', '-DNAPI_CPP_EXCEPTIONS',
    '-include', shim, `-I${nodeInclude}`, `-I${path.join(pkg, 'node_modules', 'node-addon-api')}`, `-I${path.join(sysroot, 'usr', 'include')}`,
    path.join(pkg, 'src', 'faiss.cc'), libfaiss, '-L/usr/lib/x86_64-linux-gnu/openblas-openmp', '-lopenblas', '-o', addon], pkg);
  return pkg;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    console.log(buildFaissNodePeer());
  } catch (err) {
    console.error(`faiss-node-peer: ${err.message}`);
    process.exit(1);
  }
}

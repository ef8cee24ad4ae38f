#!/usr/bin/env node
// Copies every shared library the built .node files need, except glibc's own, next to them,
// and gives each copy the rpath $ORIGIN (the .node files have it from the linker), so a
// prebuild runs on a machine with only glibc.
//   node scripts/bundle-runtime.mjs build/Release
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// Part of glibc (or the kernel): present wherever the .node can run at all.
const SYSTEM = /^(linux-vdso|ld-linux|libc|libm|libpthread|libdl|librt|libresolv|libutil|libmvec)\.so/;

/** Maps soname to resolved path for each non-glibc dependency ldd reports for `file`. */
export function sharedDeps(file) {
  const out = execFileSync('ldd', [file], { encoding: 'utf8' });
  const deps = new Map();
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+) => (\S+)/.exec(line);
    if (m && !SYSTEM.test(m[1])) {
      if (m[2] === 'not') throw new Error(`${file} needs ${m[1]}, which is not installed`);
      deps.set(m[1], m[2]);
    }
  }
  return deps;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const dir = path.resolve(process.argv[2] ?? 'build/Release');
  const modules = fs.readdirSync(dir).filter((f) => f.endsWith('.node'));
  const libs = new Map();
  for (const m of modules) for (const [name, file] of sharedDeps(path.join(dir, m))) libs.set(name, file);
  for (const [name, file] of libs) {
    const dest = path.join(dir, name);
    if (path.resolve(file) === dest) continue; // already resolved to the bundled copy
    fs.copyFileSync(fs.realpathSync(file), dest);
    const r = spawnSync('patchelf', ['--set-rpath', '$ORIGIN', dest], { stdio: 'inherit' });
    if (r.error || r.status !== 0) throw new Error('patchelf failed; it is needed to build (Debian: apt-get install patchelf)');
    process.stderr.write(`faiss-native: bundled ${name} (${fs.realpathSync(file)})\n`);
  }
}

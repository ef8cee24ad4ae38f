#!/usr/bin/env node
// Copies every shared library the built .node files need, except glibc's own, next to them,
// and gives each copy the rpath $ORIGIN (the .node files have it from the linker), so a
// prebuild runs on a machine with only glibc.
//   node scripts/bundle-runtime.mjs build/Release
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { OPENBLAS_DIR } from './system-deps.mjs';

// Part of glibc (or the kernel): present wherever the .node can run at all.
const SYSTEM = /^(linux-vdso|ld-linux|libc|libm|libpthread|libdl|librt|libresolv|libutil|libmvec)\.so/;

/** Maps soname to resolved path for each non-glibc dependency ldd reports for `file`. */
export function sharedDeps(file, env = process.env) {
  const out = execFileSync('ldd', [file], { encoding: 'utf8', env });
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
  // Start clean, so ldd resolves from the system and not from an earlier bundle.
  for (const f of fs.readdirSync(dir)) if (/\.so(\.\d+)*$/.test(f)) fs.rmSync(path.join(dir, f));
  // The OpenMP OpenBLAS we linked against, whatever the system's libopenblas.so.0 alternative is.
  const env = { ...process.env, LD_LIBRARY_PATH: [OPENBLAS_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
  const modules = fs.readdirSync(dir).filter((f) => f.endsWith('.node'));
  const libs = new Map();
  for (const m of modules) for (const [name, file] of sharedDeps(path.join(dir, m), env)) libs.set(name, file);
  for (const [name, file] of libs) {
    const dest = path.join(dir, name);
    fs.copyFileSync(fs.realpathSync(file), dest);
    const r = spawnSync('patchelf', ['--set-rpath', '$ORIGIN', dest], { stdio: 'inherit' });
    if (r.error || r.status !== 0) throw new Error('patchelf failed; it is needed to build (Debian: apt-get install patchelf)');
    process.stderr.write(`faiss-native: bundled ${name} (${fs.realpathSync(file)})\n`);
  }
}

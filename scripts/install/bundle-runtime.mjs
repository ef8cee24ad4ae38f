#!/usr/bin/env node
// Copies every shared library the built .node files need, except the C library's own, next to
// them, and gives each copy the rpath $ORIGIN (the .node files have it from the linker), so a
// prebuild runs on a machine with only glibc (or musl). Dependencies are read from the files
// with readelf (or objdump for Windows DLLs), not ldd, so that cross-compiled builds are
// bundled the same way. Windows finds a DLL beside the .node that needs it, with no rpath.
//   node scripts/install/bundle-runtime.mjs build/Release
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildTarget } from './target.mjs';

// Part of glibc (or the kernel): present wherever a glibc .node can run at all.
export const GLIBC_LIBS = /^(linux-vdso|ld-linux[-\w]*|libc|libm|libpthread|libdl|librt|libresolv|libutil|libmvec)\.so/;
// musl's libc (Alpine names it so), present wherever a musl .node can run.
export const MUSL_LIBS = /^(libc\.musl-[\w]+\.so\.1|ld-musl-[\w]+\.so\.1)$/;
// Part of Windows, or the node.exe that loads the addon.
export const WINDOWS_LIBS = /^(kernel32|msvcrt|ntdll|user32|advapi32|bcrypt|ws2_32|shell32|ole32|oleaut32|ucrtbase|api-ms-win-[\w-]+|node)\.(dll|exe)$/i;
const systemLib = (name) => GLIBC_LIBS.test(name) || MUSL_LIBS.test(name) || WINDOWS_LIBS.test(name);

/** Whether a file is a Windows (PE) binary: it starts with "MZ". */
export function isWindowsBinary(file) {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(2);
  fs.readSync(fd, head, 0, 2, 0);
  fs.closeSync(fd);
  return head.toString('latin1') === 'MZ';
}

/** The direct shared-library dependencies of a file: DT_NEEDED of an ELF file, the DLL imports of a PE file. */
export function neededLibs(file) {
  if (isWindowsBinary(file)) {
    const out = execFileSync('x86_64-w64-mingw32-objdump', ['-p', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
    return [...out.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]);
  }
  const out = execFileSync('readelf', ['-d', '--wide', file], { encoding: 'utf8' });
  return [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

/** Maps soname to file for every non-glibc library `files` need, directly or through each other. */
export function runtimeClosure(files, libDirs) {
  const found = new Map();
  const queue = [...files];
  while (queue.length) {
    for (const name of neededLibs(queue.shift())) {
      if (systemLib(name) || found.has(name)) continue;
      const dir = libDirs.find((d) => fs.existsSync(path.join(d, name)));
      if (!dir) throw new Error(`${name} is needed but not found in ${libDirs.join(', ')}`);
      const file = fs.realpathSync(path.join(dir, name));
      found.set(name, file);
      queue.push(file);
    }
  }
  return found;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const dir = path.resolve(process.argv[2] ?? 'build/Release');
  for (const f of fs.readdirSync(dir)) if (/\.so(\.\d+)*$|\.dll$/.test(f)) fs.rmSync(path.join(dir, f));
  const modules = fs.readdirSync(dir).filter((f) => f.endsWith('.node')).map((f) => path.join(dir, f));
  for (const [name, file] of runtimeClosure(modules, buildTarget().libDirs)) {
    const dest = path.join(dir, name);
    fs.copyFileSync(file, dest);
    if (isWindowsBinary(dest)) {
      process.stderr.write(`faiss-native: bundled ${name} (${file})\n`);
      continue;
    }
    const r = spawnSync('patchelf', ['--set-rpath', '$ORIGIN', dest], { stdio: 'inherit' });
    if (r.error || r.status !== 0) throw new Error('patchelf failed; it is needed to build (Debian: apt-get install patchelf)');
    process.stderr.write(`faiss-native: bundled ${name} (${file})\n`);
  }
}

// The platform a build is for: this machine's, or FAISS_NATIVE_TARGET_ARCH's when cross-compiling
// (arm64 from x64, inside the Debian 11 root of scripts/release/), and where its OpenBLAS is.
// FAISS_NATIVE_TARGET_LIBC=musl builds for musl (Alpine) with the toolchain folder named by
// FAISS_NATIVE_MUSL_TOOLCHAIN (scripts/release/musl-toolchain.mjs: bin/gcc, bin/g++, lib/).
// FAISS_NATIVE_TARGET_OS=win32 builds for Windows x64 with MinGW-w64 and the toolchain folder
// named by FAISS_NATIVE_WINDOWS_TOOLCHAIN (scripts/release/windows-toolchain.mjs: mingw.cmake,
// lib/, and the FAISS source patch for GCC on Windows).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const TARGETS = {
  // FAISS_OPT_LEVEL=avx512 makes FAISS's CMake build generic, avx2 and avx512 libraries at once.
  x64: { triplet: 'x86_64-linux-gnu', cmakeProcessor: 'x86_64', optLevel: 'avx512', variants: ['generic', 'avx2', 'avx512'] },
  // NEON is part of the arm64 baseline, so FAISS's generic build already uses it.
  arm64: { triplet: 'aarch64-linux-gnu', cmakeProcessor: 'aarch64', optLevel: 'generic', variants: ['generic'] },
};

const hasOpenblas = (dir) => fs.existsSync(path.join(dir, 'libopenblas.so'));

/** The folders the target's compiler links from, in its order (a cross compiler's included). */
function linkerDirs(cc) {
  const r = spawnSync(cc, ['-print-search-dirs'], { encoding: 'utf8' });
  const line = r.status === 0 ? r.stdout.split('\n').find((l) => l.startsWith('libraries: =')) : undefined;
  if (!line) return [];
  return [...new Set(line.slice('libraries: ='.length).split(':').filter(Boolean).map((d) => path.resolve(d)))];
}

/**
 * The folder of the OpenMP build of OpenBLAS (libopenblas.so), or null when none is installed:
 * FAISS_NATIVE_OPENBLAS_DIR when set; else an `openblas-openmp` folder on the compiler's library
 * path (Debian and Ubuntu install it there, beside the pthread build); else the folder
 * pkg-config's `openblas` names.
 */
export function findOpenblas(cc) {
  const chosen = process.env.FAISS_NATIVE_OPENBLAS_DIR;
  if (chosen) {
    if (!hasOpenblas(chosen)) throw new Error(`FAISS_NATIVE_OPENBLAS_DIR=${chosen} holds no libopenblas.so`);
    return fs.realpathSync(chosen);
  }
  const dirs = linkerDirs(cc);
  const openmp = dirs.map((d) => path.join(d, 'openblas-openmp')).find(hasOpenblas);
  // The real path: where /lib links to /usr/lib, the same folder has one name (and one cache key).
  if (openmp) return fs.realpathSync(openmp);
  const env = { ...process.env, PKG_CONFIG_PATH: dirs.map((d) => path.join(d, 'pkgconfig')).join(':') };
  const pc = spawnSync('pkg-config', ['--variable=libdir', 'openblas'], { encoding: 'utf8', env });
  const libdir = pc.status === 0 ? pc.stdout.trim() : '';
  return libdir && hasOpenblas(libdir) ? fs.realpathSync(libdir) : null;
}

/** The Windows x64 target: MinGW-w64 from the toolchain folder FAISS_NATIVE_WINDOWS_TOOLCHAIN names. */
function windowsTarget() {
  const dir = process.env.FAISS_NATIVE_WINDOWS_TOOLCHAIN;
  if (!dir || !fs.existsSync(path.join(dir, 'mingw.cmake'))) throw new Error('a Windows build needs FAISS_NATIVE_WINDOWS_TOOLCHAIN (scripts/release/windows-toolchain.mjs)');
  const tool = (name) => `x86_64-w64-mingw32-${name}`;
  const lib = path.join(dir, 'lib');
  return { arch: 'x64', libc: 'msvcrt', platform: 'win32-x64', ...TARGETS.x64, triplet: 'x86_64-w64-mingw32', cross: true,
    cc: tool('gcc-posix'), cxx: tool('g++-posix'), ar: tool('gcc-ar-posix'), strip: tool('strip'),
    cmakeToolchain: path.join(dir, 'mingw.cmake'), faissPatch: path.join(dir, 'faiss.patch'),
    openblasDir: lib, blasLibrary: path.join(lib, 'libopenblas.dll.a'), libDirs: [lib] };
}

/** { arch, libc, platform, triplet, variants, optLevel, cross, cc, cxx, strip, openblasDir, blasLibrary, libDirs } for the build at hand. */
export function buildTarget() {
  if (process.env.FAISS_NATIVE_TARGET_OS === 'win32') return windowsTarget();
  const arch = process.env.FAISS_NATIVE_TARGET_ARCH || process.arch;
  const libc = process.env.FAISS_NATIVE_TARGET_LIBC || 'glibc';
  const t = TARGETS[arch];
  if (process.platform !== 'linux' || !t || !['glibc', 'musl'].includes(libc)) {
    throw new Error(`building from source is supported on linux-x64 and linux-arm64 only (this is ${process.platform}-${arch})`);
  }
  const platform = `linux-${arch}${libc === 'musl' ? '-musl' : ''}`;
  if (libc === 'musl') {
    const dir = process.env.FAISS_NATIVE_MUSL_TOOLCHAIN;
    if (!dir || !fs.existsSync(path.join(dir, 'bin', 'g++'))) throw new Error('a musl build needs FAISS_NATIVE_MUSL_TOOLCHAIN (scripts/release/musl-toolchain.mjs)');
    const bin = (tool) => path.join(dir, 'bin', tool);
    // The toolchain's lib/ holds musl and the runtimes (OpenBLAS among them) the build links and ships.
    return { arch, libc, platform, ...t, cross: true, cc: bin('gcc'), cxx: bin('g++'), ar: bin('ar'), strip: bin('strip'),
      openblasDir: path.join(dir, 'lib'), blasLibrary: path.join(dir, 'lib', 'libopenblas.so'), libDirs: [path.join(dir, 'lib')] };
  }
  const cross = arch !== process.arch;
  const tool = (name) => (cross ? `${t.triplet}-${name}` : name);
  const cc = process.env.CC || tool('gcc');
  // The OpenMP build of OpenBLAS: the pthread build inside FAISS's OpenMP regions oversubscribes.
  const openblasDir = findOpenblas(cc);
  return {
    arch,
    libc,
    platform,
    ...t,
    cross,
    cc,
    cxx: process.env.CXX || tool('g++'),
    ar: tool('ar'),
    strip: tool('strip'),
    openblasDir,
    blasLibrary: openblasDir && path.join(openblasDir, 'libopenblas.so'),
    // Where the runtime libraries to bundle are found: OpenBLAS's folder, the target's Debian
    // multiarch folders, and last the cross compiler's own.
    libDirs: [openblasDir, `/usr/lib/${t.triplet}`, `/lib/${t.triplet}`, `/usr/${t.triplet}/lib`].filter(Boolean),
  };
}

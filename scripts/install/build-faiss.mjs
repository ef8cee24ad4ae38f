#!/usr/bin/env node
// Builds the pinned FAISS as static PIC libraries (x64: generic, avx2 and avx512 variants;
// arm64: generic) and caches them outside the checkout, keyed by version, flags and compiler.
// FAISS_NATIVE_TARGET_ARCH=arm64 cross-compiles (scripts/install/target.mjs).
//
//   node scripts/install/build-faiss.mjs            build if needed, print a summary
//   node scripts/install/build-faiss.mjs --prefix   build if needed, print only the install prefix
//   node scripts/install/build-faiss.mjs --variants print the SIMD variants the prefix holds
//   node scripts/install/build-faiss.mjs --openblas-dir   print where the OpenBLAS linked against lives
//
// Progress goes to stderr so that --prefix can be used by binding.gyp's command expansion.
import { spawnSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAISS_VERSION, faissVersionOf, obtainFaissSource } from './faiss-source.mjs';
import { ensureSystemDeps } from './system-deps.mjs';
import { buildTarget } from './target.mjs';

const LIB_OF = { generic: 'faiss', avx2: 'faiss_avx2', avx512: 'faiss_avx512' };
// Applied to FAISS on every target (then a target's own patch, Windows'): HNSW's parallel add
// writing each id of a shrunk neighbour list whole, and IVF-PQ FastScan's reader leaving its
// precomputed table to the caller under IO_FLAG_SKIP_PRECOMPUTE_TABLE, as IVF-PQ's does (the
// binding builds it once the sizes it reads from passed the checks; the patch says why).
const FAISS_PATCH = path.join(path.dirname(fileURLToPath(import.meta.url)), `faiss-${FAISS_VERSION}.patch`);
const patchesOf = (target) => [FAISS_PATCH, target.faissPatch].filter(Boolean);
const hashOf = (files) => createHash('sha256').update(files.map((f) => fs.readFileSync(f, 'utf8')).join('\0')).digest('hex').slice(0, 12);

function cmakeFlags(target) {
  const flags = [
    '-DCMAKE_BUILD_TYPE=Release',
    '-DBUILD_SHARED_LIBS=OFF',
    '-DCMAKE_POSITION_INDEPENDENT_CODE=ON',
    `-DFAISS_OPT_LEVEL=${target.optLevel}`,
    '-DFAISS_ENABLE_GPU=OFF',
    '-DFAISS_ENABLE_PYTHON=OFF',
    '-DFAISS_ENABLE_C_API=OFF',
    '-DFAISS_ENABLE_EXTRAS=OFF',
    '-DFAISS_ENABLE_MKL=OFF',
    '-DBUILD_TESTING=OFF',
    '-DBLA_VENDOR=OpenBLAS',
    `-DCMAKE_PREFIX_PATH=${target.openblasDir}`,
    `-DBLAS_LIBRARIES=${target.blasLibrary}`,
    `-DLAPACK_LIBRARIES=${target.blasLibrary}`,
  ];
  if (target.cmakeToolchain) {
    flags.push(`-DCMAKE_TOOLCHAIN_FILE=${target.cmakeToolchain}`);
  } else if (target.cross) {
    flags.push('-DCMAKE_SYSTEM_NAME=Linux', `-DCMAKE_SYSTEM_PROCESSOR=${target.cmakeProcessor}`,
      `-DCMAKE_C_COMPILER=${target.cc}`, `-DCMAKE_CXX_COMPILER=${target.cxx}`, `-DCMAKE_AR=${arPath(target.ar)}`);
  }
  return flags;
}

const log = (msg) => process.stderr.write(`faiss-native: ${msg}\n`);
// CMake wants the archiver as a path.
const arPath = (ar) => (path.isAbsolute(ar) ? ar : spawnSync('sh', ['-c', `command -v ${ar}`], { encoding: 'utf8' }).stdout.trim() || ar);

export function cacheRoot() {
  if (process.env.FAISS_NATIVE_CACHE) return path.resolve(process.env.FAISS_NATIVE_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'faiss-native');
}

function compilerId(target) {
  const cxx = target.cross ? target.cxx : process.env.CXX || 'c++';
  const r = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`no C++ compiler (${cxx}); install g++ (Debian: apt-get install g++)`);
  return r.stdout.split('\n')[0];
}

/** Variants present under an install prefix (a user's FAISS may have only the generic one). */
export function variantsIn(prefix) {
  const libdir = ['lib', 'lib64'].map((d) => path.join(prefix, d)).find((d) => fs.existsSync(d));
  if (!libdir) return [];
  return Object.keys(LIB_OF).filter((v) => ['a', 'so'].some((ext) => fs.existsSync(path.join(libdir, `lib${LIB_OF[v]}.${ext}`))));
}

/**
 * Runs a command, handing each line it prints to onLine(line, seconds since start) instead of
 * echoing it; on failure prints its last 40 lines. Resolves when it exits with 0.
 */
export function runQuietly(cmd, args, options, onLine) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = [];
    const started = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream.on('data', (chunk) => {
        buf += chunk;
        const lines = buf.split('\n');
        buf = lines.pop();
        for (const line of lines) {
          tail.push(line);
          if (tail.length > 40) tail.shift();
          onLine(line, Math.round((Date.now() - started) / 1000));
        }
      });
    }
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve();
      process.stderr.write(tail.join('\n') + '\n');
      reject(new Error(`${cmd} ${args.join(' ')} failed with exit code ${code}`));
    });
  });
}

/** Runs the build, printing throttled progress ("[ 42%]") instead of hundreds of compiler lines. */
function runWithProgress(cmd, args, cwd, label) {
  let lastPct = -1;
  let lastTime = 0;
  return runQuietly(cmd, args, { cwd }, (line, seconds) => {
    const m = /^\[\s*(\d+)\/(\d+)\]|^\[\s*(\d+)%\]/.exec(line);
    if (!m) return;
    const pct = m[3] !== undefined ? Number(m[3]) : Math.floor((100 * Number(m[1])) / Number(m[2]));
    if (pct >= lastPct + 5 || seconds - lastTime > 20) {
      lastPct = pct;
      lastTime = seconds;
      log(`${label}: ${pct}% (${seconds} s)`);
    }
  });
}

function cacheKey(target) {
  const h = createHash('sha256');
  h.update(JSON.stringify({ FAISS_VERSION, CMAKE_FLAGS: cmakeFlags(target), compiler: compilerId(target), cxx: process.env.CXXFLAGS || '',
    patches: hashOf(patchesOf(target)) }));
  // glibc x64 has no platform in its name.
  const platform = target.platform === 'linux-x64' ? '' : `${target.platform.replace(/^linux-/, '')}-`;
  return `faiss-${FAISS_VERSION}-${platform}${h.digest('hex').slice(0, 12)}`;
}

/** The FAISS source with the patches applied, in order (a copy, cached by their hash). */
function patchedSource(src, patches) {
  const dir = `${src}-patched-${hashOf(patches)}`;
  if (fs.existsSync(dir)) return dir;
  const scratch = `${dir}.tmp-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.cpSync(src, scratch, { recursive: true });
  for (const patch of patches) {
    const r = spawnSync('patch', ['-p1', '-s', '-d', scratch, '-i', path.resolve(patch)], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`the patch ${patch} does not apply to ${src}`);
  }
  fs.renameSync(scratch, dir);
  return dir;
}

/** Returns the install prefix of a FAISS build with all variants, building it on a cache miss. */
export async function ensureFaiss() {
  const userPrefix = process.env.FAISS_PREFIX || process.env.npm_config_faiss_prefix;
  if (userPrefix) {
    if (!variantsIn(userPrefix).length) throw new Error(`FAISS_PREFIX=${userPrefix} holds no libfaiss under lib/ or lib64/`);
    return path.resolve(userPrefix);
  }
  ensureSystemDeps();
  const target = buildTarget();
  const prefix = path.join(cacheRoot(), cacheKey(target));
  if (variantsIn(prefix).length === target.variants.length) return prefix;

  const src = patchedSource(await obtainFaissSource(cacheRoot(), log), patchesOf(target));
  // Build in a scratch folder and rename at the end, so a killed build never leaves a half cache.
  const scratch = `${prefix}.tmp-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  const buildDir = path.join(scratch, 'build');
  fs.mkdirSync(buildDir, { recursive: true });
  const generator = spawnSync('ninja', ['--version']).status === 0 ? ['-G', 'Ninja'] : [];
  const jobs = String(Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
  const t0 = Date.now();
  log(`building FAISS ${FAISS_VERSION} for ${target.platform} (${target.variants.join(', ')} static libraries) into ${prefix}`);
  log(`this takes several minutes on first install and is cached afterwards`);
  await runWithProgress('cmake', ['-S', src, '-B', buildDir, ...generator, ...cmakeFlags(target),
    `-DCMAKE_INSTALL_PREFIX=${scratch}/install`], scratch, 'configure');
  await runWithProgress('cmake', ['--build', buildDir, '--parallel', jobs, '--target', ...target.variants.map((v) => LIB_OF[v])],
    scratch, 'compile');
  await runWithProgress('cmake', ['--install', buildDir], scratch, 'install');
  fs.renameSync(path.join(scratch, 'install'), prefix);
  fs.rmSync(scratch, { recursive: true, force: true });
  log(`FAISS built in ${Math.round((Date.now() - t0) / 1000)} s`);
  return prefix;
}

/** FAISS 1.13 and newer need C++20 in code that includes its headers. */
export function cxxStandardFor(prefix) {
  const [major, minor] = (faissVersionOf(prefix) ?? FAISS_VERSION).split('.').map(Number);
  return major > 1 || minor >= 13 ? 'c++20' : 'c++17';
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    if (process.argv.includes('--openblas-dir')) {
      const dir = buildTarget().openblasDir;
      if (!dir) throw new Error('no OpenBLAS found (Debian: apt-get install libopenblas-openmp-dev; or set FAISS_NATIVE_OPENBLAS_DIR)');
      process.stdout.write(dir + '\n');
      process.exit(0);
    }
    const prefix = await ensureFaiss();
    if (process.argv.includes('--prefix')) process.stdout.write(prefix + '\n');
    else if (process.argv.includes('--variants')) process.stdout.write(variantsIn(prefix).join(' ') + '\n');
    else if (process.argv.includes('--cxx-std')) process.stdout.write(cxxStandardFor(prefix) + '\n');
    else log(`FAISS ${FAISS_VERSION} ready at ${prefix} (variants: ${variantsIn(prefix).join(', ')})`);
  } catch (err) {
    log(`error: ${err.message}`);
    process.exit(1);
  }
}

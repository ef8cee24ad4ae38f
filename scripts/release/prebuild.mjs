#!/usr/bin/env node
// `npm run prebuild`: the prebuilt binaries of the npm packages, one folder per platform under
// prebuilds/, each with the runtime libraries it needs beside the .node files:
//   linux-x64, linux-arm64   built inside the Debian 11 root (scripts/release/debian-root.mjs),
//                            so that they need glibc 2.31 at most, every file then lowered to
//                            glibc 2.28 by glibc-floor.mjs (arm64 cross-compiled);
//   linux-x64-musl,          built on this machine with the musl toolchain
//   linux-arm64-musl         (scripts/release/musl-toolchain.mjs; arm64 with the aarch64 cross g++);
//   win32-x64                cross-compiled on this machine with MinGW-w64
//                            (scripts/release/windows-toolchain.mjs) through CMakeLists.txt.
// x64 has generic, avx2 and avx512 variants; arm64 generic only.
//
//   node scripts/release/prebuild.mjs [--platform linux-x64,linux-arm64,linux-x64-musl,linux-arm64-musl,win32-x64]
//
// Each build runs this script with --inside: for Linux, prebuildify (--napi --strip) once per
// SIMD variant, in a staging copy of the sources so that the development build/ is left alone.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, ensureFaiss, variantsIn } from '../install/build-faiss.mjs';
import { obtainFaissSource } from '../install/faiss-source.mjs';
import { offlineEnv } from '../install/node-gyp.mjs';
import { buildTarget } from '../install/target.mjs';
import { BUILD_NODE, ensureHostTool, ensureRoot, inRoot } from './debian-root.mjs';
import { relaxGlibcVersions } from './glibc-floor.mjs';
import { ensureMuslToolchain } from './musl-toolchain.mjs';
import { ensureWindowsToolchain } from './windows-toolchain.mjs';
import { platformFields } from './release-pack.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = (msg) => process.stderr.write(`faiss-native: ${msg}\n`);
const argValue = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

/** Builds FAISS for the target (cached), then the addon's variants into prebuilds/<platform>. */
async function prebuildHere() {
  const target = buildTarget();
  const prefix = await ensureFaiss();
  const out = path.join(root, 'prebuilds', target.platform);
  fs.rmSync(out, { recursive: true, force: true });
  if (target.platform === 'win32-x64') buildWithCmake(out);
  else prebuildify(target, prefix, out);
  const files = fs.readdirSync(out).map((f) => `${f} ${(fs.statSync(path.join(out, f)).size / 1e6).toFixed(1)} MB`);
  log(`prebuilds in ${path.relative(root, out)}:\n  ${files.join('\n  ')}`);
}

/**
 * Windows: CMakeLists.txt with the MinGW-w64 toolchain file, Node-API's headers from this Node
 * and its import library from the toolchain; every variant, and the DLLs beside them.
 */
function buildWithCmake(out) {
  const tools = ensureWindowsToolchain();
  const build = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-prebuild-'));
  try {
    const nodeInclude = path.join(path.dirname(process.execPath), '..', 'include', 'node');
    const run = (args) => {
      const r = spawnSync('cmake', args, { stdio: 'inherit', cwd: root });
      if (r.status !== 0) throw new Error(`cmake ${args.join(' ')} failed`);
    };
    const generator = spawnSync('ninja', ['--version']).status === 0 ? ['-G', 'Ninja'] : [];
    run(['-S', root, '-B', build, ...generator, '-DCMAKE_BUILD_TYPE=Release', `-DCMAKE_TOOLCHAIN_FILE=${tools.cmakeToolchain}`,
      `-DCMAKE_JS_INC=${nodeInclude}`, `-DCMAKE_JS_LIB=${tools.nodeImport}`]);
    run(['--build', build, '--parallel', String(os.availableParallelism?.() ?? 2)]);
    fs.mkdirSync(out, { recursive: true });
    for (const f of fs.readdirSync(build).filter((f) => /\.(node|dll)$/.test(f))) fs.copyFileSync(path.join(build, f), path.join(out, f));
  } finally {
    fs.rmSync(build, { recursive: true, force: true });
  }
}

/** Linux: prebuildify, once per variant, in a staging copy of the sources. */
function prebuildify(target, prefix, out) {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-prebuild-'));
  try {
    for (const entry of ['binding.gyp', 'package.json', 'native', 'scripts/install']) {
      fs.cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'));
    const prebuildify = path.join(root, 'node_modules', 'prebuildify', 'bin.js');
    for (const level of variantsIn(prefix)) {
      log(`prebuilding the ${target.platform} ${level} variant`);
      const env = offlineEnv({ npm_config_faiss_prefix: prefix, npm_config_faiss_opt_level: level, npm_config_faiss_libc: target.libc });
      env.PREBUILD_NODE_GYP = env.npm_config_node_gyp;
      env.PREBUILD_STRIP_BIN = target.strip;
      if (target.cross) Object.assign(env, { CC: target.cc, CXX: target.cxx, LINK: target.cxx, AR: target.ar });
      // --out on the staging file system: prebuildify moves files with rename(2).
      const args = [prebuildify, '--napi', '--strip', '--arch', target.arch, '--name', `faiss_native_${level}`, '--cwd', stage, '--out', stage];
      const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
      if (r.status !== 0) throw new Error(`prebuildify failed for ${target.platform} ${level}`);
    }
    fs.cpSync(path.join(stage, 'prebuilds', `linux-${target.arch}`), out, { recursive: true });
    // The runtime libraries bundle-runtime.mjs put beside the .node files (prebuildify takes
    // only some names: not the wheel's libstdc++-5d72f927.so.6.0.33, say).
    const built = path.join(stage, 'build', 'Release');
    for (const f of fs.readdirSync(built).filter((f) => /\.so(\.\d+)*$/.test(f))) fs.copyFileSync(path.join(built, f), path.join(out, f));
    for (const f of target.libc === 'glibc' ? fs.readdirSync(out) : []) {
      const relaxed = relaxGlibcVersions(path.join(out, f));
      if (relaxed.length) log(`${f}: ${relaxed.join(', ')} now bind to the loading glibc's default version`);
    }
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/** glibc platforms: the root, the FAISS source, then one build per architecture inside the root. */
async function prebuildInRoot(arch) {
  const debianRoot = await ensureRoot();
  const faissSource = await obtainFaissSource(cacheRoot(), log);
  log(`building the linux-${arch} prebuilds inside ${debianRoot}`);
  const r = inRoot(debianRoot, [`${BUILD_NODE}/bin/node`, '/src/scripts/release/prebuild.mjs', '--inside'], {
    binds: [[root, '/src'], [faissSource, '/faiss-src']],
    env: { FAISS_SOURCE_DIR: '/faiss-src', FAISS_NATIVE_TARGET_ARCH: arch },
  });
  if (r.status !== 0) throw new Error(`the linux-${arch} prebuild failed inside the Debian 11 root`);
}

/** win32-x64: on this machine, with MinGW-w64. */
function prebuildWindows() {
  const tools = ensureWindowsToolchain();
  const env = { ...process.env, FAISS_NATIVE_TARGET_OS: 'win32', FAISS_NATIVE_WINDOWS_TOOLCHAIN: tools.dir };
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--inside'], { stdio: 'inherit', env });
  if (r.status !== 0) throw new Error('the win32-x64 prebuild failed');
}

/** musl platforms: on this machine, with the musl toolchain (any glibc builds them alike). */
async function prebuildMusl(arch) {
  if (arch !== process.arch) ensureHostTool('aarch64-linux-gnu-g++', 'g++-aarch64-linux-gnu');
  const tools = await ensureMuslToolchain(arch);
  const env = { ...process.env, FAISS_NATIVE_TARGET_ARCH: arch, FAISS_NATIVE_TARGET_LIBC: 'musl', FAISS_NATIVE_MUSL_TOOLCHAIN: tools.dir };
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--inside'], { stdio: 'inherit', env });
  if (r.status !== 0) throw new Error(`the linux-${arch}-musl prebuild failed`);
}

try {
  if (process.argv.includes('--inside')) {
    await prebuildHere();
  } else {
    // The platforms the loader knows binaries for (lib/load-error.ts, compiled by `npm install`).
    const { PREBUILT_PLATFORMS } = createRequire(import.meta.url)(path.join(root, 'dist', 'load-error.js'));
    for (const platform of argValue('--platform', PREBUILT_PLATFORMS.join(',')).split(',')) {
      if (!PREBUILT_PLATFORMS.includes(platform)) throw new Error(`unknown platform ${platform} (known: ${PREBUILT_PLATFORMS.join(', ')})`);
      const t0 = Date.now();
      const { os: [system], cpu, libc } = platformFields(platform);
      if (system === 'win32') prebuildWindows();
      else if (libc[0] === 'musl') await prebuildMusl(cpu[0]);
      else await prebuildInRoot(cpu[0]);
      log(`${platform} prebuilds done in ${Math.round((Date.now() - t0) / 1000)} s`);
    }
  }
} catch (err) {
  log(`error: ${err.message}`);
  process.exit(1);
}

#!/usr/bin/env node
// `npm run prebuild`: the prebuilt binaries of the npm package, built inside the Debian 11 root
// (scripts/release/debian-root.mjs) so that they need glibc 2.31 at most, for linux-x64 (generic,
// avx2 and avx512 variants) and linux-arm64 (generic, cross-compiled). Each arch lands in
// prebuilds/linux-<arch>/ with the runtime libraries it needs (OpenBLAS, libgomp, libgfortran),
// every file lowered to glibc 2.28 by glibc-floor.mjs.
//
//   node scripts/release/prebuild.mjs [--arch x64,arm64]
//
// Inside the root the same script runs with --inside: prebuildify (--napi --strip) once per
// SIMD variant, in a staging copy of the sources so that the development build/ is left alone.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, ensureFaiss, variantsIn } from '../install/build-faiss.mjs';
import { obtainFaissSource } from '../install/faiss-source.mjs';
import { offlineEnv } from '../install/node-gyp.mjs';
import { buildTarget } from '../install/target.mjs';
import { BUILD_NODE, ensureRoot, inRoot } from './debian-root.mjs';
import { relaxGlibcVersions } from './glibc-floor.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = (msg) => process.stderr.write(`faiss-native: ${msg}\n`);
const argValue = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

/** Inside the root: builds FAISS for the target (cached in the root) and prebuildifies each variant. */
async function prebuildHere() {
  const target = buildTarget();
  const prefix = await ensureFaiss();
  const out = path.join(root, 'prebuilds', `linux-${target.arch}`);
  fs.rmSync(out, { recursive: true, force: true });
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-prebuild-'));
  try {
    for (const entry of ['binding.gyp', 'package.json', 'native', 'scripts/install']) {
      fs.cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'));
    const prebuildify = path.join(root, 'node_modules', 'prebuildify', 'bin.js');
    for (const level of variantsIn(prefix)) {
      log(`prebuilding the ${target.arch} ${level} variant`);
      const env = offlineEnv({ npm_config_faiss_prefix: prefix, npm_config_faiss_opt_level: level });
      env.PREBUILD_NODE_GYP = env.npm_config_node_gyp;
      env.PREBUILD_STRIP_BIN = target.strip;
      if (target.cross) Object.assign(env, { CC: target.cc, CXX: target.cxx, LINK: target.cxx, AR: `${target.triplet}-ar` });
      // --out on the staging file system: prebuildify moves files with rename(2).
      const args = [prebuildify, '--napi', '--strip', '--arch', target.arch, '--name', `faiss_native_${level}`, '--cwd', stage, '--out', stage];
      const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
      if (r.status !== 0) throw new Error(`prebuildify failed for ${target.arch} ${level}`);
    }
    fs.cpSync(path.join(stage, 'prebuilds', `linux-${target.arch}`), out, { recursive: true });
    for (const f of fs.readdirSync(out)) {
      const relaxed = relaxGlibcVersions(path.join(out, f));
      if (relaxed.length) log(`${f}: ${relaxed.join(', ')} now bind to the loading glibc's default version`);
    }
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
  const files = fs.readdirSync(out).map((f) => `${f} ${(fs.statSync(path.join(out, f)).size / 1e6).toFixed(1)} MB`);
  log(`prebuilds in ${path.relative(root, out)}:\n  ${files.join('\n  ')}`);
}

/** On this machine: the root, the FAISS source, then one build per architecture inside the root. */
async function prebuildInRoot(arches) {
  const debianRoot = await ensureRoot();
  const faissSource = await obtainFaissSource(cacheRoot(), log);
  for (const arch of arches) {
    const t0 = Date.now();
    log(`building the linux-${arch} prebuilds inside ${debianRoot}`);
    const r = inRoot(debianRoot, [`${BUILD_NODE}/bin/node`, '/src/scripts/release/prebuild.mjs', '--inside'], {
      binds: [[root, '/src'], [faissSource, '/faiss-src']],
      env: { FAISS_SOURCE_DIR: '/faiss-src', FAISS_NATIVE_TARGET_ARCH: arch },
    });
    if (r.status !== 0) throw new Error(`the linux-${arch} prebuild failed inside the Debian 11 root`);
    log(`linux-${arch} prebuilds done in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
}

try {
  if (process.argv.includes('--inside')) await prebuildHere();
  else await prebuildInRoot(argValue('--arch', 'x64,arm64').split(','));
} catch (err) {
  log(`error: ${err.message}`);
  process.exit(1);
}

#!/usr/bin/env node
// `npm run prebuild`: prebuildify (--napi --strip) once per SIMD variant into
// prebuilds/<platform>-<arch>/faiss_native_<level>.node, with the bundled runtime libraries.
// Builds in a staging copy of the sources so that the development build/ is left alone.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureFaiss, variantsIn } from './build-faiss.mjs';
import { offlineEnv } from './node-gyp.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`faiss-native: ${msg}\n`);

const prefix = await ensureFaiss();
const out = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
fs.rmSync(out, { recursive: true, force: true });
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-prebuild-'));
try {
  for (const entry of ['binding.gyp', 'package.json', 'native', 'scripts']) {
    fs.cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'));
  const prebuildify = path.join(root, 'node_modules', 'prebuildify', 'bin.js');
  for (const level of variantsIn(prefix)) {
    log(`prebuilding the ${level} variant`);
    const env = offlineEnv({ npm_config_faiss_prefix: prefix, npm_config_faiss_opt_level: level });
    env.PREBUILD_NODE_GYP = env.npm_config_node_gyp;
    const args = [prebuildify, '--napi', '--strip', '--name', `faiss_native_${level}`, '--cwd', stage, '--out', root];
    const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
    if (r.status !== 0) throw new Error(`prebuildify failed for ${level}`);
  }
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
const files = fs.readdirSync(out).map((f) => `${f} ${(fs.statSync(path.join(out, f)).size / 1e6).toFixed(1)} MB`);
log(`prebuilds in ${path.relative(root, out)}:\n  ${files.join('\n  ')}`);

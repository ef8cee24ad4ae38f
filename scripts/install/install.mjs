#!/usr/bin/env node
// `npm install` step. Where a prebuilt addon loads, nothing else runs: no compiler, apt, cargo
// or git. Otherwise, or with `npm install --build-from-source` (npm_config_build_from_source)
// or FAISS_NATIVE_BUILD_FROM_SOURCE=1, FAISS (cached) and the addon are built from source.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureFaiss } from './build-faiss.mjs';
import { runNodeGyp } from './node-gyp.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = (msg) => process.stderr.write(`faiss-native: ${msg}\n`);
const truthy = (v) => v !== undefined && v !== '' && v !== '0' && v !== 'false';

/**
 * Whether the prebuilt generic variant loads in a child process (its bundled libraries resolve
 * and the C library is new enough); when it does not, the loader's reason. The binaries are the
 * platform's package (@faiss-native/<platform>, an optional dependency npm picks by os, cpu and
 * libc) or, in a checkout after `npm run prebuild`, prebuilds/<platform>. Only generic is tried:
 * a higher variant's static initialisers may use instructions this CPU lacks.
 */
function tryPrebuilt() {
  const names = path.join(root, 'dist', 'load-error.js');
  if (!fs.existsSync(names)) return { loads: false, why: 'a checkout without compiled TypeScript' };
  const { platform, prebuiltDirs } = createRequire(import.meta.url)(names);
  const file = prebuiltDirs(root).map((d) => path.join(d, 'faiss_native_generic.node')).find((f) => fs.existsSync(f));
  if (!file) return { loads: false, why: `no prebuilt addon for ${platform}` };
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { encoding: 'utf8' });
  return { loads: r.status === 0, why: r.stderr.split('\n').find((l) => /Error/.test(l)) ?? `exit code ${r.status}` };
}

try {
  const forced = truthy(process.env.FAISS_NATIVE_BUILD_FROM_SOURCE) || truthy(process.env.npm_config_build_from_source);
  const prebuilt = forced ? { loads: false, why: 'a build from source was asked for' } : tryPrebuilt();
  if (prebuilt.loads) {
    log('using the prebuilt addon');
  } else {
    log(`building from source (${prebuilt.why.trim()})`);
    const t0 = Date.now();
    const prefix = await ensureFaiss();
    log('building the addon with node-gyp');
    runNodeGyp(['rebuild', '--release'], { npm_config_faiss_prefix: prefix });
    log(`addon built in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
} catch (err) {
  log(`error: ${err.message}`);
  process.exit(1);
}

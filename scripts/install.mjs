#!/usr/bin/env node
// `npm install` step: use the prebuilt addon when it loads here; otherwise build FAISS (cached)
// and the addon from source. FAISS_NATIVE_BUILD_FROM_SOURCE=1 skips the prebuilt check.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureFaiss } from './build-faiss.mjs';
import { runNodeGyp } from './node-gyp.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`faiss-native: ${msg}\n`);

/**
 * True when the prebuilt generic variant loads in a child process, i.e. its bundled shared
 * libraries resolve here. Only generic is tried: a higher variant's static initialisers may
 * use instructions this CPU lacks (the loader in lib/native.ts never loads those).
 */
function prebuiltLoads() {
  const file = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'faiss_native_generic.node');
  if (!fs.existsSync(file)) return false;
  return spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' }).status === 0;
}

try {
  if (!process.env.FAISS_NATIVE_BUILD_FROM_SOURCE && prebuiltLoads()) {
    log(`using the prebuilt addon for ${process.platform}-${process.arch}`);
  } else {
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

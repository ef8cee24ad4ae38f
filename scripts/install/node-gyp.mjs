// Runs node-gyp offline: npm's bundled copy, against the headers of the running Node.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** node-gyp's entry script: npm's own (npm sets npm_config_node_gyp), else the one beside npm. */
function nodeGypScript() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((f) => f && fs.existsSync(f));
  if (!found) throw new Error('node-gyp not found; it ships with npm (set npm_config_node_gyp to its bin/node-gyp.js)');
  return found;
}

/**
 * Environment that makes node-gyp (and prebuildify, which calls it) use the running Node's
 * installed headers instead of downloading them.
 */
export function offlineEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  const nodeDir = path.resolve(path.dirname(process.execPath), '..');
  if (!env.npm_config_nodedir && fs.existsSync(path.join(nodeDir, 'include', 'node', 'common.gypi'))) {
    env.npm_config_nodedir = nodeDir;
  }
  env.npm_config_node_gyp = nodeGypScript();
  return env;
}

export function runNodeGyp(args, extraEnv = {}) {
  const env = offlineEnv(extraEnv);
  const r = spawnSync(process.execPath, [env.npm_config_node_gyp, ...args], { stdio: 'inherit', env });
  if (r.status !== 0) throw new Error(`node-gyp ${args.join(' ')} failed`);
}

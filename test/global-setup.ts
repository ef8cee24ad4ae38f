// Before any spec: lib/ compiled to dist/ (with its ESM entries), which child processes and worker fixtures load (so
// they run the code as it is, not the last build), with a hash of the sources it was compiled
// from (test/dist-current.spec.ts checks it); and the Python reference environment the parity
// specs compare against (created once by scripts/check/python-reference.mjs;
// FAISS_NATIVE_SKIP_PARITY=1 skips it and them).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
// @ts-expect-error: a plain ES module without type declarations
import { ensurePythonReference } from '../scripts/check/python-reference.mjs';

const root = path.join(__dirname, '..');

/** A hash of every lib/ source, in name order. */
export function libHash(): string {
  const hash = createHash('sha256');
  for (const name of fs.readdirSync(path.join(root, 'lib')).sort()) {
    hash.update(name).update(fs.readFileSync(path.join(root, 'lib', name)));
  }
  return hash.digest('hex');
}

export default function setup(): void {
  const sources = libHash();
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root], { stdio: 'inherit' });
  execFileSync(process.execPath, [path.join(root, 'scripts', 'compile', 'esm-entries.mjs')], { stdio: 'inherit' });
  fs.writeFileSync(path.join(root, 'dist', 'lib-hash.txt'), `${sources}\n`);
  if (!process.env.FAISS_NATIVE_SKIP_PARITY) ensurePythonReference();
}

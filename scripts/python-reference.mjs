#!/usr/bin/env node
// Creates the Python reference environment for the parity specs: a virtualenv in
// .venv-python/ with faiss-cpu pinned to the FAISS version bundled here, and numpy.
//   node scripts/python-reference.mjs            create it if missing, print its python
// Idempotent: a venv whose faiss reports the right version is reused.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAISS_VERSION } from './faiss-source.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const VENV = path.join(root, '.venv-python');
export const PYTHON = path.join(VENV, 'bin', 'python');
const log = (msg) => process.stderr.write(`python-reference: ${msg}\n`);

function installedVersion() {
  if (!fs.existsSync(PYTHON)) return null;
  const r = spawnSync(PYTHON, ['-c', 'import faiss, numpy; print(faiss.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Returns the reference python, creating the venv on first use. */
export function ensurePythonReference() {
  if (installedVersion() === FAISS_VERSION) return PYTHON;
  log(`creating ${path.relative(root, VENV)} with faiss-cpu==${FAISS_VERSION} and numpy`);
  const python = process.env.PYTHON || 'python3';
  for (const [cmd, args] of [
    [python, ['-m', 'venv', '--clear', VENV]],
    [PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `faiss-cpu==${FAISS_VERSION}`, 'numpy']],
  ]) {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (needs python3 with venv, and PyPI)`);
  }
  const version = installedVersion();
  if (version !== FAISS_VERSION) throw new Error(`faiss in ${VENV} reports ${version}, expected ${FAISS_VERSION}`);
  return PYTHON;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    const python = ensurePythonReference();
    const info = spawnSync(python, ['-c', 'import faiss, numpy; print(faiss.__version__, numpy.__version__, faiss.get_compile_options())'], { encoding: 'utf8' });
    log(`ready: ${python} (faiss, numpy, options: ${info.stdout.trim()})`);
  } catch (err) {
    log(`error: ${err.message}`);
    process.exit(1);
  }
}

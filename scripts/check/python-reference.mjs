#!/usr/bin/env node
// Creates the Python reference environment for the parity specs: a virtualenv in
// .venv-python/ with faiss-cpu pinned to the FAISS version bundled here, numpy, and Python
// LangChain (whose saved FAISS stores the LangChain spec loads). Other faiss-cpu versions (the
// benchmarks compare with the newest too) go to .venv-python-<version>/, without LangChain.
//   node scripts/check/python-reference.mjs [version]   create it if missing, print its python
// Idempotent: a venv whose faiss reports the right version is reused.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAISS_VERSION } from '../install/faiss-source.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const venvOf = (version) => path.join(root, version === FAISS_VERSION ? '.venv-python' : `.venv-python-${version}`);
const pythonOf = (version) => path.join(venvOf(version), 'bin', 'python');
export const PYTHON = pythonOf(FAISS_VERSION);
const log = (msg) => process.stderr.write(`python-reference: ${msg}\n`);

const LANGCHAIN = 'langchain-community==0.4.2';
const packagesOf = (version) => [`faiss-cpu==${version}`, 'numpy', ...(version === FAISS_VERSION ? [LANGCHAIN] : [])];

function installedVersion(version) {
  if (!fs.existsSync(pythonOf(version))) return null;
  const imports = version === FAISS_VERSION ? 'faiss, numpy, langchain_community' : 'faiss, numpy';
  const r = spawnSync(pythonOf(version), ['-W', 'ignore', '-c', `import ${imports}; print(faiss.__version__)`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Creates (or recreates) a virtualenv in `venv` with `packages` from PyPI; returns its python. */
export function createVenv(venv, packages) {
  log(`creating ${path.relative(root, venv)} with ${packages.join(', ')}`);
  const python = path.join(venv, 'bin', 'python');
  for (const [cmd, args] of [
    [process.env.PYTHON || 'python3', ['-m', 'venv', '--clear', venv]],
    [python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...packages]],
  ]) {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (needs python3 with venv, and PyPI)`);
  }
  return python;
}

/** Returns the python of a venv with faiss-cpu==version (default: the bundled FAISS's, with LangChain), creating it on first use. */
export function ensurePythonReference(version = FAISS_VERSION) {
  const venv = venvOf(version);
  if (installedVersion(version) === version) return pythonOf(version);
  createVenv(venv, packagesOf(version));
  const got = installedVersion(version);
  if (got !== version) throw new Error(`faiss in ${venv} reports ${got}, expected ${version}`);
  return pythonOf(version);
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    const python = ensurePythonReference(process.argv[2]);
    const info = spawnSync(python, ['-c', 'import faiss, numpy; print(faiss.__version__, numpy.__version__, faiss.get_compile_options())'], { encoding: 'utf8' });
    log(`ready: ${python} (faiss, numpy, options: ${info.stdout.trim()})`);
  } catch (err) {
    log(`error: ${err.message}`);
    process.exit(1);
  }
}

#!/usr/bin/env node
// Runs the native paths (scripts/check/leak-check.mjs) on an AddressSanitizer build of the addon:
// invalid accesses abort with a report, and LeakSanitizer lists what was never freed.
//   node scripts/check/asan-check.mjs [cycles=300]
// Builds build-asan/ with cmake-js (the binding's own code instrumented; FAISS is the cached
// Release build), stages it beside a copy of dist/, runs with libasan preloaded, and counts
// the reports whose stacks pass through the binding or FAISS (Node's own exit-time
// allocations are not ours). Exits 1 on any invalid access or leak of ours.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cycles = process.argv[2] ?? '300';
const log = (msg) => process.stderr.write(`asan-check: ${msg}\n`);

log('building the addon with -fsanitize=address into build-asan/');
const flags = '-fsanitize=address -fno-omit-frame-pointer -g';
execFileSync(process.execPath, [path.join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js'), 'compile', '-O', 'build-asan',
  `--CDCMAKE_CXX_FLAGS=${flags}`, '--CDCMAKE_MODULE_LINKER_FLAGS=-fsanitize=address'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });

const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-asan-'));
try {
  fs.cpSync(path.join(root, 'dist'), path.join(stage, 'dist'), { recursive: true });
  fs.cpSync(path.join(root, 'build-asan', 'Release'), path.join(stage, 'build', 'Release'), { recursive: true });
  fs.mkdirSync(path.join(stage, 'scripts', 'check'), { recursive: true });
  fs.copyFileSync(path.join(root, 'scripts', 'check', 'leak-check.mjs'), path.join(stage, 'scripts', 'check', 'leak-check.mjs'));
  const libasan = execFileSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
  const logBase = path.join(stage, 'asan');
  const env = {
    ...process.env,
    LD_PRELOAD: libasan,
    ASAN_OPTIONS: `detect_leaks=1:log_path=${logBase}:exitcode=0:fast_unwind_on_malloc=0`,
    FAISS_OPT_LEVEL: 'avx2',
    // LeakSanitizer's exit-time scan crashes while OpenMP's worker threads are parked.
    OMP_NUM_THREADS: '1',
  };
  log(`running ${cycles} cycles of scripts/check/leak-check.mjs under AddressSanitizer`);
  const run = spawnSync(process.execPath, ['--expose-gc', path.join(stage, 'scripts', 'check', 'leak-check.mjs'), cycles, '--no-rss-limit'], { env, encoding: 'utf8' });
  process.stderr.write(run.stdout);
  if (run.status !== 0) process.stderr.write(run.stderr.slice(-3000));
  const reports = fs.readdirSync(stage).filter((f) => f.startsWith('asan.')).map((f) => fs.readFileSync(path.join(stage, f), 'utf8')).join('\n');
  const errors = reports.match(/ERROR: AddressSanitizer[^\n]*|LeakSanitizer has encountered a fatal error/g) ?? [];
  const leaks = reports.split(/\n(?=(?:Direct|Indirect) leak of )/).filter((b) => /^(Direct|Indirect) leak/.test(b));
  const ours = leaks.filter((b) => /faiss_native_|faiss::/.test(b));
  const summary = { cycles: Number(cycles), exitStatus: run.status, sanitizerErrors: errors.length, leakReports: leaks.length, leaksThroughBindingOrFaiss: ours.length };
  console.log(JSON.stringify(summary));
  for (const e of errors) console.log(e);
  for (const b of ours.slice(0, 5)) console.log(b.split('\n').slice(0, 14).join('\n'));
  if (run.status !== 0 || errors.length || ours.length) process.exit(1);
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}

#!/usr/bin/env node
// A sharded IVF index built by autofaiss 2.18.0 on Spark (pyspark local mode, 2 cores), as a
// distributed build would make it, for test/spark.spec.ts to serve with faiss-native: the
// shard files, Python faiss's search of each, their on-disk merge (merge_ondisk) and its search.
// Spark needs a JRE (JAVA_HOME, or java on the PATH). autofaiss, pyspark and faiss-cpu 1.12.0
// live in .venv-spark/ (created on first use: autofaiss pins numpy 1.x, so pyarrow < 16).
//   node scripts/spark/build-on-spark.mjs   builds the SIFT sample in 2 shards, prints the timings
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createVenv } from '../check/python-reference.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const SCRIPT = path.join(here, 'autofaiss_shards.py');
// The versions the build was checked with: pyspark 3.5 runs on Java 17; faiss-cpu is the FAISS
// bundled here, so its files and results compare with ours bit for bit.
const PACKAGES = ['autofaiss==2.18.0', 'pyarrow<16', 'pyspark==3.5.9', 'faiss-cpu==1.12.0'];
const venv = path.join(root, '.venv-spark');
export const PYTHON = path.join(venv, 'bin', 'python');

/**
 * The JRE Spark will run on: JAVA_HOME, else the home of the java on the PATH (the real file
 * behind /usr/bin/java and the like is <home>/bin/java), else null.
 */
export function javaHome() {
  if (process.env.JAVA_HOME) return process.env.JAVA_HOME;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      const java = fs.realpathSync(path.join(dir, 'java'));
      fs.accessSync(java, fs.constants.X_OK);
      return path.dirname(path.dirname(java));
    } catch {
      // not in this folder
    }
  }
  return null;
}

/** The .venv-spark python, with the venv created when its packages do not import. */
export function ensureSparkVenv() {
  const check = "import autofaiss, pyspark, faiss; assert faiss.__version__ == '1.12.0', faiss.__version__";
  if (spawnSync(PYTHON, ['-W', 'ignore', '-c', check], { stdio: 'ignore' }).status !== 0) {
    createVenv(venv, PACKAGES);
    const r = spawnSync(PYTHON, ['-W', 'ignore', '-c', check], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`.venv-spark was created but its packages do not import:\n${r.stderr}`);
  }
  return PYTHON;
}

/**
 * Runs autofaiss_shards.py on the embeddings (a folder of .npy files; ids are row positions
 * across them in name order) into outDir (new or empty), and returns its timings.json:
 * { indexKey, indexParam, sparkStartupSeconds, buildIndexSeconds, totalSeconds, shardNtotals }.
 * `env` adds variables for Python (the spec passes OPENBLAS_CORETYPE, as its parity harness
 * does); `verbose` echoes Spark's and autofaiss's progress to stderr.
 */
export async function buildOnSpark({ embeddingsDir, outDir, indexKey, indexParam, shards = 2, queriesPath, k = 10, metric = 'ip', env = {}, verbose = false }) {
  const java = javaHome();
  if (!java) throw new Error('Spark needs a JRE: set JAVA_HOME or put java on the PATH');
  const python = ensureSparkVenv();
  fs.mkdirSync(outDir, { recursive: true });
  const jobFile = path.join(outDir, 'job.json');
  const job = { embeddings: path.resolve(embeddingsDir), out: path.resolve(outDir), indexKey, indexParam, metric, shards, queries: path.resolve(queriesPath), k };
  fs.writeFileSync(jobFile, JSON.stringify(job, null, 1));
  const childEnv = {
    ...process.env,
    ...env,
    JAVA_HOME: java,
    // The executors' Python must be the driver's (the venv's), not whatever python3 is first on the PATH.
    PYSPARK_PYTHON: python,
    PYSPARK_DRIVER_PYTHON: python,
    // Spark otherwise resolves the host name for its driver and warns when it is a loopback one.
    SPARK_LOCAL_IP: '127.0.0.1',
    PYTHONUNBUFFERED: '1',
  };
  const stderr = [];
  const code = await new Promise((resolve, reject) => {
    const child = spawn(python, [SCRIPT, jobFile], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (chunk) => {
      stderr.push(chunk);
      if (verbose) process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve(signal ?? status));
  });
  if (code !== 0) {
    const tail = Buffer.concat(stderr).toString('utf8').split('\n').slice(-60).join('\n');
    throw new Error(`autofaiss_shards.py exited with ${code}:\n${tail}`);
  }
  return JSON.parse(fs.readFileSync(path.join(outDir, 'timings.json'), 'utf8'));
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    // The SIFT sample (4,500 base vectors, 500 queries) in 6 files, as the spec builds it.
    const require = createRequire(import.meta.url);
    const { writeNpy } = require(path.join(root, 'dist'));
    const { readSift } = require(path.join(root, 'test', 'data', 'vectors.cjs'));
    const { d, base, queries } = readSift();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-spark-'));
    const embeddingsDir = path.join(dir, 'embeddings');
    fs.mkdirSync(embeddingsDir);
    const n = base.length / d;
    const files = 6;
    for (let f = 0; f < files; f++) {
      const rows = base.subarray(((f * n) / files) * d, (((f + 1) * n) / files) * d);
      writeNpy(path.join(embeddingsDir, `part-${f}.npy`), rows, [rows.length / d, d]);
    }
    writeNpy(path.join(dir, 'queries.npy'), queries, [queries.length / d, d]);
    const timings = await buildOnSpark({ embeddingsDir, outDir: path.join(dir, 'out'), indexKey: 'IVF32,Flat', indexParam: 'nprobe=8', shards: 2, queriesPath: path.join(dir, 'queries.npy'), k: 10, verbose: true });
    console.log(JSON.stringify({ ...timings, files: path.join(dir, 'out') }, null, 1));
  } catch (err) {
    process.stderr.write(`build-on-spark: ${err.message}\n`);
    process.exit(1);
  }
}

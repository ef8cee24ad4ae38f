// Runs the Python reference (reference.py in the faiss-cpu venv) and compares results.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildInfo, type SearchResult } from '../../lib';
import { readNpy } from '../../lib';

// Created by scripts/check/python-reference.mjs (vitest's global setup, and .ci/run).
export const PYTHON = path.join(__dirname, '..', '..', '.venv-python', 'bin', 'python');

export interface Job {
  op: 'build' | 'binary' | 'search' | 'filtered' | 'merge' | 'ondisk' | 'langchain' | 'langchain_filter' | 'langchain_mmr';
  [key: string]: unknown;
}

/** Runs jobs in one Python process (FAISS import costs more than most jobs). */
export function runPython(jobs: Job[], dir: string): void {
  const file = path.join(dir, `jobs-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(jobs));
  // The same OpenBLAS kernels as ours: BLAS-computed parts (PQ distance tables, batch flat
  // distances) round differently in other kernels, and Python's OpenBLAS picks its SSE3 ones on
  // CPU models it does not know (lib/native.ts).
  const env = buildInfo.openblasCore ? { ...process.env, OPENBLAS_CORETYPE: buildInfo.openblasCore } : process.env;
  const r = spawnSync(PYTHON, [path.join(__dirname, 'reference.py'), file], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`reference.py failed:\n${r.stderr}`);
}

export interface Results {
  distances: Float32Array;
  labels: BigInt64Array;
}

/** Python's results for one nprobe, as written by reference.py's search job. */
export function pythonResults(prefix: string, nprobe: number): Results {
  return {
    distances: readNpy(`${prefix}_D${nprobe}.npy`).data as Float32Array,
    labels: readNpy(`${prefix}_I${nprobe}.npy`).data as BigInt64Array,
  };
}

export interface Comparison {
  labelsIdentical: boolean;
  /** Positions whose labels differ; each must be a tie (equal scores at that rank). */
  labelMismatches: number;
  /** Largest |a - b| / max(1, |b|) over all distances. */
  maxDistanceDiff: number;
}

export function compare(a: Results | SearchResult, b: Results | SearchResult): Comparison {
  let labelMismatches = 0;
  let maxDistanceDiff = 0;
  for (let i = 0; i < a.labels.length; i++) {
    if (a.labels[i] !== b.labels[i]) labelMismatches++;
    maxDistanceDiff = Math.max(maxDistanceDiff, Math.abs(a.distances[i] - b.distances[i]) / Math.max(1, Math.abs(b.distances[i])));
  }
  return { labelsIdentical: labelMismatches === 0, labelMismatches, maxDistanceDiff };
}

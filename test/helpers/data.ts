// Test data: seeded random vectors and the real SIFT sample in ../shared/data (texmex formats).
import fs from 'node:fs';
import path from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { mulberry32, readFvecs: fvecs, readIvecs: ivecs } = require('../../scripts/data.cjs');

export const SHARED_DATA = path.resolve(__dirname, '..', '..', '..', 'shared', 'data');
export const SIFT_DIR = path.join(SHARED_DATA, 'sift5k');
export const hasSift = fs.existsSync(path.join(SIFT_DIR, 'base.fvecs'));

/** Mulberry32: a small seeded PRNG, so failures reproduce. */
export const rng: (seed: number) => () => number = mulberry32;

/** n * d uniform values in [-1, 1). */
export function randomVectors(n: number, d: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = next() * 2 - 1;
  return out;
}

/** Reads a texmex .fvecs file: each record is int32 d, then d float32 values. */
export const readFvecs: (file: string) => { n: number; d: number; data: Float32Array } = fvecs;

/** Reads a texmex .ivecs file: each record is int32 count, then that many int32 values. */
export function readIvecs(file: string): { n: number; k: number; data: Int32Array } {
  const { n, d, data } = ivecs(file);
  return { n, k: d, data };
}

export interface Sift {
  d: number;
  base: Float32Array;
  queries: Float32Array;
  nq: number;
  /** 100 exact inner-product neighbours per query, best first (computed in float64 by the data's provider). */
  groundTruthIp: Int32Array;
}

let siftCache: Sift | undefined;

/** The SIFT sample in ../shared/data (4,500 base vectors, 500 queries, d=128). */
export function sift(): Sift {
  if (!siftCache) {
    const base = readFvecs(path.join(SIFT_DIR, 'base.fvecs'));
    const queries = readFvecs(path.join(SIFT_DIR, 'query.fvecs'));
    const gt = readIvecs(path.join(SIFT_DIR, 'groundtruth_ip.ivecs'));
    siftCache = { d: base.d, base: base.data, queries: queries.data, nq: queries.n, groundTruthIp: gt.data };
  }
  return siftCache;
}

/** Mean fraction of the true top-k found in each query's first k labels (ground truth rows of width `gtWidth`). */
export function recallAt(k: number, labels: BigInt64Array, resultK: number, truth: Int32Array, gtWidth: number): number {
  const nq = labels.length / resultK;
  let found = 0;
  for (let q = 0; q < nq; q++) {
    const want = new Set(Array.from(truth.subarray(q * gtWidth, q * gtWidth + k)));
    for (let r = 0; r < k; r++) if (want.has(Number(labels[q * resultK + r]))) found++;
  }
  return found / (nq * k);
}

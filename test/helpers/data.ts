// Test data: seeded random vectors and the real SIFT sample kept in test/data (see its README).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { mulberry32, readSift, bruteForceGroundTruth } = require('../data/vectors.cjs');

/** Mulberry32: a small seeded PRNG, so failures reproduce. */
export const rng: (seed: number) => () => number = mulberry32;

/** n * d uniform values in [-1, 1). */
export function randomVectors(n: number, d: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = next() * 2 - 1;
  return out;
}

export interface Sift {
  d: number;
  base: Float32Array;
  queries: Float32Array;
  nq: number;
  /** 100 exact inner-product neighbours per query, best first (brute force in float64). */
  groundTruthIp: Int32Array;
  /** 100 exact L2 neighbours per query, nearest first (brute force in float64). */
  groundTruthL2: Int32Array;
}

/** Width of the ground-truth rows in Sift. */
export const SIFT_GT_K = 100;

let siftCache: Sift | undefined;

/**
 * The SIFT sample in test/data (4,500 base vectors, 500 queries, d=128), with its ground truth
 * computed here by brute force in float64 (exact: the values are integers).
 */
export function sift(): Sift {
  if (!siftCache) {
    const { d, base, queries, nq } = readSift();
    const gt = bruteForceGroundTruth(base, queries, d, SIFT_GT_K);
    siftCache = { d, base, queries, nq, groundTruthIp: gt.ip, groundTruthL2: gt.l2 };
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

// Checks a FAISS result against exact search computed in the test.
import { expect } from 'vitest';
import type { SearchResult } from '../../lib';
import { bruteForce, score, type Metric } from './brute-force';

const FLT_MAX = 3.4028234663852886e38;

/**
 * The scores at each rank match brute force over `base`, and every returned id really has
 * the score reported for it (robust to ties between equal vectors). Slots past ntotal hold
 * label -1 and FAISS's empty score (-FLT_MAX for inner product, FLT_MAX for L2).
 */
export function expectExact(
  metric: Metric,
  result: SearchResult,
  base: Float32Array,
  queries: Float32Array,
  d: number,
  relTol = 1e-5,
) {
  const { nq, k } = result;
  const exact = bruteForce(metric, base, queries, d, k);
  const n = base.length / d;
  const tol = (s: number) => relTol * Math.max(1, Math.abs(s)) + 1e-4;
  for (let q = 0; q < nq; q++) {
    for (let r = 0; r < k; r++) {
      const label = Number(result.labels[q * k + r]);
      const dist = result.distances[q * k + r];
      if (r >= n) {
        expect(label).toBe(-1);
        expect(dist).toBe(metric === 'ip' ? -FLT_MAX : FLT_MAX);
        continue;
      }
      const want = exact.scores[q][r];
      expect(Math.abs(dist - want)).toBeLessThanOrEqual(tol(want));
      expect(label).toBeGreaterThanOrEqual(0);
      const actual = score(metric, queries, q, base, label, d);
      expect(Math.abs(actual - dist)).toBeLessThanOrEqual(tol(actual));
    }
  }
}

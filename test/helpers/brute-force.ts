// Exact k-nearest-neighbour search in float64, computed independently of FAISS.

export type Metric = 'ip' | 'l2';

export interface Neighbours {
  /** Per query, the k best (score, id) pairs, best first; ties broken by the smaller id. */
  scores: Float64Array[];
  ids: number[][];
}

export function score(metric: Metric, a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const x = a[ai * d + j];
    const y = b[bi * d + j];
    s += metric === 'ip' ? x * y : (x - y) * (x - y);
  }
  return s;
}

export function bruteForce(metric: Metric, base: Float32Array, queries: Float32Array, d: number, k: number): Neighbours {
  const n = base.length / d;
  const nq = queries.length / d;
  const better = metric === 'ip' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  const out: Neighbours = { scores: [], ids: [] };
  for (let q = 0; q < nq; q++) {
    const all = Array.from({ length: n }, (_, i) => ({ i, s: score(metric, queries, q, base, i, d) }));
    all.sort((a, b) => (a.s === b.s ? a.i - b.i : better(a.s, b.s) ? -1 : 1));
    const top = all.slice(0, Math.min(k, n));
    out.scores.push(Float64Array.from(top, (t) => t.s));
    out.ids.push(top.map((t) => t.i));
  }
  return out;
}

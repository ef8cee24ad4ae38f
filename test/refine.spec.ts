// Re-ranking (IndexRefine, IndexRefineFlat): the base index's k x kFactor candidates ordered by
// the refine index's distances, checked against that re-ranking done here (the candidates from
// the base index alone, their distances in float64 from the refine index's vectors).
import { describe, expect, it } from 'vitest';
import {
  deserializeIndexSync,
  FaissError,
  Index,
  indexFactory,
  IndexFlatL2,
  IndexIVFPQ,
  IndexRefine,
  IndexRefineFlat,
  IndexScalarQuantizer,
  METRIC_INNER_PRODUCT,
  METRIC_L2,
  type MetricType,
} from '../lib';
import { sift } from './helpers/data';

const K = 10;
const NQ = 40;

/**
 * What a refinement returns: each query's candidates from `base`, ordered by distances to
 * `vectors` (float64), with every candidate's distance (SIFT's integers tie often).
 */
function reranked(base: Index, vectors: Float32Array, queries: Float32Array, kFactor: number, metric: MetricType, nprobe: number) {
  const d = base.d;
  const candidates = base.searchSync(queries, K * kFactor, { nprobe }).labels;
  const distances: number[] = [];
  const of: Map<bigint, number>[] = [];
  for (let q = 0; q < queries.length / d; q++) {
    const scored = new Map<bigint, number>();
    for (const id of candidates.subarray(q * K * kFactor, (q + 1) * K * kFactor)) {
      if (id < 0n) continue;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const x = vectors[Number(id) * d + j];
        const y = queries[q * d + j];
        s += metric === METRIC_L2 ? (x - y) ** 2 : x * y;
      }
      scored.set(id, s);
    }
    distances.push(...[...scored.values()].sort((a, b) => (metric === METRIC_L2 ? a - b : b - a)).slice(0, K));
    of.push(scored);
  }
  return { distances, of };
}

/** Each result is a candidate whose distance is the one at its rank (ties in any order). */
function expectReranked(got: { labels: BigInt64Array; distances: Float32Array }, want: ReturnType<typeof reranked>) {
  for (let i = 0; i < want.distances.length; i++) {
    const own = want.of[Math.floor(i / K)].get(got.labels[i]);
    expect(own, `result ${i} is a candidate`).toBeDefined();
    const tolerance = 1e-5 * Math.max(1, Math.abs(want.distances[i]));
    expect(Math.abs(own! - want.distances[i]), `result ${i}'s distance`).toBeLessThanOrEqual(tolerance);
    expect(Math.abs(got.distances[i] - want.distances[i]), `reported distance ${i}`).toBeLessThanOrEqual(tolerance);
  }
}

describe('IndexRefineFlat', () => {
  const { d, base, queries: all } = sift();
  const queries = all.subarray(0, NQ * d);

  for (const metric of [METRIC_L2, METRIC_INNER_PRODUCT] as const) {
    it(`over IVF-PQ (${metric === METRIC_L2 ? 'L2' : 'IP'}): the base's k x kFactor candidates in exact order, kFactor per call or set`, () => {
      const index = new IndexRefineFlat(new IndexIVFPQ(new IndexFlatL2(d), d, 32, 16, 4, metric));
      index.trainSync(base);
      index.addSync(base);
      expect(index.kFactor).toBe(1); // Python's default
      expect(index.refineIndex.ntotal).toBe(base.length / d);
      for (const kFactor of [1, 4]) {
        expectReranked(index.searchSync(queries, K, { nprobe: 8, kFactor }), reranked(index.baseIndex, base, queries, kFactor, metric, 8));
      }
      index.kFactor = 4;
      index.nprobe = 8;
      expectReranked(index.searchSync(queries, K), reranked(index.baseIndex, base, queries, 4, metric, 8));
      index.dispose();
    });
  }

  it('re-ranking lifts recall: kFactor 8 over the PQ codes against exact search', () => {
    const index = new IndexRefineFlat(new IndexIVFPQ(new IndexFlatL2(d), d, 32, 16, 4, METRIC_L2));
    index.trainSync(base);
    index.addSync(base);
    const exact = new IndexFlatL2(d);
    exact.addSync(base);
    const truth = exact.searchSync(queries, K).labels;
    const recall = (labels: BigInt64Array) => {
      let hits = 0;
      for (let q = 0; q < NQ; q++) {
        const want = new Set(truth.subarray(q * K, (q + 1) * K));
        for (const l of labels.subarray(q * K, (q + 1) * K)) hits += want.has(l) ? 1 : 0;
      }
      return hits / (NQ * K);
    };
    const plain = recall(index.baseIndex.searchSync(queries, K, { nprobe: 32 }).labels);
    const refined = recall(index.searchSync(queries, K, { nprobe: 32, kFactor: 8 }).labels);
    expect(refined).toBeGreaterThan(plain + 0.1);
    expect(refined).toBeGreaterThanOrEqual(0.95);
    index.dispose();
    exact.dispose();
  });

  it('a filter reaches the base index: only allowed ids, re-ranked from the allowed candidates', () => {
    const index = indexFactory(d, 'IVF32,PQ16x4,RFlat', METRIC_L2) as IndexRefineFlat;
    expect(index).toBeInstanceOf(IndexRefineFlat);
    index.trainSync(base);
    index.addSync(base);
    const filter = { range: [1000, 3000] as [number, number] };
    const got = index.searchSync(queries, K, { nprobe: 8, kFactor: 4, filter });
    expect(Array.from(got.labels).every((l) => l >= 1000n && l < 3000n)).toBe(true);
    // FAISS's own filtered search of the base index, which IndexRefine calls (plan 'index').
    const candidates = index.baseIndex.searchSync(queries, K * 4, { nprobe: 8, filter, plan: 'index' }).labels;
    for (let q = 0; q < NQ; q++) {
      const from = new Set(candidates.subarray(q * K * 4, (q + 1) * K * 4));
      for (const l of got.labels.subarray(q * K, (q + 1) * K)) expect(from.has(l)).toBe(true);
    }
    index.dispose();
  });
});

describe('IndexRefine', () => {
  const { d, base, queries: all } = sift();
  const queries = all.subarray(0, NQ * d);

  it('re-ranks by a copy of the refine index given (SQ8 here): distances from its decoded vectors', () => {
    const sq = new IndexScalarQuantizer(d, 'QT_8bit', METRIC_L2);
    const index = new IndexRefine(new IndexIVFPQ(new IndexFlatL2(d), d, 32, 16, 4, METRIC_L2), sq);
    index.trainSync(base);
    index.addSync(base);
    expect(sq.ntotal).toBe(0); // the copy inside trained and filled, not the one given
    expect(sq.isTrained).toBe(false);
    expect(index.refineIndex).toBeInstanceOf(IndexScalarQuantizer);
    const decoded = index.refineIndex.reconstructNSync(0, index.ntotal);
    expectReranked(index.searchSync(queries, K, { nprobe: 8, kFactor: 4 }), reranked(index.baseIndex, decoded, queries, 4, METRIC_L2, 8));
    index.dispose();
    sq.dispose();
  });

  it('files keep the class, kFactor and results; a lying kFactor is refused', () => {
    const index = new IndexRefineFlat(new IndexIVFPQ(new IndexFlatL2(d), d, 32, 16, 4, METRIC_L2));
    index.trainSync(base);
    index.addSync(base);
    index.kFactor = 3;
    const bytes = index.serializeSync();
    const back = deserializeIndexSync(bytes);
    expect(back).toBeInstanceOf(IndexRefineFlat);
    expect((back as IndexRefineFlat).kFactor).toBe(3);
    expect(back.searchSync(queries, K, { nprobe: 8 })).toEqual(index.searchSync(queries, K, { nprobe: 8 }));
    // k_factor is the last 4 bytes (a float32) of FAISS's "IxRF" record.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(view.getFloat32(bytes.length - 4, true)).toBe(3);
    for (const lie of [1e9, 0.5, Number.NaN]) {
      const bad = Buffer.from(bytes);
      new DataView(bad.buffer, bad.byteOffset, bad.byteLength).setFloat32(bad.length - 4, lie, true);
      expect(() => deserializeIndexSync(bad)).toThrow(FaissError);
      try {
        deserializeIndexSync(bad);
      } catch (e) {
        expect((e as FaissError).code).toBe('CORRUPT_INDEX');
        expect((e as FaissError).message).toMatch(/IndexRefine k_factor .* must be 1\.\.65536/);
      }
    }
    expect(() => deserializeIndexSync(bytes.subarray(0, bytes.length - 2))).toThrow(FaissError);
    index.dispose();
    back.dispose();
  });

  it('bad arguments: clear errors', () => {
    const flat = new IndexFlatL2(d);
    flat.addSync(base.subarray(0, 10 * d));
    expect(() => new IndexRefineFlat(flat)).toThrow(new RangeError('baseIndex holds 10 vectors; it must be empty'));
    expect(() => new IndexRefine(new IndexFlatL2(d), flat)).toThrow(new RangeError('baseIndex holds 0 vectors; refineIndex holds 10, and both must hold the same'));
    expect(() => new IndexRefineFlat({} as Index)).toThrow(/^baseIndex must be a faiss-native Index; got /);
    expect(() => new IndexRefine(new IndexFlatL2(d), new IndexScalarQuantizer(d, 'QT_8bit', METRIC_INNER_PRODUCT))).toThrow(
      new RangeError('refineIndex has metric 0; baseIndex has metric 1'),
    );
    expect(() => new IndexRefine(new IndexFlatL2(d), new IndexFlatL2(8))).toThrow(new RangeError(`refineIndex has d=8; baseIndex has d=${d}`));
    const index = new IndexRefineFlat(new IndexFlatL2(d));
    index.addSync(base.subarray(0, 100 * d));
    const q = queries.subarray(0, d);
    for (const kFactor of [0.5, 0, Number.NaN, 65537]) {
      expect(() => index.searchSync(q, K, { kFactor })).toThrow(new RangeError(`options.kFactor must be from 1 to 65536; got ${kFactor}`));
    }
    expect(() => index.searchSync(q, K, { kFactor: '2' as never })).toThrow(new TypeError('options.kFactor must be a number; got string'));
    expect(() => (index.kFactor = 0)).toThrow(new RangeError('kFactor must be from 1 to 65536; got 0'));
    expect(() => flat.searchSync(q, K, { kFactor: 2 })).toThrow(
      new TypeError("search: option 'kFactor' applies to indexes with an IndexRefine layer; this index is IndexFlat"),
    );
    // The base index changes only through the refinement (the refine index must stay its match).
    expect(() => index.baseIndex.addSync(q)).toThrow(/^index is part of another/);
    index.dispose();
    flat.dispose();
  });
});

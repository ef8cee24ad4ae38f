// The rest of the API: range search, factory classes, normalizeL2, threads, NaN and Infinity.
import { describe, expect, it } from 'vitest';
import {
  getNumThreads,
  Index,
  indexFactory,
  IndexFlatIP,
  IndexFlatL2,
  IndexIDMap,
  IndexIVFScalarQuantizer,
  METRIC_INNER_PRODUCT,
  METRIC_L2,
  normalizeL2,
  setNumThreads,
} from '../lib';
import { score } from './helpers/brute-force';
import { randomVectors } from './helpers/data';

describe('rangeSearch', () => {
  it.each([
    ['l2', IndexFlatL2, 2.5],
    ['ip', IndexFlatIP, 1.5],
  ] as const)('%s finds exactly the vectors within the radius', async (metric, Cls, radius) => {
    const d = 8;
    const base = randomVectors(3000, d, 51);
    const queries = randomVectors(7, d, 52);
    const index = new Cls(d);
    index.addSync(base);
    for (const r of [await index.rangeSearch(queries, radius), index.rangeSearchSync(queries, radius)]) {
      expect(r.nq).toBe(7);
      expect(r.lims).toHaveLength(8);
      expect(r.lims[0]).toBe(0);
      expect(r.distances).toHaveLength(r.lims[7]);
      for (let q = 0; q < 7; q++) {
        const want = new Set<number>();
        for (let i = 0; i < 3000; i++) {
          const s = score(metric, queries, q, base, i, d);
          if (metric === 'l2' ? s < radius : s > radius) want.add(i);
        }
        const got = new Set(Array.from(r.labels.subarray(r.lims[q], r.lims[q + 1]), Number));
        expect(got).toEqual(want);
        expect(want.size).toBeGreaterThan(0);
      }
    }
  });

  it('takes a per-call nprobe on IVF indexes', () => {
    const d = 8;
    const base = randomVectors(2000, d, 53);
    const index = new IndexIVFScalarQuantizer(d, 16, 'QT_fp16', METRIC_L2);
    index.trainSync(base);
    index.addSync(base);
    const few = index.rangeSearchSync(base.subarray(0, d), 1.0, { nprobe: 1 });
    const all = index.rangeSearchSync(base.subarray(0, d), 1.0, { nprobe: 16 });
    expect(all.lims[1]).toBeGreaterThanOrEqual(few.lims[1]);
    expect(new Set(all.labels)).toContain(0n);
  });
});

describe('indexFactory', () => {
  it('returns the matching class, with L2 by default as in Python', () => {
    expect(indexFactory(8, 'Flat')).toBeInstanceOf(IndexFlatL2);
    expect(indexFactory(8, 'Flat', METRIC_INNER_PRODUCT)).toBeInstanceOf(IndexFlatIP);
    expect(indexFactory(8, 'IVF4,SQ8')).toBeInstanceOf(IndexIVFScalarQuantizer);
    expect(indexFactory(8, 'IDMap,Flat')).toBeInstanceOf(IndexIDMap);
    const generic = indexFactory(16, 'PCA8,IVF4,Flat');
    expect(generic.constructor).toBe(Index);
    expect(generic.nlist).toBe(4);
  });

  it('reaches the IVF layer under IDMap and pre-transforms for nprobe', () => {
    const d = 16;
    const base = randomVectors(1000, d, 54);
    for (const description of ['IDMap,IVF8,SQ8', 'PCA8,IVF8,Flat']) {
      const index = indexFactory(d, description);
      index.trainSync(base);
      if (index instanceof IndexIDMap) index.addWithIdsSync(base, BigInt64Array.from({ length: 1000 }, (_, i) => BigInt(i) + 10n ** 15n));
      else index.addSync(base);
      expect(index.nprobe).toBe(1);
      index.nprobe = 8;
      expect(index.nprobe).toBe(8);
      const property = index.searchSync(base.subarray(0, 5 * d), 4);
      const perCall = index.searchSync(base.subarray(0, 5 * d), 4, { nprobe: 8 });
      expect(Array.from(perCall.labels)).toEqual(Array.from(property.labels));
      const narrow = index.searchSync(base.subarray(0, 5 * d), 4, { nprobe: 1 });
      expect(narrow.labels).toHaveLength(20);
    }
  });
});

describe('normalizeL2', () => {
  it('scales each vector to unit norm in place, like faiss.normalize_L2', () => {
    const x = new Float32Array([3, 4, 0, 0, 0, 2]);
    expect(normalizeL2(x, 3)).toBe(x);
    expect(Array.from(x)).toEqual([Math.fround(0.6), Math.fround(0.8), 0, 0, 0, 1]);
    expect(() => normalizeL2([[1, 2]] as unknown as Float32Array, 2)).toThrow(TypeError);
    expect(() => normalizeL2(new Float32Array(5), 2)).toThrow(RangeError);
  });
});

describe('threads', () => {
  it('sets the count used by later calls on every thread', async () => {
    const before = getNumThreads();
    try {
      setNumThreads(1);
      expect(getNumThreads()).toBe(1);
      const index = new IndexFlatL2(4);
      await index.add(randomVectors(100, 4, 55));
      expect((await index.search(randomVectors(30, 4, 56), 2)).labels).toHaveLength(60);
    } finally {
      setNumThreads(before);
    }
    expect(() => setNumThreads(0)).toThrow(new RangeError('n must be a positive integer; got 0'));
  });
});

describe('NaN and Infinity', () => {
  it('are refused in vectors to add, search and train, with their position', async () => {
    const index = new IndexFlatL2(4);
    const bad = new Float32Array([1, 2, 3, 4, 5, Number.NaN, 7, 8]);
    expect(() => index.addSync(bad)).toThrow(new RangeError('x must hold finite numbers; got NaN at vector 1, component 1'));
    await expect(index.add(bad)).rejects.toThrow(new RangeError('x must hold finite numbers; got NaN at vector 1, component 1'));
    expect(index.ntotal).toBe(0);
    const inf = new Float32Array([0, 0, Number.NEGATIVE_INFINITY, 0]);
    await expect(index.search(inf, 1)).rejects.toThrow(new RangeError('q must hold finite numbers; got Infinity at vector 0, component 2'));
    const ivf = new IndexIVFScalarQuantizer(4, 2, 'QT_8bit');
    const training = randomVectors(200, 4, 57);
    training[401] = Number.POSITIVE_INFINITY;
    await expect(ivf.train(training)).rejects.toThrow(new RangeError('x must hold finite numbers; got Infinity at vector 100, component 1'));
    expect(ivf.isTrained).toBe(false);
  });
});

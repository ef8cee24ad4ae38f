// IndexHNSWFlat: Python's constructor and defaults, recall on the SIFT sample, efSearch and
// efConstruction, files, and the graph checks that keep a hostile file from steering a search
// out of bounds.
import { describe, expect, it } from 'vitest';
import {
  deserializeIndexSync,
  FaissError,
  IndexHNSWFlat,
  METRIC_INNER_PRODUCT,
  METRIC_L2,
} from '../lib';
import { recallAt, sift, SIFT_GT_K } from './helpers/data';

describe('IndexHNSWFlat', () => {
  const { d, base, queries, nq, groundTruthL2 } = sift();

  it("has Python's defaults: M 32, L2, efSearch 16, efConstruction 40, an empty graph", () => {
    const index = new IndexHNSWFlat(d);
    expect([index.metricType, index.efSearch, index.efConstruction, index.isTrained]).toEqual([METRIC_L2, 16, 40, true]);
    expect(index.hnsw).toEqual({ M: 32, maxLevel: -1, entryPoint: -1 });
    expect(new IndexHNSWFlat(d, 8, METRIC_INNER_PRODUCT).metricType).toBe(METRIC_INNER_PRODUCT);
    expect(() => new IndexHNSWFlat(d, 1)).toThrow(new RangeError('M must be at least 2; got 1'));
    expect(() => (index.efConstruction = 0)).toThrow(RangeError);
    index.dispose();
  });

  it('finds the exact neighbours on SIFT at a wide efSearch, async and sync alike', async () => {
    const index = new IndexHNSWFlat(d, 16);
    await index.add(base);
    expect(index.ntotal).toBe(base.length / d);
    expect(index.hnsw.maxLevel).toBeGreaterThanOrEqual(1);
    expect(index.hnsw.entryPoint).toBeGreaterThanOrEqual(0);
    const narrow = await index.search(queries, 10, { efSearch: 10 });
    const wide = await index.search(queries, 10, { efSearch: 128 });
    expect(index.searchSync(queries, 10, { efSearch: 128 })).toEqual(wide);
    const rNarrow = recallAt(10, narrow.labels, 10, groundTruthL2, SIFT_GT_K);
    const rWide = recallAt(10, wide.labels, 10, groundTruthL2, SIFT_GT_K);
    expect(rWide).toBeGreaterThanOrEqual(0.97);
    expect(rWide).toBeGreaterThan(rNarrow);
    expect(nq).toBe(500);
    index.dispose();
  });

  it("refuses values that would overflow its distances (FAISS's graph search would loop on them)", async () => {
    const index = new IndexHNSWFlat(4, 8);
    index.addSync(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const huge = new Float32Array([1, 2, 1e20, 4]);
    expect(() => index.searchSync(huge, 1)).toThrow(
      new RangeError('q holds 1e+20 at vector 0, component 2; HNSW indexes take values up to 1e15 in magnitude (larger ones overflow its distances)'),
    );
    await expect(index.add(huge)).rejects.toThrow(/^x holds 1e\+20 at vector 0, component 2/);
    expect(index.ntotal).toBe(2);
    expect(index.searchSync(new Float32Array([1e15, 0, 0, -1e15]), 2).labels).toHaveLength(2);
    expect(() => index.searchSync(huge.subarray(0, 4).fill(0), 1, { efSearch: 2 ** 21 })).toThrow(new RangeError('options.efSearch must be at most 1048576; got 2097152'));
    index.dispose();
  });

  it('round-trips through bytes without trusted: the same class and results', () => {
    const index = new IndexHNSWFlat(d, 8);
    index.addSync(base.subarray(0, 1000 * d));
    const copy = deserializeIndexSync(index.serializeSync());
    expect(copy).toBeInstanceOf(IndexHNSWFlat);
    expect((copy as IndexHNSWFlat).hnsw).toEqual(index.hnsw);
    expect(copy.searchSync(queries, 5)).toEqual(index.searchSync(queries, 5));
    expect(() => index.removeIdsSync([1])).toThrow(FaissError);
    index.dispose();
    copy.dispose();
  });
});

/** Offsets of the HNSW fields in IndexHNSWFlat bytes ("IHNf", index header, then the graph). */
function graphFields(bytes: Buffer) {
  let at = 4 + 4 + 8 + 8 + 8 + 1; // fourcc, d, ntotal, two dummies, is_trained
  const metric = bytes.readInt32LE(at);
  at += 4 + (metric > 1 ? 4 : 0);
  const vector = (width: number) => {
    const n = Number(bytes.readBigUInt64LE(at));
    const start = at + 8;
    at = start + n * width;
    return { n, start };
  };
  const probas = vector(8);
  const cum = vector(4);
  const levels = vector(4);
  const offsets = vector(8);
  const neighbors = vector(4);
  return { probas, cum, levels, offsets, neighbors, entryPoint: at, maxLevel: at + 4, efConstruction: at + 8, efSearch: at + 12 };
}

describe('hostile HNSW files', () => {
  const { d, base } = sift();
  const index = new IndexHNSWFlat(d, 4);
  index.addSync(base.subarray(0, 200 * d));
  const good = index.serializeSync();
  const f = graphFields(good);

  it('the field map matches the index (so each case below changes the field it names)', () => {
    expect(f.levels.n).toBe(200);
    expect(f.offsets.n).toBe(201);
    expect(good.readInt32LE(f.entryPoint)).toBe(index.hnsw.entryPoint);
    expect(good.readInt32LE(f.maxLevel)).toBe(index.hnsw.maxLevel);
    expect(good.readInt32LE(f.efSearch)).toBe(16);
  });

  const cases: [string, (b: Buffer) => void, RegExp][] = [
    ['a link past ntotal', (b) => b.writeInt32LE(200, f.neighbors.start + 4 * 3), /HNSW link points outside the index/],
    ['a negative link below -1', (b) => b.writeInt32LE(-7, f.neighbors.start), /HNSW link points outside the index/],
    ['an entry point past ntotal', (b) => b.writeInt32LE(5000, f.entryPoint), /HNSW entry point outside the index/],
    ['a top level above the entry point', (b) => b.writeInt32LE(index.hnsw.maxLevel + 1, f.maxLevel), /HNSW top level does not match/],
    ['a level beyond the neighbour table', (b) => b.writeInt32LE(99, f.levels.start), /HNSW vector 0 has level 99/],
    ['offsets that skip ahead', (b) => b.writeBigUInt64LE(b.readBigUInt64LE(f.offsets.start + 8) + 1n, f.offsets.start + 8), /HNSW offsets of vector/],
    ['a stored NaN', (b) => b.writeFloatLE(NaN, b.length - 4), /HNSW storage holds a value that is not finite or beyond 1e15/],
    ['an efSearch of 2^30', (b) => b.writeInt32LE(2 ** 30, f.efSearch), /HNSW efSearch 1073741824 and efConstruction 40 must be 1\.\.1048576/],
  ];
  it.each(cases)('%s: CORRUPT_INDEX, trusted or not', (_, change, message) => {
    const bytes = Buffer.from(good);
    change(bytes);
    for (const trusted of [false, true]) {
      expect(() => deserializeIndexSync(bytes, { trusted })).toThrow(expect.objectContaining({ code: 'CORRUPT_INDEX', message: expect.stringMatching(message) }));
    }
  });
});

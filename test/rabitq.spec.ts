// RaBitQ (IndexRaBitQ, IndexIVFRaBitQ): recall against the SIFT sample's brute-force ground
// truth, exact re-ranking through IndexRefineFlat, the query bits (qb), filters, files, and the
// load-time checks of their fields. Python parity (files and results both ways) is in
// test/parity/parity.spec.ts.
import { describe, expect, it } from 'vitest';
import {
  deserializeIndexSync,
  FaissError,
  IndexFlatL2,
  IndexIVFRaBitQ,
  IndexRaBitQ,
  IndexRefineFlat,
  indexFactory,
  METRIC_INNER_PRODUCT,
  METRIC_L2,
} from '../lib';
import { randomVectors, recallAt, sift, SIFT_GT_K } from './helpers/data';

const K = 10;
const data = sift();
const { d } = data;

/** Recall@10 of a search of the SIFT queries against the ground truth of its metric. */
function recall(labels: BigInt64Array, metric: number): number {
  return recallAt(K, labels, K, metric === METRIC_L2 ? data.groundTruthL2 : data.groundTruthIp, SIFT_GT_K);
}

describe('IndexRaBitQ', () => {
  for (const metric of [METRIC_L2, METRIC_INNER_PRODUCT]) {
    it(`metric ${metric}: recall on SIFT from 1-bit codes of d / 8 + 8 bytes, near 1 once re-ranked exactly`, () => {
      const index = new IndexRaBitQ(d, metric);
      expect([index.isTrained, index.qb, index.metricType]).toEqual([false, 0, metric]);
      index.trainSync(data.base);
      index.addSync(data.base);
      const alone = recall(index.searchSync(data.queries, K).labels, metric);
      expect(alone).toBeGreaterThan(0.3);
      // The codes: d sign bits and FAISS's three factors per vector.
      const bytes = index.serializeSync().length;
      const n = index.ntotal;
      expect(bytes).toBeGreaterThanOrEqual(n * (d / 8 + 8));
      expect(bytes).toBeLessThan(n * (d / 8 + 8) + 4 * d + 200);

      const refined = new IndexRefineFlat(new IndexRaBitQ(d, metric));
      refined.trainSync(data.base);
      refined.addSync(data.base);
      const reRanked = recall(refined.searchSync(data.queries, K, { kFactor: 20 }).labels, metric);
      expect(reRanked).toBeGreaterThan(Math.max(alone, 0.95));
      index.dispose();
      refined.dispose();
    });
  }

  it('qb: queries quantized to fewer bits, a property of the index (Python: index.qb) kept in its file; checked', () => {
    const index = new IndexRaBitQ(d, METRIC_L2);
    index.trainSync(data.base);
    index.addSync(data.base);
    const full = index.searchSync(data.queries, K);
    index.qb = 4;
    const quantized = index.searchSync(data.queries, K);
    expect(Array.from(quantized.distances)).not.toEqual(Array.from(full.distances));
    expect(Math.abs(recall(quantized.labels, METRIC_L2) - recall(full.labels, METRIC_L2))).toBeLessThan(0.1);
    const copy = deserializeIndexSync(index.serializeSync());
    expect(copy).toBeInstanceOf(IndexRaBitQ);
    expect((copy as IndexRaBitQ).qb).toBe(4);
    const again = copy.searchSync(data.queries, K);
    expect(Array.from(again.labels)).toEqual(Array.from(quantized.labels));
    expect(Array.from(again.distances)).toEqual(Array.from(quantized.distances));
    expect(() => (index.qb = 9)).toThrow(new RangeError('qb must be from 0 to 8; got 9'));
    expect(() => (index.qb = 1.5)).toThrow(TypeError);
    expect(index.qb).toBe(4);
    index.dispose();
    copy.dispose();
  });

  it('a filter returns allowed ids only (plan exact: every allowed code estimated)', () => {
    const index = new IndexRaBitQ(d, METRIC_L2);
    index.trainSync(data.base);
    index.addSync(data.base);
    const got = index.searchSync(data.queries, K, { filter: { range: [1000, 2000] } });
    expect(got.plan).toBe('exact');
    expect(got.labels.every((l) => l >= 1000n && l < 2000n)).toBe(true);
    index.dispose();
  });
});

describe('IndexIVFRaBitQ', () => {
  it('recall rises with nprobe; the factory string makes the same class; filters and files', () => {
    const index = new IndexIVFRaBitQ(new IndexFlatL2(d), d, 64);
    expect(index.metricType).toBe(METRIC_L2);
    index.trainSync(data.base);
    index.addSync(data.base);
    const at = (nprobe: number) => recall(index.searchSync(data.queries, K, { nprobe }).labels, METRIC_L2);
    // More lists, more candidates; past that, the 1-bit estimates rank what they find.
    const [one, eight, all] = [at(1), at(8), at(64)];
    expect(one).toBeLessThan(eight);
    expect(Math.abs(all - eight)).toBeLessThan(0.05);
    expect(all).toBeGreaterThan(0.3);
    expect(indexFactory(d, 'IVF64,RaBitQ', METRIC_L2)).toBeInstanceOf(IndexIVFRaBitQ);

    const filtered = index.searchSync(data.queries, K, { nprobe: 8, filter: { range: [0, 500] } });
    expect(filtered.labels.every((l) => l >= 0n && l < 500n)).toBe(true);
    index.qb = 8;
    const copy = deserializeIndexSync(index.serializeSync()) as IndexIVFRaBitQ;
    expect([copy.constructor, copy.qb, copy.nlist]).toEqual([IndexIVFRaBitQ, 8, 64]);
    const a = index.searchSync(data.queries, K, { nprobe: 8 });
    const b = copy.searchSync(data.queries, K, { nprobe: 8 });
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    index.dispose();
    copy.dispose();
  });
});

describe('qb per call (Python: RaBitQSearchParameters / IVFRaBitQSearchParameters(qb=...))', () => {
  const same = (a: { labels: BigInt64Array; distances: Float32Array }, b: { labels: BigInt64Array; distances: Float32Array }) => {
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(Array.from(a.distances)).toEqual(Array.from(b.distances));
  };

  it("equals setting the index's qb, on IndexRaBitQ, IndexIVFRaBitQ (with a filter too: the planned walk) and under IndexRefineFlat; the index's own is unchanged", async () => {
    const flat = new IndexRaBitQ(d, METRIC_L2);
    const ivf = new IndexIVFRaBitQ(d, 32, METRIC_L2);
    const refined = new IndexRefineFlat(new IndexRaBitQ(d, METRIC_L2));
    const q = data.queries.subarray(0, 50 * d);
    for (const [index, options] of [
      [flat, {}],
      [ivf, { nprobe: 4 }],
      [ivf, { nprobe: 4, filter: { range: [0, 300] } }],
      [refined, { kFactor: 4 }],
    ] as const) {
      if (!index.isTrained) index.trainSync(data.base);
      if (index.ntotal === 0) index.addSync(data.base);
      const owner = index instanceof IndexRefineFlat ? (index.baseIndex as IndexRaBitQ) : index;
      const perCall = index.searchSync(q, K, { ...options, qb: 4 });
      expect(owner.qb).toBe(0);
      const unquantized = index.searchSync(q, K, options);
      expect(Array.from(unquantized.distances)).not.toEqual(Array.from(perCall.distances));
      owner.qb = 4;
      same(perCall, index.searchSync(q, K, options));
      same(unquantized, index.searchSync(q, K, { ...options, qb: 0 }));
      // Concurrent one-query searches with different qb are not coalesced into one call (the
      // first runs alone; those that come while it runs would go together).
      const [, a, b] = await Promise.all([0, 0, 4].map((qb) => index.search(q.subarray(0, d), K, { ...options, qb })));
      expect(Array.from(a.distances)).toEqual(Array.from(unquantized.distances.subarray(0, K)));
      expect(Array.from(b.distances)).toEqual(Array.from(perCall.distances.subarray(0, K)));
      owner.qb = 0;
    }
    // Nor with different kFactor (they were, before qb: the first call's kFactor served both).
    const one = q.subarray(0, d);
    const [, narrow, wide] = await Promise.all([1, 1, 16].map((kFactor) => refined.search(one, K, { kFactor })));
    same(narrow, refined.searchSync(one, K, { kFactor: 1 }));
    same(wide, refined.searchSync(one, K, { kFactor: 16 }));
    expect(Array.from(narrow.distances)).not.toEqual(Array.from(wide.distances));
    expect(() => flat.searchSync(q, K, { qb: 9 })).toThrow(new RangeError('options.qb must be from 0 to 8; got 9'));
    const plain = new IndexFlatL2(d);
    expect(() => plain.searchSync(q, K, { qb: 4 })).toThrow(new TypeError("search: option 'qb' applies to indexes with a RaBitQ layer; this index is IndexFlat"));
    for (const index of [flat, ivf, refined, plain]) index.dispose();
  });
});

describe('RaBitQ files that lie', () => {
  const index = new IndexRaBitQ(16, METRIC_L2);
  const x = randomVectors(100, 16, 7);
  index.trainSync(x);
  index.addSync(x);
  const bytes = index.serializeSync();
  const u64 = (v: number) => Buffer.from(new BigUint64Array([BigInt(v)]).buffer);
  // The quantizer's d and code size (size_t each), as FAISS writes them after the index header.
  const at = Buffer.from(bytes).indexOf(Buffer.concat([u64(16), u64(16 / 8 + 8)]));

  it('the file holds the quantizer fields where expected', () => {
    expect(at).toBeGreaterThan(0);
    expect(deserializeIndexSync(bytes).ntotal).toBe(100);
  });

  it.each([
    ['a code size that differs from d / 8 + 8', (b: Buffer) => b.writeBigUInt64LE(11n, at + 8), 'RaBitQ code size 11'],
    ['a quantizer dimension that differs from the index', (b: Buffer) => b.writeBigUInt64LE(24n, at), 'RaBitQ quantizer dimension 24'],
    ['query bits past 8', (b: Buffer) => b.writeUInt8(9, b.length - 1), 'qb=9 must be 0..8'],
  ])('%s: a FaissError naming it', (_, lie, message) => {
    const b = Buffer.from(bytes);
    lie(b);
    expect(() => deserializeIndexSync(b)).toThrow(FaissError);
    expect(() => deserializeIndexSync(b)).toThrow(message);
  });
});

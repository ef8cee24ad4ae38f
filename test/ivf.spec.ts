// IndexIVFFlat and IndexIVFPQ: Python's constructor forms and defaults, exactness (IVF-Flat
// visiting every list is exact search), recall, properties and files.
import { describe, expect, it } from 'vitest';
import {
  deserializeIndexSync,
  IndexFlatL2,
  IndexIVF,
  IndexIVFFlat,
  IndexIVFPQ,
  METRIC_INNER_PRODUCT,
  METRIC_L2,
} from '../lib';
import { expectExact } from './helpers/expect-exact';
import { randomVectors, recallAt, sift, SIFT_GT_K } from './helpers/data';

const { d, base, queries, groundTruthL2 } = sift();
const q50 = queries.subarray(0, 50 * d);

describe('IndexIVFFlat', () => {
  it('with its own quantizer (inner product) or yours (its metric): exact at nprobe = nlist', async () => {
    const own = new IndexIVFFlat(d, 16);
    expect([own.metricType, own.nlist, own.nprobe, own.byResidual, own.isTrained]).toEqual([METRIC_INNER_PRODUCT, 16, 1, false, false]);
    expect(own).toBeInstanceOf(IndexIVF);
    own.dispose();

    const quantizer = new IndexFlatL2(d);
    const index = new IndexIVFFlat(quantizer, d, 16);
    expect(index.metricType).toBe(METRIC_L2);
    expect(index.quantizer).toBe(quantizer);
    await index.train(base);
    await index.add(base);
    expect(quantizer.ntotal).toBe(16);
    expectExact('l2', await index.search(q50, 10, { nprobe: 16 }), base, q50, d);
    const one = index.searchSync(queries, 10);
    expect(recallAt(10, one.labels, 10, groundTruthL2, SIFT_GT_K)).toBeLessThan(recallAt(10, index.searchSync(queries, 10, { nprobe: 16 }).labels, 10, groundTruthL2, SIFT_GT_K));
    index.dispose();
  });

  it('round-trips through bytes as an IndexIVFFlat with the same results', () => {
    const index = new IndexIVFFlat(d, 8, METRIC_L2);
    index.trainSync(base);
    index.addSync(base);
    const copy = deserializeIndexSync(index.serializeSync());
    expect(copy).toBeInstanceOf(IndexIVFFlat);
    expect(copy.searchSync(q50, 10, { nprobe: 4 })).toEqual(index.searchSync(q50, 10, { nprobe: 4 }));
    index.dispose();
    copy.dispose();
  });

  it('checks its arguments', () => {
    expect(() => new IndexIVFFlat(d, 0)).toThrow(new RangeError('nlist must be a positive integer; got 0'));
    expect(() => new IndexIVFFlat(new IndexFlatL2(8), d, 4)).toThrow(new RangeError(`quantizer dimension 8 differs from d=${d}`));
  });
});

describe('IndexIVFPQ', () => {
  it('M codes of nbits bits: properties, recall on SIFT, and what it refuses', async () => {
    const index = new IndexIVFPQ(new IndexFlatL2(d), d, 32, 32, 8);
    expect([index.M, index.nbits, index.metricType, index.byResidual]).toEqual([32, 8, METRIC_L2, true]);
    await index.train(base);
    await index.add(base);
    const { labels } = await index.search(queries, 10, { nprobe: 32 });
    // 32 bytes a vector instead of 512: recall@10 well above chance, under exact.
    const recall = recallAt(10, labels, 10, groundTruthL2, SIFT_GT_K);
    expect(recall).toBeGreaterThan(0.6);
    expect(recall).toBeLessThan(1);
    index.dispose();
    expect(() => new IndexIVFPQ(d, 8, 6, 8)).toThrow(new RangeError(`M=6 must divide d=${d}`));
    expect(() => new IndexIVFPQ(d, 8, 16, 25)).toThrow(new RangeError("nbits must be at most 24 (FAISS's limit); got 25"));
    expect(new IndexIVFPQ(d, 8, 16, 4).metricType).toBe(METRIC_INNER_PRODUCT);
  });
});

describe('IndexIVFPQ files', () => {
  const small = randomVectors(2000, 16, 5);
  const index = new IndexIVFPQ(16, 4, 4, 4, METRIC_L2);
  index.trainSync(small);
  index.addSync(small);
  const good = Buffer.from(index.serializeSync());
  // The product quantizer: d, M and nbits as 8-byte values, then its centroids.
  const pattern = Buffer.alloc(24);
  [16n, 4n, 4n].forEach((v, i) => pattern.writeBigUInt64LE(v, i * 8));
  const pqAt = good.indexOf(pattern);

  it('round-trip without trusted: the same class, properties and results (precomputed tables rebuilt)', () => {
    expect(pqAt).toBeGreaterThan(0);
    const copy = deserializeIndexSync(good);
    expect(copy).toBeInstanceOf(IndexIVFPQ);
    expect([(copy as IndexIVFPQ).M, (copy as IndexIVFPQ).nbits]).toEqual([4, 4]);
    const q = small.subarray(0, 20 * 16);
    expect(copy.searchSync(q, 5, { nprobe: 4 })).toEqual(index.searchSync(q, 5, { nprobe: 4 }));
    copy.dispose();
  });

  it.each([
    ['M = 0 (FAISS divides by it while reading)', 8, 0n, /index data holds a zero size that FAISS divides by/],
    ['M = 3, which does not divide d', 8, 3n, /M|multiple of the number of subquantizers/],
    ['nbits = 30', 16, 30n, /nbits larger than 24|M=4, nbits=30/],
  ])('%s: CORRUPT_INDEX, not a crash, trusted or not', (_, offset, value, message) => {
    const bytes = Buffer.from(good);
    bytes.writeBigUInt64LE(value, pqAt + offset);
    for (const trusted of [false, true]) {
      expect(() => deserializeIndexSync(bytes, { trusted })).toThrow(expect.objectContaining({ code: 'CORRUPT_INDEX', message: expect.stringMatching(message) }));
    }
  });
});

// 64-bit ids: addWithIds, removeIds, reconstruct, on IDMap, IDMap2, IVF and flat indexes.
import { describe, expect, it } from 'vitest';
import { FaissError, IndexFlatIP, IndexFlatL2, IndexIDMap, IndexIDMap2, IndexIVFScalarQuantizer, METRIC_L2 } from '../lib';
import { randomVectors } from './helpers/data';

const BIG = [2n ** 60n + 7n, 2n ** 53n + 1n, 2n ** 63n - 1n, -5n, 42n]; // distinct, most beyond Number precision

describe('IndexIDMap', () => {
  it('returns 64-bit ids above 2^53 exactly', async () => {
    const d = 8;
    const x = randomVectors(5, d, 1);
    const index = new IndexIDMap(new IndexFlatL2(d));
    await index.addWithIds(x, BigInt64Array.from(BIG));
    expect(index.ntotal).toBe(5);
    for (let i = 0; i < 5; i++) {
      const { labels, distances } = index.searchSync(x.subarray(i * d, (i + 1) * d), 1);
      expect(labels[0]).toBe(BIG[i]);
      expect(distances[0]).toBe(0);
    }
  });

  it('removes by id and returns the count removed', async () => {
    const d = 4;
    const x = randomVectors(5, d, 2);
    const index = new IndexIDMap(new IndexFlatL2(d));
    index.addWithIdsSync(x, BIG);
    expect(await index.removeIds([BIG[0], BIG[3], 123n])).toBe(2);
    expect(index.ntotal).toBe(3);
    const { labels } = index.searchSync(x, 5);
    const seen = new Set(Array.from(labels).filter((l) => l !== -1n));
    expect(seen).toEqual(new Set([BIG[1], BIG[2], BIG[4]]));
    expect(index.index).toBeInstanceOf(IndexFlatL2);
    expect(index.index.ntotal).toBe(3);
  });

  it('cannot reconstruct (only IDMap2 can), and says so instead of aborting', () => {
    const index = new IndexIDMap(new IndexFlatIP(4));
    index.addWithIdsSync(randomVectors(2, 4, 9), [5n, 6n]);
    expect(() => index.reconstructSync(5n)).toThrow(/reconstruct not implemented/);
    expect(() => index.reconstructNSync(0, 2)).toThrow(/reconstruct not implemented/);
  });

  it('needs an empty index and ids for every add', () => {
    const flat = new IndexFlatIP(4);
    flat.addSync(randomVectors(2, 4, 3));
    expect(() => new IndexIDMap(flat)).toThrow(FaissError);
    const index = new IndexIDMap(new IndexFlatIP(4));
    expect(() => index.addSync(randomVectors(2, 4, 3))).toThrow(/add_with_ids/);
    expect(() => index.addWithIdsSync(randomVectors(2, 4, 3), [1n])).toThrow(new RangeError('ids must hold one id per vector (2); got 1'));
    expect(() => index.addWithIdsSync(randomVectors(1, 4, 3), [1.5])).toThrow(new TypeError('ids[0] must be a bigint or a safe integer; got 1.5'));
    expect(() => new IndexIDMap({} as IndexFlatIP)).toThrow(/^index must be a faiss-native Index; got /);
  });
});

describe('an index inside another', () => {
  const PART = new TypeError('index is part of another (the quantizer of an IVF, the index of an IDMap or IndexRefine) and changes only through it');

  it('changes only through the index it is part of (an add to an IDMap sub-index would leave vectors without ids)', async () => {
    const d = 8;
    const x = randomVectors(20, d, 4);
    const sub = new IndexFlatL2(d);
    const index = new IndexIDMap(sub);
    index.addWithIdsSync(x.subarray(0, 2 * d), [5n, 6n]);
    expect(() => sub.addSync(x)).toThrow(PART);
    await expect(sub.add(x)).rejects.toThrow(PART);
    expect(() => sub.resetSync()).toThrow(PART);
    expect(() => index.index.addSync(x)).toThrow(PART); // the view a getter returns too
    expect(() => new IndexFlatL2(d).mergeFromSync(sub, 0)).toThrow(PART);
    expect(sub.ntotal).toBe(2);
    expect(Array.from(index.searchSync(x.subarray(0, d), 2).labels)).toEqual([5n, 6n]);
    // The quantizer given to an IVF, too.
    const quantizer = new IndexFlatL2(d);
    const ivf = new IndexIVFScalarQuantizer(quantizer, d, 2, 'QT_8bit', METRIC_L2);
    expect(() => quantizer.addSync(x)).toThrow(PART);
    ivf.dispose();
    // Once the index over it is gone, it is its own again.
    index.dispose();
    sub.addSync(x);
    expect(sub.ntotal).toBe(22);
    quantizer.addSync(x);
  });
});

describe('IndexIDMap2', () => {
  it('reconstructs by id, and refuses ids it does not hold', async () => {
    const d = 6;
    const x = randomVectors(5, d, 4);
    const index = new IndexIDMap2(new IndexFlatIP(d));
    expect(index).toBeInstanceOf(IndexIDMap);
    await index.addWithIds(x, BIG);
    for (let i = 0; i < 5; i++) expect(Array.from(await index.reconstruct(BIG[i]))).toEqual(Array.from(x.subarray(i * d, (i + 1) * d)));
    expect(() => index.reconstructSync(77n)).toThrow(FaissError);
    expect(() => index.reconstructSync(77n)).toThrow(/key 77 not found/);
    index.removeIdsSync([BIG[2]]);
    expect(Array.from(index.reconstructSync(BIG[4]))).toEqual(Array.from(x.subarray(4 * d, 5 * d)));
  });
});

describe('flat and IVF indexes', () => {
  it('flat removeIds renumbers the vectors after the removed one, as FAISS does', () => {
    const d = 3;
    const x = randomVectors(4, d, 5);
    const index = new IndexFlatL2(d);
    index.addSync(x);
    expect(index.removeIdsSync(new BigInt64Array([1n]))).toBe(1);
    expect(index.ntotal).toBe(3);
    expect(Array.from(index.reconstructSync(1))).toEqual(Array.from(x.subarray(2 * d, 3 * d)));
    expect(Array.from(index.reconstructNSync(0, 3))).toEqual([...x.subarray(0, d), ...x.subarray(2 * d)]);
    expect(() => index.reconstructSync(3)).toThrow(new RangeError('range [3, 4) is outside 0..3 (ntotal)'));
    expect(() => index.reconstructNSync(2, 2)).toThrow(RangeError);
    expect(() => index.addWithIdsSync(x, [1n, 2n, 3n, 4n])).toThrow(FaissError);
  });

  it('IVF takes ids directly and reconstructs after makeDirectMap', () => {
    const d = 8;
    const x = randomVectors(400, d, 6);
    const index = new IndexIVFScalarQuantizer(d, 4, 'QT_fp16');
    index.trainSync(x);
    const ids = BigInt64Array.from({ length: 400 }, (_, i) => 2n ** 62n + BigInt(i));
    index.addWithIdsSync(x, ids);
    const { labels } = index.searchSync(x.subarray(7 * d, 8 * d), 1, { nprobe: 4 });
    expect(labels[0]).toBe(ids[7]);
    expect(index.removeIdsSync(ids.subarray(0, 10))).toBe(10);
    expect(index.ntotal).toBe(390);

    const seq = new IndexIVFScalarQuantizer(d, 4, 'QT_fp16');
    seq.trainSync(x);
    seq.addSync(x);
    expect(() => seq.reconstructSync(5)).toThrow(FaissError);
    seq.makeDirectMap();
    const back = seq.reconstructSync(5);
    for (let j = 0; j < d; j++) expect(back[j]).toBeCloseTo(x[5 * d + j], 2); // fp16 residuals
  });

  it('reset empties an index and keeps its training', async () => {
    const d = 4;
    const index = new IndexIVFScalarQuantizer(d, 2, 'QT_8bit');
    index.trainSync(randomVectors(100, d, 7));
    index.addSync(randomVectors(10, d, 8));
    await index.reset();
    expect(index.ntotal).toBe(0);
    expect(index.isTrained).toBe(true);
    index.resetSync();
  });
});

// tune(): the nprobe / efSearch it sets is the smallest that meets the recall target in an
// independent sweep (recall against the float64 brute-force ground truth of the SIFT sample).
import { describe, expect, it } from 'vitest';
import { IndexFlatL2, IndexHNSWFlat, IndexIDMap, IndexIVFFlat, METRIC_L2, tune, type Index } from '../lib';
import { recallAt, sift, SIFT_GT_K } from './helpers/data';

const { d, base, queries, nq, groundTruthL2 } = sift();
const K = 10;
/** The ground truth's first K columns, as tune takes them. */
const truthK = Int32Array.from({ length: nq * K }, (_, i) => groundTruthL2[Math.floor(i / K) * SIFT_GT_K + (i % K)]);

/** Recall@10 at each value, measured here. */
function sweep(index: Index, parameter: 'nprobe' | 'efSearch', values: number[]) {
  return values.map((value) => recallAt(K, index.searchSync(queries, K, { [parameter]: value }).labels, K, groundTruthL2, SIFT_GT_K));
}

describe('tune', () => {
  const ivf = new IndexIVFFlat(new IndexFlatL2(d), d, 64, METRIC_L2);
  ivf.trainSync(base);
  ivf.addSync(base);

  it('IVF: sets the smallest nprobe that meets the target, as an independent sweep finds it', async () => {
    const values = [1, 2, 4, 8, 16, 32, 64];
    const recalls = sweep(ivf, 'nprobe', values);
    // A target between two measured recalls, so the choice does not hinge on rounding.
    const at = recalls.findIndex((r) => r >= 0.9);
    const target = (recalls[at - 1] + recalls[at]) / 2;
    const result = await tune(ivf, queries, { k: K, recall: target, groundTruth: truthK });
    expect(result).toMatchObject({ parameter: 'nprobe', value: values[at], met: true });
    expect(result.table.map((p) => p.value)).toEqual(values.slice(0, at + 1));
    result.table.forEach((p, i) => expect(p.recall).toBeCloseTo(recalls[i], 10));
    expect(result.table.every((p) => p.qps > 0)).toBe(true);
    expect(ivf.nprobe).toBe(values[at]);
  });

  it('IVF without ground truth: exact search over the stored vectors gives the same choice (IVF-Flat stores them exactly)', async () => {
    ivf.nprobe = 1;
    const given = await tune(ivf, queries, { k: K, recall: 0.95, groundTruth: truthK });
    const computed = await tune(ivf, queries, { k: K, recall: 0.95 });
    expect(computed.value).toBe(given.value);
    computed.table.forEach((p, i) => expect(Math.abs(p.recall - given.table[i].recall)).toBeLessThanOrEqual(0.005));
  });

  it('a target never met: the largest value, met false', async () => {
    const result = await tune(ivf, queries.subarray(0, 20 * d), { k: K, recall: 1, groundTruth: new Int32Array(20 * K).fill(-5) });
    expect(result).toMatchObject({ value: 64, met: false });
    expect(result.table).toHaveLength(7);
  });

  it('HNSW: walks efSearch from max(k, 16) upward and stops at the first that meets the target', async () => {
    const hnsw = new IndexHNSWFlat(d, 8);
    hnsw.addSync(base);
    const result = await tune(hnsw, queries, { k: K, recall: 0.97, groundTruth: truthK });
    expect(result.parameter).toBe('efSearch');
    expect(result.met).toBe(true);
    expect(result.table[0].value).toBe(16);
    const values = result.table.map((p) => p.value);
    const recalls = sweep(hnsw, 'efSearch', values);
    result.table.forEach((p, i) => expect(p.recall).toBeCloseTo(recalls[i], 10));
    expect(recalls.findIndex((r) => r >= 0.97)).toBe(values.length - 1);
    expect(hnsw.efSearch).toBe(result.value);
    hnsw.dispose();
  });

  it('refuses what it cannot tune', async () => {
    const flat = new IndexFlatL2(d);
    await expect(tune(flat, queries, { k: K, recall: 0.9 })).rejects.toThrow(new TypeError('tune needs an index with an IVF or HNSW layer; this index is IndexFlatL2'));
    await expect(tune(ivf, queries, { k: K, recall: 1.5 })).rejects.toThrow(new RangeError('options.recall must be in (0, 1]; got 1.5'));
    await expect(tune(ivf, queries, { k: K, recall: 0.9, groundTruth: new Int32Array(3) })).rejects.toThrow(/groundTruth must hold nq \* k = 5000 ids; got 3/);
    const idmap = new IndexIDMap(new IndexHNSWFlat(d, 8));
    await expect(tune(idmap, queries, { k: K, recall: 0.9 })).rejects.toThrow(/pass options.groundTruth/);
  });
});

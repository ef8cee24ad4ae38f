// recommend(): its memory model against the real serialized sizes, its choice re-measured
// independently (built again with the settings it returned, recall against brute force), the
// fastest-that-meets rule, and bad input. scripts/bench/advisor-vs-autofaiss.mjs compares its
// choices with autofaiss's.
import { describe, expect, it } from 'vitest';
import { IndexFlatL2, indexFactory, METRIC_L2, recommend } from '../lib';
import { parseBytes } from '../lib/advisor';
import { sift } from './helpers/data';

const data = sift();
const { d } = data;
const K = 10;
// The advisor holds out the last min(200, 10%) of the sample as queries.
const sample = data.base;
const sampleN = sample.length / d;
const nq = Math.min(200, Math.floor(sampleN / 10));
const baseN = sampleN - nq;
const base = sample.subarray(0, baseN * d);
const queries = sample.subarray(baseN * d);

describe('recommend', () => {
  it('sized for the sample itself: every estimate within 10% of the serialized index, and the choice meets the target when rebuilt', async () => {
    const memoryBytes = 200 * baseN; // 200 bytes a vector: no Flat, fp16 or HNSW
    const result = await recommend({ n: baseN, d, metric: METRIC_L2, memoryBytes, recall: 0.9, sample });
    expect(result.bytes).toBeLessThanOrEqual(memoryBytes);
    for (const c of result.candidates) expect(c.fits, c.factory).toBe(c.bytes <= memoryBytes);
    expect(result.candidates.filter((c) => !c.fits).map((c) => c.factory)).toEqual(expect.arrayContaining(['Flat', 'SQfp16', 'HNSW32']));
    // The model of bytes against the real size, for every family that fits.
    for (const c of result.candidates.filter((x) => x.fits)) {
      const index = indexFactory(d, c.sampleFactory!, METRIC_L2);
      if (!index.isTrained) index.trainSync(base);
      index.addSync(base);
      const real = index.serializeSync().length;
      expect(Math.abs(c.bytes - real) / real, `${c.factory}: estimated ${c.bytes}, serialized ${real}`).toBeLessThan(0.1);
      index.dispose();
    }
    // Rebuilt with the returned settings, recall against brute force reaches the target.
    expect(result.met).toBe(true);
    const index = indexFactory(d, result.factory, METRIC_L2);
    Object.assign(index, result.params);
    if (!index.isTrained) index.trainSync(base);
    index.addSync(base);
    const exact = new IndexFlatL2(d);
    exact.addSync(base);
    const truth = exact.searchSync(queries, K).labels;
    const got = index.searchSync(queries, K).labels;
    let hits = 0;
    for (let q = 0; q < nq; q++) {
      const want = new Set(truth.subarray(q * K, (q + 1) * K));
      for (const l of got.subarray(q * K, (q + 1) * K)) hits += want.has(l) ? 1 : 0;
    }
    expect(hits / (nq * K)).toBeGreaterThanOrEqual(0.9);
    // The fastest of those that met the target.
    const meeting = result.candidates.filter((c) => c.fits && c.recall! >= 0.9);
    expect(Math.max(...meeting.map((c) => c.qps!))).toBe(result.candidates.find((c) => c.factory === result.factory)!.qps);
  }, 120_000);

  it('a budget nothing meets the target in: the most accurate that fits, met false; nothing fits: a RangeError', async () => {
    const tight = await recommend({ n: 10_000_000, d, memoryBytes: 30 * 10_000_000, recall: 0.99, sample });
    expect(tight.met).toBe(false);
    const fitting = tight.candidates.filter((c) => c.fits);
    expect(fitting.length).toBeGreaterThan(0);
    expect(tight.recall).toBe(Math.max(...fitting.map((c) => c.recall!)));
    expect(tight.factory).toMatch(/(^|,)IVF16384,/);
    await expect(recommend({ n: 10_000_000, d, memoryBytes: 1e6, recall: 0.9, sample })).rejects.toThrow(/no index of 10000000 vectors of d=128 fits 1000000 bytes/);
  }, 120_000);

  it('checks its options', async () => {
    await expect(recommend({ n: 1000, d, memoryBytes: 1e9, recall: 1.5, sample })).rejects.toThrow(/recall must be in \(0, 1\]/);
    await expect(recommend({ n: 1000, d, memoryBytes: -1, recall: 0.9, sample })).rejects.toThrow(/memoryBytes must be a positive number/);
    await expect(recommend({ n: 1000, d, memoryBytes: 1e9, recall: 0.9, sample: sample.subarray(0, 100 * d) })).rejects.toThrow(/at least 2000 vectors/);
    await expect(recommend({ n: 1000, d: 7, memoryBytes: 1e9, recall: 0.9, sample })).rejects.toThrow(/multiple of d=7/);
    expect([parseBytes('4G'), parseBytes('512M'), parseBytes('1.5K'), parseBytes('1000'), parseBytes('2GiB')]).toEqual([4 * 2 ** 30, 512 * 2 ** 20, 1536, 1000, 2 * 2 ** 30]);
    expect(() => parseBytes('lots')).toThrow(/look like 4G/);
  });
});

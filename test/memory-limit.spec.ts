// Calls whose arguments size their allocations are checked against the memory limit first: a
// careless k must be an error, not the kernel's OOM killer ending the server.
import { afterEach, describe, expect, it } from 'vitest';
import os from 'node:os';
import { getMemoryLimit, IndexFlatIP, IndexIDMap, IndexIVFScalarQuantizer, setMemoryLimit } from '../lib';
import { randomVectors } from './helpers/data';

const defaultLimit = getMemoryLimit();
afterEach(() => setMemoryLimit(defaultLimit));

describe('memory limit', () => {
  const index = new IndexFlatIP(4);
  index.addSync(new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]));
  const query = new Float32Array([1, 0, 0, 0]);

  it('is a quarter of the machine by default', () => {
    expect(defaultLimit).toBe(Math.floor(os.totalmem() / 4));
  });

  it('refuses k = 1e9 (12 GB of results) before allocating, and the index keeps working', async () => {
    setMemoryLimit(Math.min(defaultLimit, 8 * 2 ** 30));
    const rss = process.memoryUsage().rss;
    expect(() => index.searchSync(query, 1e9)).toThrow(RangeError);
    expect(() => index.searchSync(query, 1e9)).toThrow(/search results for nq \* k = 1 \* 1000000000 would allocate 11444\.1 MiB, over the memory limit/);
    await expect(index.search(query, 1e9)).rejects.toThrow(RangeError);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 << 20);
    const { labels } = index.searchSync(query, 2);
    expect(Array.from(labels)).toEqual([0n, 1n]); // ties between 1 and 2 go to the lower id
  });

  it('refuses reconstructN beyond the limit', () => {
    expect(() => index.reconstructNSync(0, 2 ** 40)).toThrow(/reconstructN of 1099511627776 vectors of d=4 would allocate/);
  });

  it('applies the limit that was set, and not to arrays the caller supplies', () => {
    setMemoryLimit(1000);
    expect(getMemoryLimit()).toBe(1000);
    expect(() => index.searchSync(new Float32Array(4 * 10), 10)).toThrow(/search results for nq \* k = 10 \* 10 would allocate 1200 bytes, over the memory limit of 1000 bytes/);
    const out = { distances: new Float32Array(100), labels: new BigInt64Array(100) };
    expect(index.searchSync(new Float32Array(4 * 10), 10, { out }).labels.length).toBe(100);
  });

  it('refuses an add whose growth is over the limit: 2^32 floats (16 GiB, never touched), index unchanged, RSS flat', async () => {
    let huge: Float32Array;
    try {
      huge = new Float32Array(2 ** 32); // the largest typed array V8 makes; calloc maps it lazily
    } catch (e) {
      console.log(`memory-limit: 16 GiB add skipped: this machine will not map it (${String(e)})`);
      return;
    }
    setMemoryLimit(Math.min(defaultLimit, 8 * 2 ** 30));
    const rss = process.memoryUsage().rss;
    const flat = new IndexFlatIP(4);
    expect(() => flat.addSync(huge)).toThrow(/adding 1073741824 vectors to IndexFlat would allocate 16384\.0 MiB, over the memory limit/);
    await expect(flat.add(huge)).rejects.toThrow(RangeError);
    const withIds = new IndexIDMap(new IndexFlatIP(1024));
    const rows = huge.subarray(0, 2 ** 22 * 1024);
    expect(() => withIds.addWithIdsSync(rows, new BigInt64Array(2 ** 22))).toThrow(/adding 4194304 vectors to IndexIDMap would allocate 16416\.0 MiB/);
    expect(flat.ntotal).toBe(0);
    expect(withIds.ntotal).toBe(0);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 << 20);
    flat.addSync(huge.subarray(0, 8)); // still works
    expect(flat.ntotal).toBe(2);
  });

  it('refuses training and IVF lists over the limit, and the index stays untrained', () => {
    expect(() => new IndexIVFScalarQuantizer(8, 2 ** 31 - 1, 'QT_8bit')).toThrow(/an IVF index with nlist=2147483647 would allocate .* over the memory limit/);
    const ivf = new IndexIVFScalarQuantizer(64, 16, 'QT_8bit');
    const x = randomVectors(16 * 39, 64, 1);
    setMemoryLimit(64 << 10);
    expect(() => ivf.trainSync(x)).toThrow(/training on 624 vectors would allocate .* over the memory limit of 65536 bytes/);
    expect(ivf.isTrained).toBe(false);
    setMemoryLimit(defaultLimit);
    ivf.trainSync(x);
    expect(ivf.isTrained).toBe(true);
  });

  it('stops a range search whose results pass the limit, and gives the same results as one search below it', async () => {
    const base = randomVectors(10_000, 8, 2);
    const flat = new IndexFlatIP(8);
    flat.addSync(base);
    const q = randomVectors(200, 8, 3);
    // FAISS computes small batches without BLAS, so the reference searches the same blocks.
    const lims = [0];
    const labels: bigint[] = [];
    const distances: number[] = [];
    for (let b = 0; b < 50; b++) {
      const r = flat.rangeSearchSync(q.subarray(b * 4 * 8, (b + 1) * 4 * 8), 2);
      const offset = lims[lims.length - 1];
      for (let i = 1; i < r.lims.length; i++) lims.push(offset + r.lims[i]);
      labels.push(...r.labels);
      distances.push(...r.distances);
    }
    expect(lims[200]).toBeGreaterThan(1000);
    // 1 MiB: blocks of 4 queries (their worst case, 4 x 10,000 results, fits half of it).
    setMemoryLimit(1 << 20);
    const blocked = flat.rangeSearchSync(q, 2);
    expect(Array.from(blocked.lims)).toEqual(lims);
    expect(blocked.labels).toEqual(BigInt64Array.from(labels));
    expect(blocked.distances).toEqual(Float32Array.from(distances));
    // Every vector is within this radius: 2 million results, 23 MiB, over the 1 MiB limit.
    const rss = process.memoryUsage().rss;
    expect(() => flat.rangeSearchSync(q, -1e30)).toThrow(/rangeSearch with radius -1e\+30 \(\d+ results in the first \d+ of 200 queries\) would allocate .* over the memory limit of 1\.0 MiB/);
    await expect(flat.rangeSearch(q, -1e30)).rejects.toThrow(RangeError);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 << 20);
  });

  it('takes positive safe integers only', () => {
    for (const bad of [0, -1, 1.5, NaN, '1e9', 2 ** 60]) expect(() => setMemoryLimit(bad as number)).toThrow(RangeError);
  });
});

// Calls whose arguments size their allocations are checked against the memory limit first: a
// careless k must be an error, not the kernel's OOM killer ending the server.
import { afterEach, describe, expect, it } from 'vitest';
import os from 'node:os';
import { getMemoryLimit, IndexFlatIP, setMemoryLimit } from '../lib';

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

  it('takes positive safe integers only', () => {
    for (const bad of [0, -1, 1.5, NaN, '1e9', 2 ** 60]) expect(() => setMemoryLimit(bad as number)).toThrow(RangeError);
  });
});

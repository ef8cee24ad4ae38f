// Concurrent async one-query searches coalesce into batched FAISS calls (lib/search-batcher.ts)
// with exactly the results of separate calls; a bad query fails alone; dispose is safe.
import { describe, expect, it } from 'vitest';
import { IndexFlatIP, IndexFlatL2, IndexIVFScalarQuantizer, type Index } from '../lib';
import { native } from '../lib/native';
import { MAX_COALESCED } from '../lib/search-batcher';
import { randomVectors, rng } from './helpers/data';

const d = 64;
const n = 20_000; // above the 4 MB where flat batches take native/split_search.cc
const next = rng(9);
const base = Float32Array.from({ length: n * d }, () => Math.floor(next() * 3)); // many ties
const queries = Float32Array.from({ length: 64 * d }, () => Math.floor(next() * 3));
const query = (i: number) => queries.slice(i * d, (i + 1) * d);

/** Counts the native search calls of an index and the queries in each. */
function countCalls(index: Index): number[] {
  const nat = (index as unknown as { native: { search: (q: Float32Array, ...rest: unknown[]) => Promise<void> } }).native;
  const sizes: number[] = [];
  const search = nat.search.bind(nat);
  // The binding's methods are read-only on its prototype; an own property shadows them.
  Object.defineProperty(nat, 'search', {
    value: (q: Float32Array, ...rest: unknown[]) => {
      sizes.push(q.length / d);
      return search(q, ...rest);
    },
  });
  return sizes;
}

async function ivf(): Promise<IndexIVFScalarQuantizer> {
  const index = new IndexIVFScalarQuantizer(d, 16, 'QT_8bit');
  await index.train(randomVectors(4000, d, 3));
  await index.add(base);
  return index;
}

describe('coalesced searches', () => {
  it.each([
    ['IndexFlatIP', async () => { const i = new IndexFlatIP(d); await i.add(base); return i; }, {}],
    ['IndexFlatL2', async () => { const i = new IndexFlatL2(d); await i.add(base); return i; }, {}],
    ['IVF16 SQ8, nprobe 4', ivf, { nprobe: 4 }],
  ] as const)('%s: 64 concurrent searches take few calls and get the results of separate calls', async (_, make, options) => {
    const index = await make();
    const separate = Array.from({ length: 64 }, (_, i) => index.searchSync(query(i), 10, options));
    const sizes = countCalls(index);
    const split = native.flatSplitSearches();
    const together = await Promise.all(Array.from({ length: 64 }, (_, i) => index.search(query(i), 10, options)));
    expect(together).toEqual(separate);
    // Flat batches run on native/split_search.cc's kernel, IVF ones in FAISS.
    expect(native.flatSplitSearches() - split).toBe(index instanceof IndexIVFScalarQuantizer ? 0 : sizes.length);
    expect(sizes[0]).toBe(1); // the first searches at once, alone
    expect(Math.max(...sizes)).toBe(MAX_COALESCED);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(64);
    expect(sizes.length).toBe(1 + Math.ceil(63 / MAX_COALESCED));
    index.dispose();
  });

  it('groups by k and nprobe; each query gets its own answer', async () => {
    const index = await ivf();
    const ask = (i: number) => ({ k: 1 + (i % 3) * 4, nprobe: 1 + (i % 2) * 7 });
    const separate = Array.from({ length: 30 }, (_, i) => index.searchSync(query(i), ask(i).k, { nprobe: ask(i).nprobe }));
    const sizes = countCalls(index);
    const together = await Promise.all(Array.from({ length: 30 }, (_, i) => index.search(query(i), ask(i).k, { nprobe: ask(i).nprobe })));
    expect(together).toEqual(separate);
    expect(sizes.length).toBeLessThan(30);
    index.dispose();
  });

  it('a query with a NaN fails alone, with its own error; the rest of its batch succeeds', async () => {
    const index = new IndexFlatL2(d);
    await index.add(base);
    const bad = query(5);
    bad[7] = Number.NaN;
    const sizes = countCalls(index);
    const settled = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => index.search(i === 5 ? bad : query(i), 4)));
    settled.forEach((s, i) => {
      if (i === 5) expect(s.status === 'rejected' && s.reason).toBeInstanceOf(RangeError);
      else expect(s.status === 'fulfilled' && s.value).toEqual(index.searchSync(query(i), 4));
    });
    expect(sizes).toEqual([1, MAX_COALESCED, ...Array(MAX_COALESCED).fill(1)]); // the failed batch went again, one by one
    index.dispose();
  });

  it('dispose while batches wait: every search asked for before completes; later calls throw TypeError', async () => {
    const index = new IndexFlatIP(d);
    await index.add(base);
    const expected = Array.from({ length: 40 }, (_, i) => index.searchSync(query(i), 5));
    const sizes = countCalls(index);
    const pending = Array.from({ length: 40 }, (_, i) => index.search(query(i), 5));
    index.dispose();
    await expect(index.search(query(0), 5)).rejects.toThrow(TypeError);
    expect(await Promise.all(pending)).toEqual(expected);
    expect(sizes).toEqual([1, MAX_COALESCED, MAX_COALESCED, 1]);
    expect(() => index.ntotal).toThrow(TypeError);
  });

  it('coalesceSearches = false: one call per search', async () => {
    const index = new IndexFlatIP(d);
    await index.add(base);
    index.coalesceSearches = false;
    const sizes = countCalls(index);
    await Promise.all(Array.from({ length: 10 }, (_, i) => index.search(query(i), 3)));
    expect(sizes).toEqual(Array(10).fill(1));
    index.dispose();
  });
});

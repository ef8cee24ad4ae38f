// Async calls run off the event loop, and the index outlives dispose() while a job runs.
import { describe, expect, it } from 'vitest';
import { IndexFlatL2 } from '../lib';
import { randomVectors } from './helpers/data';

describe('async work', () => {
  const d = 64;
  const base = randomVectors(100_000, d, 21);
  const queries = randomVectors(200, d, 22);

  it('keeps the event loop turning while a large search runs', async () => {
    const index = new IndexFlatL2(d);
    await index.add(base);
    let immediateRan = false;
    setImmediate(() => (immediateRan = true));
    const search = index.search(queries, 10).then((r) => ({ r, immediateRanBefore: immediateRan }));
    const { r, immediateRanBefore } = await search;
    expect(immediateRanBefore).toBe(true);
    expect(r.labels).toHaveLength(200 * 10);
    index.dispose();
  });

  it('finishes a running search correctly after dispose()', async () => {
    const index = new IndexFlatL2(d);
    index.addSync(base);
    const expected = index.searchSync(queries, 5);
    const running = index.search(queries, 5);
    index.dispose();
    const result = await running;
    expect(Array.from(result.labels)).toEqual(Array.from(expected.labels));
    expect(Array.from(result.distances)).toEqual(Array.from(expected.distances));
  });

  it('runs concurrent searches and an add without mixing results', async () => {
    const index = new IndexFlatL2(d);
    index.addSync(base.subarray(0, 50_000 * d));
    const expected = index.searchSync(queries, 3);
    const searches = Array.from({ length: 8 }, () => index.search(queries, 3));
    await Promise.all(searches);
    for (const s of await Promise.all(searches)) expect(Array.from(s.labels)).toEqual(Array.from(expected.labels));
    // An add waits for running searches (exclusive lock) and then is seen by later ones.
    await Promise.all([index.search(queries, 3), index.add(base.subarray(50_000 * d)), index.search(queries, 3)]);
    expect(index.ntotal).toBe(100_000);
  });
});

// Many async calls at once: per-call nprobe never races, changes interleave with searches safely.
import { describe, expect, it } from 'vitest';
import { IndexFlatL2, IndexIVFScalarQuantizer } from '../lib';
import { randomVectors } from './helpers/data';

describe('concurrency', () => {
  const d = 32;
  const base = randomVectors(8000, d, 31);
  const queries = randomVectors(40, d, 32);

  it('200 concurrent searches with mixed per-call nprobe equal the same searches run one by one', async () => {
    const index = new IndexIVFScalarQuantizer(d, 64, 'QT_8bit');
    index.trainSync(base);
    index.addSync(base);
    const calls = Array.from({ length: 200 }, (_, i) => ({ nprobe: [1, 2, 5, 17, 64][i % 5], q: queries.subarray((i % 40) * d, ((i % 40) + 1) * d * (1 + (i % 3))) }));
    const expected = calls.map(({ nprobe, q }) => index.searchSync(q, 10, { nprobe }));
    const results = await Promise.all(calls.map(({ nprobe, q }) => index.search(q, 10, { nprobe })));
    results.forEach((r, i) => {
      expect(Array.from(r.labels)).toEqual(Array.from(expected[i].labels));
      expect(Array.from(r.distances)).toEqual(Array.from(expected[i].distances));
    });
    expect(index.nprobe).toBe(1);
    // Different nprobe really gives different answers, so the equality above means something.
    expect(Array.from(expected[0].labels)).not.toEqual(Array.from(index.searchSync(calls[0].q, 10, { nprobe: 64 }).labels));
  });

  it('adds, removals and resets interleaved with searches never crash and end consistent', async () => {
    const index = new IndexFlatL2(d);
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      jobs.push(index.add(base.subarray(i * 100 * d, (i + 1) * 100 * d)));
      jobs.push(index.search(queries, 5).then((r) => {
        // Whatever the interleaving, every label is -1 or a vector that existed.
        for (const l of r.labels) expect(l >= -1n && l < 4000n).toBe(true);
      }));
      if (i % 10 === 9) jobs.push(index.removeIds([0n, 1n]));
    }
    await Promise.all(jobs);
    expect(index.ntotal).toBe(4000 - 4 * 2);
    await Promise.all([index.reset(), index.search(queries, 5), index.add(base.subarray(0, 10 * d))]);
    expect([0, 10]).toContain(index.ntotal);
  });
});

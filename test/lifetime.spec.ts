// Lifetime: garbage collection during running jobs, and use from worker threads.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { IndexFlatIP, IndexIVFScalarQuantizer } from '../lib';
import { bruteForce } from './helpers/brute-force';
import { randomVectors } from './helpers/data';

const gc = (globalThis as { gc?: () => void }).gc;

describe('lifetime', () => {
  it.skipIf(!gc)('survives garbage collection of the index and its inputs while a search runs', async () => {
    const d = 64;
    let expected: BigInt64Array;
    const running = (() => {
      const base = randomVectors(50_000, d, 41);
      const index = new IndexFlatIP(d);
      index.addSync(base);
      const queries = randomVectors(50, d, 42);
      expected = index.searchSync(queries, 5).labels;
      return index.search(queries, 5); // nothing else references index, base or queries now
    })();
    for (let i = 0; i < 5; i++) gc!();
    const result = await running;
    expect(Array.from(result.labels)).toEqual(Array.from(expected!));
  });

  it.skipIf(!gc)('keeps a quantizer alive after its own wrapper is collected', () => {
    const index = (() => new IndexIVFScalarQuantizer(new IndexFlatIP(8), 8, 4, 'QT_8bit'))();
    for (let i = 0; i < 3; i++) gc!();
    index.trainSync(randomVectors(400, 8, 43));
    index.addSync(randomVectors(40, 8, 44));
    expect(index.quantizer.ntotal).toBe(4);
    expect(index.searchSync(randomVectors(1, 8, 45), 3, { nprobe: 4 }).labels[0]).toBeGreaterThanOrEqual(0n);
  });

  it('works from worker threads while the main thread searches too', async () => {
    const d = 16;
    const base = randomVectors(1000, d, 46);
    const queries = randomVectors(10, d, 47);
    const exact = bruteForce('ip', base, queries, d, 3).ids.flat();
    const runWorker = () =>
      new Promise<number[]>((resolve, reject) => {
        const worker = new Worker(path.join(__dirname, 'fixtures', 'worker-search.cjs'), { workerData: { d, base, queries } });
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    const main = new IndexFlatIP(d);
    main.addSync(base);
    const [a, b, mine] = await Promise.all([runWorker(), runWorker(), main.search(queries, 3)]);
    expect(a).toEqual(exact);
    expect(b).toEqual(exact);
    expect(Array.from(mine.labels, Number)).toEqual(exact);
  });
});

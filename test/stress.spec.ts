// Thousands of mixed async calls on shared indexes, from the main thread and worker threads
// at once: no crash, no deadlock, and results equal to a sequential replay.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { expect, it } from 'vitest';
import { IndexFlatL2 } from '../lib';
import { randomVectors } from './helpers/data';

const fixture = path.join(__dirname, 'fixtures', 'stress.cjs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { stress } = require(fixture) as { stress: (seed: number) => Promise<{ calls: number; problems: string[] }> };

function inWorker(seed: number): Promise<{ calls: number; problems: string[] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(fixture, { workerData: { stress: true, seed } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

it('mixed searches, adds, removals and serialisations on three threads match a sequential replay', async () => {
  const results = await Promise.all([stress(1), inWorker(2), inWorker(3)]);
  for (const { calls, problems } of results) {
    expect(problems).toEqual([]);
    expect(calls).toBeGreaterThan(1500);
  }
});

it('dispose and reset in the middle of running jobs never crash', async () => {
  const d = 16;
  for (let round = 0; round < 20; round++) {
    const index = new IndexFlatL2(d);
    index.addSync(randomVectors(5000, d, round));
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) jobs.push(index.search(randomVectors(50, d, i), 3));
    jobs.push(index.reset(), index.add(randomVectors(10, d, 99)));
    index.dispose();
    const settled = await Promise.allSettled(jobs);
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    expect(() => index.searchSync(randomVectors(1, d, 1), 1)).toThrow('index is disposed');
  }
});

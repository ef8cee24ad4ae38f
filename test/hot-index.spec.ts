// Hot reload: a served index replaced 100 times under continuous concurrent searches.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FaissError, HotIndex, IndexFlatIP, IndexIDMap, type SearchResult, writeIndexSync } from '../lib';
import { randomVectors } from './helpers/data';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-hot-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const d = 64;
const n = 40_000; // 10 MB of vectors per version: a leak of old versions would show in RSS
const queries = randomVectors(8, d, 3);

/** Writes a version of the index: its own vectors and ids starting at `firstId`. */
function writeVersion(file: string, seed: number, firstId: bigint): SearchResult {
  const index = new IndexIDMap(new IndexFlatIP(d));
  index.addWithIdsSync(randomVectors(n, d, seed), BigInt64Array.from({ length: n }, (_, i) => firstId + BigInt(i)));
  writeIndexSync(index, file);
  const result = index.searchSync(queries, 5);
  index.dispose();
  return result;
}

describe('HotIndex', () => {
  const fileA = path.join(dir, 'a.faiss');
  const fileB = path.join(dir, 'b.faiss');
  const expectA = writeVersion(fileA, 1, 0n);
  const expectB = writeVersion(fileB, 2, 1_000_000n);

  // One-query searches coalesce (lib/search-batcher.ts): a reload's dispose of the old version
  // must let the searches waiting in its batcher finish, as it does running ones.
  it.each([
    ['batches of 8 queries', 8, 4],
    ['one query each, coalesced', 1, 8],
  ] as const)('100 reloads during concurrent search loops (%s): every result is one version, zero errors, old versions freed', async (_, nq, loopCount) => {
    const served = await HotIndex.open(fileA);
    const asked = queries.subarray(0, nq * d);
    const same = (r: SearchResult, e: SearchResult) =>
      r.labels.every((l, i) => l === e.labels[i]) && r.distances.every((v, i) => v === e.distances[i]);
    const seen = { a: 0, b: 0, errors: 0, mixed: 0 };
    let running = true;
    const loop = async () => {
      while (running) {
        try {
          const r = await served.search(asked, 5);
          if (same(r, expectA)) seen.a++;
          else if (same(r, expectB)) seen.b++;
          else seen.mixed++;
        } catch {
          seen.errors++;
        }
      }
    };
    const loops = Array.from({ length: loopCount }, loop);
    const rssBefore = process.memoryUsage().rss;
    const versions = [served.index];
    for (let i = 0; i < 100; i++) versions.push(await served.reload(i % 2 ? fileA : fileB));
    running = false;
    await Promise.all(loops);
    const grown = process.memoryUsage().rss - rssBefore; // no gc(): released by the swap itself

    expect(served.reloads).toBe(100);
    expect(seen.errors).toBe(0);
    expect(seen.mixed).toBe(0);
    expect(seen.a).toBeGreaterThan(0);
    expect(seen.b).toBeGreaterThan(0);
    expect(seen.a + seen.b).toBeGreaterThan(100); // searches really ran across the swaps
    expect(same(await served.search(queries, 5), expectA)).toBe(true); // the 100th reload was A
    // Each replaced version is disposed at once (its native memory goes when its last search ends).
    for (const old of versions.slice(0, -1)) expect(() => old.ntotal).toThrow(/index is disposed/);
    expect(versions.at(-1)!.ntotal).toBe(n);
    expect(grown).toBeLessThan(300 * 2 ** 20); // 100 versions of 10 MB kept would be 1 GB
    served.dispose();
  }, 120_000);

  it('a corrupt file or another dimension is refused, and the current version keeps serving', async () => {
    const served = await HotIndex.open(fileA);
    const torn = path.join(dir, 'torn.faiss');
    fs.writeFileSync(torn, fs.readFileSync(fileB).subarray(0, 1000));
    await expect(served.reload(torn)).rejects.toThrow(FaissError);
    const other = new IndexFlatIP(d + 1);
    const wide = path.join(dir, 'wide.faiss');
    writeIndexSync(other, wide);
    await expect(served.reload(wide)).rejects.toThrow(/has d=65; the index it replaces has d=64/);
    expect(served.reloads).toBe(0);
    expect(Array.from((await served.search(queries, 5)).labels)).toEqual(Array.from(expectA.labels));
    await served.reload(fileB); // and the queue goes on after failures
    expect(Array.from(served.searchSync(queries, 5).labels)).toEqual(Array.from(expectB.labels));
    served.dispose();
  });
});

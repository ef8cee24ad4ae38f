// On-disk inverted lists: an IVF index's lists in a data file (FAISS's OnDiskInvertedLists),
// built by moving lists to disk or by merging shards that separate processes built, searched
// exactly as the same index in memory; and data files that are missing, truncated or rewritten
// give errors, never a crash. (Python byte-compatibility: test/parity/on-disk.spec.ts.)
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  deserializeIndexSync,
  FaissError,
  HotIndex,
  Index,
  indexFactory,
  IndexFlatIP,
  IO_FLAG_MMAP,
  IO_FLAG_ONDISK_SAME_DIR,
  METRIC_INNER_PRODUCT,
  mergeOnDisk,
  OnDiskInvertedLists,
  readIndex,
  readIndexSync,
  type SearchResult,
} from '../lib';
import { randomVectors, sift } from './helpers/data';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-ondisk-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => path.join(dir, name);

const { d, base, queries } = sift();
const n = base.length / d;
const k = 10;
const nprobe = 8;

/** A trained, empty IVF64,SQ8 (inner product) with nprobe 8 saved in it. */
function trained(key = 'IVF64,SQ8'): Index {
  const index = indexFactory(d, key, METRIC_INNER_PRODUCT);
  index.trainSync(base);
  index.nprobe = nprobe;
  return index;
}

/** An in-memory copy with every SIFT base vector, ids = rows. */
function inMemory(empty: Index): Index {
  const index = deserializeIndexSync(empty.serializeSync());
  index.addWithIdsSync(base, BigInt64Array.from({ length: n }, (_, i) => BigInt(i)));
  return index;
}

function expectSame(a: SearchResult, b: SearchResult): void {
  expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
  expect(Array.from(a.distances)).toEqual(Array.from(b.distances));
}

const expectFaissError = (fn: () => unknown, code: string, message?: RegExp) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FaissError);
    expect((err as FaissError).code).toBe(code);
    if (message) expect((err as FaissError).message).toMatch(message);
    return;
  }
  throw new Error(`expected FaissError ${code}`);
};

describe.skipIf(process.platform === 'win32')('on-disk inverted lists', () => {
  const empty = trained();
  const reference = inMemory(empty);
  const expected = reference.searchSync(queries, k);

  it('moving lists to disk keeps every vector and every answer, and the data file holds them', async () => {
    const index = inMemory(empty);
    await index.replaceInvlists(new OnDiskInvertedLists(index.nlist, index.codeSize, at('moved.ivfdata')));
    expect(index.ntotal).toBe(n);
    expect(index.onDisk).toEqual({ filename: at('moved.ivfdata'), bytes: fs.statSync(at('moved.ivfdata')).size, readOnly: false });
    // A compact file: each list's codes and ids, nothing else.
    expect(fs.statSync(at('moved.ivfdata')).size).toBe(n * (index.codeSize + 8));
    expectSame(await index.search(queries, k), expected);
    await index.write(at('moved.index'));
    expect(fs.statSync(at('moved.index')).size).toBeLessThan(fs.statSync(at('moved.ivfdata')).size / 4);

    const read = await readIndex(at('moved.index'));
    expect(read.onDisk?.filename).toBe(at('moved.ivfdata'));
    expectSame(await read.search(queries, k), expected);
    // FAISS's read-ahead threads change how fast, never what.
    expect(read.prefetchThreads).toBe(32);
    read.prefetchThreads = 0;
    expectSame(await read.search(queries, k), expected);
    expect(() => reference.prefetchThreads).toThrow(TypeError);
    expect(() => (read.prefetchThreads = -1)).toThrow(RangeError);
    expectSame(deserializeIndexSync(read.serializeSync()).searchSync(queries, k), expected);
  });

  it('adds go to the data file, in the order an in-memory index keeps', async () => {
    const index = trained();
    index.replaceInvlistsSync(new OnDiskInvertedLists(index.nlist, index.codeSize, at('grown.ivfdata')));
    const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i));
    for (let i = 0; i < n; i += 1000) await index.addWithIds(base.subarray(i * d, Math.min(n, i + 1000) * d), ids.subarray(i, i + 1000));
    expect(index.ntotal).toBe(n);
    expectSame(await index.search(queries, k), expected);
    index.writeSync(at('grown.index'));
    expectSame(readIndexSync(at('grown.index')).searchSync(queries, k), expected);
  });

  it('read-only lists refuse changes; removal and merges (FAISS threads) are refused on disk', async () => {
    const readOnly = await readIndex(at('moved.index'), { readOnly: true });
    expect(readOnly.onDisk?.readOnly).toBe(true);
    expect(() => readOnly.addSync(queries)).toThrow(TypeError);
    expectSame(readOnly.searchSync(queries, k), expected);
    // IO_FLAG_MMAP: an in-memory index file's lists read as on-disk lists over the file itself.
    reference.writeSync(at('plain.index'));
    const mapped = readIndexSync(at('plain.index'), { ioFlags: IO_FLAG_MMAP });
    expect(mapped.onDisk).toMatchObject({ filename: '', readOnly: true });
    expectSame(mapped.searchSync(queries, k), expected);
    expect(() => mapped.addSync(queries)).toThrow(TypeError);
    const writable = readIndexSync(at('moved.index'));
    expectFaissError(() => writable.removeIdsSync([1n]), 'FAISS_ERROR', /not supported on on-disk/);
    expectFaissError(() => writable.mergeFromSync(inMemory(empty)), 'FAISS_ERROR', /not supported on on-disk/);
    // A flat index has no lists to move.
    expect(() => new IndexFlatIP(d).replaceInvlistsSync(new OnDiskInvertedLists(1, 4, at('x.ivfdata')))).toThrow(/no IVF layer/);
  });

  it('bad arguments give TypeError or RangeError naming the problem', () => {
    const index = trained();
    expect(() => index.replaceInvlistsSync(new OnDiskInvertedLists(index.nlist + 1, index.codeSize, at('y.ivfdata')))).toThrow(/nlist=65/);
    expect(() => new OnDiskInvertedLists(64, 0, 'z')).toThrow(RangeError);
    expect(() => new OnDiskInvertedLists(64, 128, '')).toThrow(TypeError);
    expect(() => index.replaceInvlistsSync(null as never)).toThrow(TypeError);
    expect(() => index.mergeOnDiskSync([], at('z.ivfdata'))).toThrow(TypeError);
    // The data file an index reads from is never emptied under it.
    const moved = readIndexSync(at('moved.index'));
    expect(() => moved.replaceInvlistsSync(new OnDiskInvertedLists(moved.nlist, moved.codeSize, at('moved.ivfdata')))).toThrow(
      /read from/,
    );
    expectSame(moved.searchSync(queries, k), expected);
  });

  describe('shards built by separate processes, merged on disk', () => {
    const vectorsPath = at('sift-base.f32');
    const trainedPath = at('trained.index');
    const parts = [0, 1500, 3000, n];
    const shardPaths = parts.slice(1).map((_, i) => at(`shard${i}.index`));

    it('3 processes add their parts; mergeOnDisk gives one index that answers as one index built with everything', async () => {
      fs.writeFileSync(vectorsPath, base);
      empty.writeSync(trainedPath);
      const fixture = path.join(__dirname, 'fixtures', 'add-shard.cjs');
      await Promise.all(shardPaths.map((shard, i) =>
        promisify(execFile)(process.execPath, [fixture, trainedPath, vectorsPath, String(d), String(parts[i]), String(parts[i + 1]), shard])));
      const merged = readIndexSync(trainedPath);
      await mergeOnDisk(merged, shardPaths, at('merged.ivfdata'));
      expect(merged.ntotal).toBe(n);
      expectSame(await merged.search(queries, k), expected);
      merged.writeSync(at('merged.index'));
      const served = readIndexSync(at('merged.index'), { readOnly: true });
      expectSame(served.searchSync(queries, k), expected);
      // With ties included: every list and its order are those of the one index.
      expectSame(served.searchSync(queries, 100, { nprobe: 64 }), reference.searchSync(queries, 100, { nprobe: 64 }));
    });

    it('adds after a merge keep the merged lists (FAISS leaves the whole file marked free)', () => {
      const merged = readIndexSync(at('merged.index'));
      const extra = randomVectors(500, d, 5).map((v) => (v + 1) * 90);
      merged.addWithIdsSync(extra, BigInt64Array.from({ length: 500 }, (_, i) => BigInt(n + i)));
      const both = inMemory(empty);
      both.addWithIdsSync(extra, BigInt64Array.from({ length: 500 }, (_, i) => BigInt(n + i)));
      expectSame(merged.searchSync(queries, 100, { nprobe: 64 }), both.searchSync(queries, 100, { nprobe: 64 }));
    });

    it('shiftIds numbers each shard after the ones before it, also when the shards differ in size', () => {
      // Shards whose own ids restart at 0 (as positions would): sizes 1500, 1500, 1500 and 700, 3800.
      for (const cut of [[0, 1500, 3000, n], [0, 700, n]]) {
        const paths = cut.slice(1).map((to, i) => {
          const shard = readIndexSync(trainedPath);
          shard.addSync(base.subarray(cut[i] * d, to * d));
          shard.writeSync(at(`local${i}.index`));
          return at(`local${i}.index`);
        });
        const merged = readIndexSync(trainedPath);
        merged.mergeOnDiskSync(paths, at(`shifted-${cut.length}.ivfdata`), true);
        expectSame(merged.searchSync(queries, 100, { nprobe: 64 }), reference.searchSync(queries, 100, { nprobe: 64 }));
      }
    });

    it('shards that are themselves on disk merge too (Python\'s merge_ondisk reads them unmapped)', () => {
      const onDiskShards = shardPaths.map((shardPath, i) => {
        const shard = readIndexSync(shardPath);
        shard.replaceInvlistsSync(new OnDiskInvertedLists(shard.nlist, shard.codeSize, at(`shard${i}.ivfdata`)));
        shard.writeSync(at(`ondisk-shard${i}.index`));
        return at(`ondisk-shard${i}.index`);
      });
      const merged = readIndexSync(trainedPath);
      merged.mergeOnDiskSync(onDiskShards, at('merged-from-disk.ivfdata'));
      expectSame(merged.searchSync(queries, 100, { nprobe: 64 }), reference.searchSync(queries, 100, { nprobe: 64 }));
    });

    it('refuses shards of another training, a non-empty target, and an output that is an input', () => {
      const other = indexFactory(d, 'IVF64,SQ8', METRIC_INNER_PRODUCT);
      other.trainSync(base.subarray(0, 3000 * d));
      other.addSync(base.subarray(0, 100 * d));
      other.writeSync(at('other.index'));
      expectFaissError(() => readIndexSync(trainedPath).mergeOnDiskSync([shardPaths[0], at('other.index')], at('o.ivfdata')), 'FAISS_ERROR',
        /shard 1 was not built from this trained index/);
      expectFaissError(() => readIndexSync(at('merged.index')).mergeOnDiskSync(shardPaths, at('o.ivfdata')), 'FAISS_ERROR', /empty trained index/);
      expect(() => readIndexSync(trainedPath).mergeOnDiskSync(shardPaths, shardPaths[0])).toThrow(/read from/);
      expect(fs.statSync(shardPaths[0]).size).toBeGreaterThan(100_000);
    });
  });

  describe('data files that are missing, truncated or rewritten', () => {
    const pair = (name: string) => {
      const index = inMemory(empty);
      index.replaceInvlistsSync(new OnDiskInvertedLists(index.nlist, index.codeSize, at(`${name}.ivfdata`)));
      index.writeSync(at(`${name}.index`));
      return [at(`${name}.index`), at(`${name}.ivfdata`)];
    };

    it('a missing data file is an IO_ERROR naming it', async () => {
      const [indexPath, dataPath] = pair('missing');
      fs.rmSync(dataPath);
      expectFaissError(() => readIndexSync(indexPath), 'IO_ERROR', /missing\.ivfdata/);
      await expect(readIndex(indexPath)).rejects.toMatchObject({ code: 'IO_ERROR' });
    });

    it('a data file shorter than its lists is CORRUPT_INDEX at load', () => {
      const [indexPath, dataPath] = pair('short');
      fs.truncateSync(dataPath, fs.statSync(dataPath).size - 1);
      expectFaissError(() => readIndexSync(indexPath), 'CORRUPT_INDEX', /holds \d+ bytes; the index's lists need/);
    });

    it('truncated or rewritten while served: FILE_CHANGED, never SIGBUS', () => {
      const [indexPath, dataPath] = pair('served');
      const index = readIndexSync(indexPath, { readOnly: true });
      expectSame(index.searchSync(queries, k), expected);
      fs.truncateSync(dataPath, 4096);
      expectFaissError(() => index.searchSync(queries, k, { nprobe: 64 }), 'FILE_CHANGED', /inverted-list data file/);

      const [indexPath2, dataPath2] = pair('rewritten');
      const index2 = readIndexSync(indexPath2);
      const bytes = fs.readFileSync(dataPath2);
      bytes.fill(7, 0, 4096);
      fs.writeFileSync(dataPath2, bytes); // in place, as Python's writers do
      expectFaissError(() => index2.searchSync(queries, k), 'FILE_CHANGED');
    });

    it('IO_FLAG_ONDISK_SAME_DIR finds the data file beside a moved index file', () => {
      const [indexPath, dataPath] = pair('moving');
      const moved = fs.mkdtempSync(path.join(dir, 'moved-'));
      fs.renameSync(indexPath, path.join(moved, 'moving.index'));
      fs.renameSync(dataPath, path.join(moved, 'moving.ivfdata'));
      expectFaissError(() => readIndexSync(path.join(moved, 'moving.index')), 'IO_ERROR');
      const index = readIndexSync(path.join(moved, 'moving.index'), { ioFlags: IO_FLAG_ONDISK_SAME_DIR });
      expect(index.onDisk?.filename).toBe(path.join(moved, 'moving.ivfdata'));
      expectSame(index.searchSync(queries, k), expected);
    });

    it('HotIndex reloads a new index and data file pair while serving the old one', async () => {
      const [v1] = pair('hot-v1');
      fs.copyFileSync(v1, at('hot.index'));
      const hot = await HotIndex.open(at('hot.index'));
      expectSame(await hot.search(queries, k), expected);
      // Version 2 under new names, then renamed over the served index file.
      const v2 = trained();
      v2.addWithIdsSync(base.subarray(0, 1000 * d), BigInt64Array.from({ length: 1000 }, (_, i) => BigInt(i)));
      v2.replaceInvlistsSync(new OnDiskInvertedLists(v2.nlist, v2.codeSize, at('hot-v2.ivfdata')));
      v2.writeSync(at('hot-v2.index'));
      fs.renameSync(at('hot-v2.index'), at('hot.index'));
      await hot.reload(at('hot.index'));
      expect(hot.index.ntotal).toBe(1000);
      expect(hot.index.onDisk?.filename).toBe(at('hot-v2.ivfdata'));
      expectSame(await hot.search(queries, k), v2.searchSync(queries, k));
      hot.dispose();
    });
  });
});

// Memory-mapped indexes whose file changes underneath: truncated, rewritten in place (Python's
// write_index opens with "wb"), or replaced by a rename. A search answers from the data it
// mapped or fails with FaissError FILE_CHANGED; the process never dies of SIGBUS.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FaissError, Index, indexFactory, IndexFlatIP, METRIC_INNER_PRODUCT, readIndex, readIndexSync, type SearchResult } from '../lib';
import { randomVectors } from './helpers/data';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-mapped-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const d = 32;
const k = 5;
const queries = randomVectors(16, d, 3);
// Two versions of different sizes, each over 10 MB, so a rewrite takes longer than the
// file system's timestamp tick and always shows in the file's size or mtime.
const KINDS: [string, (n: number, seed: number) => Index][] = [
  ['IndexFlatIP', (n, seed) => {
    const index = new IndexFlatIP(d);
    index.addSync(randomVectors(n, d, seed));
    return index;
  }],
  ['IDMap,IVF16,SQfp16', (n, seed) => {
    const index = indexFactory(d, 'IDMap,IVF16,SQfp16', METRIC_INNER_PRODUCT);
    const x = randomVectors(n, d, seed);
    index.trainSync(x.subarray(0, 2000 * d));
    index.addWithIdsSync(x, BigInt64Array.from({ length: n }, (_, i) => BigInt(seed) * 10_000_000n + BigInt(i)));
    index.nprobe = 16; // stored in the file; every list, so each search reads the whole mapping
    return index;
  }],
];

const sameAs = (a: SearchResult, b: SearchResult) =>
  a.labels.every((l, i) => l === b.labels[i]) && a.distances.every((v, i) => Object.is(v, b.distances[i]));

describe.each(KINDS)('%s read with { mmap: true }', (name, build) => {
  const tag = name.replace(/\W/g, '');
  const fileA = path.join(dir, `${tag}-a.faiss`);
  const fileB = path.join(dir, `${tag}-b.faiss`);
  const a = build(100_000, 1);
  const b = build(110_000, 2);
  a.writeSync(fileA);
  b.writeSync(fileB);
  const expectedA = a.searchSync(queries, k);
  const expectedB = b.searchSync(queries, k);
  const served = path.join(dir, `${tag}-served.faiss`);

  it('a search running while the file is truncated fails with FILE_CHANGED, and so does every later call', async () => {
    fs.copyFileSync(fileA, served);
    const mapped = await readIndex(served, { mmap: true });
    expect(sameAs(mapped.searchSync(queries, k), expectedA)).toBe(true);
    // A batch that reads the whole mapping for a good while; the file loses its data mid-way.
    const many = randomVectors(4000, d, 4);
    const running = mapped.search(many, k);
    setTimeout(() => fs.truncateSync(served, 4096), 20);
    const error = await running.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(FaissError);
    expect((error as FaissError).code).toBe('FILE_CHANGED');
    expect((error as FaissError).message).toMatch(/changed on disk while memory-mapped.*read it again/);
    expect(() => mapped.searchSync(queries, k)).toThrow(expect.objectContaining({ code: 'FILE_CHANGED' }));
    await expect(mapped.reconstructN(0, 1)).rejects.toMatchObject({ code: 'FILE_CHANGED' });
    // Writing it out would copy garbled data: refused, and nothing is written.
    const copy = path.join(dir, `${tag}-copy.faiss`);
    expect(() => mapped.writeSync(copy)).toThrow(expect.objectContaining({ code: 'FILE_CHANGED' }));
    expect(fs.existsSync(copy)).toBe(false);
    mapped.dispose();
  });

  it('a same-size rewrite in place is caught before the next search', async () => {
    fs.copyFileSync(fileA, served);
    const mapped = readIndexSync(served, { mmap: true });
    expect(sameAs(mapped.searchSync(queries, k), expectedA)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20)); // past the timestamp tick of the copy
    const fd = fs.openSync(served, 'r+');
    fs.writeSync(fd, Buffer.alloc(4096, 0x7f), 0, 4096, 8192);
    fs.closeSync(fd);
    await expect(mapped.search(queries, k)).rejects.toMatchObject({ code: 'FILE_CHANGED' });
    mapped.dispose();
  });

  it('a file replaced by a rename keeps answering from the data it mapped', async () => {
    fs.copyFileSync(fileA, served);
    const mapped = await readIndex(served, { mmap: true });
    b.writeSync(served); // temp file, then rename over: the mapped inode stays intact
    expect(sameAs(await mapped.search(queries, k), expectedA)).toBe(true);
    const reloaded = await readIndex(served, { mmap: true });
    expect(sameAs(await reloaded.search(queries, k), expectedB)).toBe(true);
    mapped.dispose();
    reloaded.dispose();
  });

  it("4 search loops while another process rewrites the file in place: every answer is A's or B's", async () => {
    fs.copyFileSync(fileA, served);
    const writer = promisify(execFile)(process.execPath, [path.join(__dirname, 'fixtures', 'rewrite-in-place.cjs'), served, fileA, fileB, '3000']);
    const outcomes = { answers: 0, fileChanged: 0, reloadFailed: 0 };
    let writing = true;
    void writer.finally(() => (writing = false));
    // Each loop serves as a server would: on FILE_CHANGED it reads the file again.
    const loop = async () => {
      let mapped: Index | undefined;
      while (writing) {
        try {
          mapped ??= await readIndex(served, { mmap: true });
        } catch (e) {
          expect(e).toBeInstanceOf(FaissError); // caught mid-rewrite: truncated, or changed while read
          outcomes.reloadFailed++;
          continue;
        }
        try {
          const result = await mapped.search(queries, k);
          expect(sameAs(result, expectedA) || sameAs(result, expectedB)).toBe(true);
          outcomes.answers++;
        } catch (e) {
          expect(e).toMatchObject({ code: 'FILE_CHANGED' });
          outcomes.fileChanged++;
          mapped.dispose();
          mapped = undefined;
        }
      }
      mapped?.dispose();
    };
    await Promise.all([loop(), loop(), loop(), loop()]);
    const rewrites = Number((await writer).stdout);
    console.log(`mapped-file-changes ${name}: ${rewrites} rewrites, ${JSON.stringify(outcomes)}`);
    expect(rewrites).toBeGreaterThan(10);
    expect(outcomes.answers).toBeGreaterThan(0);
    expect(outcomes.fileChanged).toBeGreaterThan(0);
  });
});

// Files and buffers: round trips of every index kind, mmap, atomic writes, corrupt input.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  deserializeIndex,
  deserializeIndexSync,
  FaissError,
  Index,
  indexFactory,
  IndexFlatIP,
  IndexIDMap2,
  IndexIVFScalarQuantizer,
  METRIC_INNER_PRODUCT,
  readIndex,
  readIndexSync,
  serializeIndex,
  serializeIndexSync,
  writeIndex,
  writeIndexSync,
} from '../lib';
import { randomVectors } from './helpers/data';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-io-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const d = 16;
const base = randomVectors(2000, d, 11);
const queries = randomVectors(20, d, 12);

// Each builder returns a filled index and the class a reader must give back.
const KINDS: [string, () => Index, abstract new (...a: never[]) => Index][] = [
  ['IndexFlatIP', () => {
    const index = new IndexFlatIP(d);
    index.addSync(base);
    return index;
  }, IndexFlatIP],
  ['IndexIVFScalarQuantizer SQ8', () => {
    const index = new IndexIVFScalarQuantizer(d, 16, 'QT_8bit');
    index.trainSync(base);
    index.addSync(base);
    index.nprobe = 3; // stored in the file
    return index;
  }, IndexIVFScalarQuantizer],
  ['IndexIDMap2 over flat', () => {
    const index = new IndexIDMap2(new IndexFlatIP(d));
    index.addWithIdsSync(base, BigInt64Array.from({ length: 2000 }, (_, i) => 2n ** 55n + BigInt(i) * 3n));
    return index;
  }, IndexIDMap2],
  ['factory IVF16,SQfp16', () => {
    const index = indexFactory(d, 'IVF16,SQfp16', METRIC_INNER_PRODUCT);
    index.trainSync(base);
    index.addSync(base);
    index.nprobe = 5;
    return index;
  }, IndexIVFScalarQuantizer],
];

function sameResults(a: Index, b: Index) {
  const ra = a.searchSync(queries, 10);
  const rb = b.searchSync(queries, 10);
  expect(Array.from(rb.labels)).toEqual(Array.from(ra.labels));
  expect(Array.from(rb.distances)).toEqual(Array.from(ra.distances));
}

describe.each(KINDS)('%s', (name, build, cls) => {
  const original = build();
  const file = path.join(dir, `${name.replace(/\W+/g, '_')}.faissindex`);

  it('round-trips through a file, sync and async, as the same class', async () => {
    await writeIndex(original, file);
    const a = await readIndex(file);
    const b = readIndexSync(file);
    for (const loaded of [a, b]) {
      expect(loaded).toBeInstanceOf(cls);
      expect(loaded.ntotal).toBe(original.ntotal);
      expect(loaded.metricType).toBe(original.metricType);
      if (original instanceof IndexIVFScalarQuantizer) expect(loaded.nprobe).toBe(original.nprobe);
      sameResults(original, loaded);
    }
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('round-trips through a Buffer holding the same bytes as the file', async () => {
    writeIndexSync(original, file);
    const bytes = await serializeIndex(original);
    expect(Buffer.compare(bytes, fs.readFileSync(file))).toBe(0);
    expect(Buffer.compare(serializeIndexSync(original), bytes)).toBe(0);
    sameResults(original, await deserializeIndex(bytes));
    sameResults(original, deserializeIndexSync(new Uint8Array(bytes)));
  });

  it('round-trips through a memory-mapped file', async () => {
    original.writeSync(file);
    const mapped = await readIndex(file, { mmap: true, readOnly: true });
    expect(mapped).toBeInstanceOf(cls);
    sameResults(original, mapped);
    // FAISS aborts the process when mapped codes change; the binding refuses first.
    const refusal = /index is memory-mapped \(read with \{ mmap: true \}\) and cannot change/;
    expect(() => mapped.addSync(queries)).toThrow(refusal);
    await expect(mapped.add(queries)).rejects.toThrow(refusal);
    expect(() => mapped.removeIdsSync([0n])).toThrow(refusal);
    expect(() => mapped.resetSync()).toThrow(refusal);
    sameResults(original, mapped);
    mapped.dispose();
  });

  it('gives a FaissError, never a crash, for truncated or corrupted bytes', () => {
    const bytes = original.serializeSync();
    for (const cut of [0, 1, 4, 20, 60, Math.floor(bytes.length / 3), bytes.length - 1]) {
      expect(() => deserializeIndexSync(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(FaissError);
    }
    const corrupt = Buffer.from(bytes);
    corrupt.write('XXXX', 0); // unknown index type tag
    expect(() => deserializeIndexSync(corrupt)).toThrow(FaissError);
    const truncatedFile = path.join(dir, 'truncated.faissindex');
    fs.writeFileSync(truncatedFile, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(() => readIndexSync(truncatedFile)).toThrow(FaissError);
  });
});

describe('file errors', () => {
  it('reports a missing file or directory as a FaissError and leaves nothing behind', async () => {
    await expect(readIndex(path.join(dir, 'nope.faissindex'))).rejects.toThrow(FaissError);
    const index = new IndexFlatIP(4);
    const target = path.join(dir, 'no-such-dir', 'x.faissindex');
    await expect(index.write(target)).rejects.toThrow(new FaissError(`cannot write ${target}: the folder does not exist`, 'IO_ERROR'));
    await expect(index.write(target)).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(fs.existsSync(path.dirname(target))).toBe(false);
  });

  it('overwrites an existing index atomically', () => {
    const file = path.join(dir, 'overwrite.faissindex');
    const small = new IndexFlatIP(4);
    small.writeSync(file);
    const big = new IndexFlatIP(4);
    big.addSync(randomVectors(100, 4, 1));
    big.writeSync(file);
    expect(readIndexSync(file).ntotal).toBe(100);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('rejects bad arguments', () => {
    expect(() => readIndexSync(42 as unknown as string)).toThrow(new TypeError('path must be a non-empty string; got number'));
    expect(() => deserializeIndexSync('abc' as unknown as Uint8Array)).toThrow(new TypeError('bytes must be a Buffer or Uint8Array; got string'));
    expect(() => writeIndexSync({} as Index, 'x')).toThrow(TypeError);
  });
});

// mergeFrom (FAISS's merge_from): the merged index answers as one built with all the vectors,
// the source is left empty, and merges FAISS would get wrong are refused with clear errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  deserializeIndexSync,
  FaissError,
  Index,
  IndexFlatIP,
  IndexFlatL2,
  IndexIDMap2,
  IndexIVFScalarQuantizer,
  readIndexSync,
} from '../lib';
import { randomVectors } from './helpers/data';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-merge-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const d = 16;
const n = 2000;
const base = randomVectors(n, d, 21);
const queries = randomVectors(30, d, 22);
const half = (n / 2) * d;
const ids = BigInt64Array.from({ length: n }, (_, i) => 10_000n + BigInt(i) * 7n);

function expectSameResults(a: Index, b: Index) {
  const ra = a.searchSync(queries, 10);
  const rb = b.searchSync(queries, 10);
  expect(ra.labels).toEqual(rb.labels);
  expect(ra.distances).toEqual(rb.distances);
}

describe('mergeFrom', () => {
  it('flat: the merged index answers as one built with all vectors, numbered on; the source is empty', async () => {
    const whole = new IndexFlatIP(d);
    whole.addSync(base);
    const a = new IndexFlatIP(d);
    const b = new IndexFlatIP(d);
    a.addSync(base.subarray(0, half));
    b.addSync(base.subarray(half));
    await a.mergeFrom(b);
    expect(a.ntotal).toBe(n);
    expect(b.ntotal).toBe(0);
    expectSameResults(a, whole);
    b.addSync(base.subarray(0, d)); // the emptied source still works
    expect(b.ntotal).toBe(1);
  });

  it('IVF-SQ sharing one trained state: same results as one index, ids kept, addId added', () => {
    const trained = new IndexIVFScalarQuantizer(d, 16, 'QT_8bit');
    trained.trainSync(base);
    const bytes = trained.serializeSync();
    const whole = deserializeIndexSync(bytes);
    whole.addWithIdsSync(base, ids);
    const a = deserializeIndexSync(bytes);
    const b = deserializeIndexSync(bytes);
    a.addWithIdsSync(base.subarray(0, half), ids.subarray(0, n / 2));
    b.addWithIdsSync(base.subarray(half), ids.subarray(n / 2));
    a.mergeFromSync(b);
    expect([a.ntotal, b.ntotal]).toEqual([n, 0]);
    a.nprobe = whole.nprobe = 16;
    expectSameResults(a, whole);

    const c = deserializeIndexSync(bytes);
    const e = deserializeIndexSync(bytes);
    e.addWithIdsSync(base.subarray(0, d), [5n]);
    c.mergeFromSync(e, 1000);
    c.nprobe = 16;
    expect(c.searchSync(base.subarray(0, d), 1).labels[0]).toBe(1005n);
  });

  it('IDMap2: ids travel with their vectors and reconstruct by id', async () => {
    const a = new IndexIDMap2(new IndexFlatL2(d));
    const b = new IndexIDMap2(new IndexFlatL2(d));
    a.addWithIdsSync(base.subarray(0, half), ids.subarray(0, n / 2));
    b.addWithIdsSync(base.subarray(half), ids.subarray(n / 2));
    await a.mergeFrom(b);
    expect(b.ntotal).toBe(0);
    expect(a.reconstructSync(ids[n - 1])).toEqual(base.subarray((n - 1) * d));
    const whole = new IndexIDMap2(new IndexFlatL2(d));
    whole.addWithIdsSync(base, ids);
    expectSameResults(a, whole);
  });

  it('refuses, with the index unchanged: other d, other metric, other type, other centroids, untrained, mapped, itself', async () => {
    const a = new IndexFlatIP(d);
    a.addSync(base.subarray(0, 10 * d));
    expect(() => a.mergeFromSync(new IndexFlatIP(d + 1))).toThrow(/cannot merge an index of d=17 into one of d=16/);
    expect(() => a.mergeFromSync(new IndexFlatL2(d))).toThrow(RangeError);
    expect(() => a.mergeFromSync(new IndexFlatL2(d))).toThrow(/cannot merge an index of metric 1 into one of metric 0/);
    const ivf = new IndexIVFScalarQuantizer(d, 16, 'QT_8bit');
    expect(() => a.mergeFromSync(ivf)).toThrow(FaissError);
    expect(() => a.mergeFromSync(ivf)).toThrow(/cannot merge IndexIVFScalarQuantizer into IndexFlat/);
    await expect(ivf.mergeFrom(new IndexIVFScalarQuantizer(d, 16, 'QT_8bit'))).rejects.toThrow(/cannot merge untrained IVF indexes/);
    const x = new IndexIVFScalarQuantizer(d, 16, 'QT_8bit');
    const y = new IndexIVFScalarQuantizer(d, 16, 'QT_8bit');
    x.trainSync(base);
    y.trainSync(base.subarray(half)); // other centroids
    y.addSync(base.subarray(0, d));
    expect(() => x.mergeFromSync(y)).toThrow(FaissError);
    expect([x.ntotal, y.ntotal]).toEqual([0, 1]);
    const file = path.join(dir, 'flat.faiss');
    a.writeSync(file);
    const mapped = readIndexSync(file, { mmap: true });
    expect(() => a.mergeFromSync(mapped)).toThrow(TypeError);
    expect(() => mapped.mergeFromSync(a)).toThrow(TypeError);
    expect(() => a.mergeFromSync(a)).toThrow(/cannot merge an index into itself/);
    expect(() => a.mergeFromSync({} as Index)).toThrow(/other must be a faiss-native Index/);
    expect(a.ntotal).toBe(10);
  });
});

// FastScan (IndexPQFastScan, IndexIVFPQFastScan): recall on the SIFT sample against the same
// product quantizer scanned code by code, files, filters, argument checks and the load-time
// checks of their layout. Python parity (files and results both ways) is in
// test/parity/parity.spec.ts.
import { describe, expect, it } from 'vitest';
import { deserializeIndexSync, FaissError, IndexIVFPQFastScan, IndexFlatL2, IndexPQFastScan, indexFactory, METRIC_L2 } from '../lib';
import { randomVectors, recallAt, sift, SIFT_GT_K } from './helpers/data';

const K = 10;
const data = sift();
const { d } = data;
const recall = (labels: BigInt64Array) => recallAt(K, labels, K, data.groundTruthL2, SIFT_GT_K);

describe('IndexPQFastScan', () => {
  it('recall as the same 4-bit product quantizer scanned code by code, M / 2 bytes a vector; files; its shape', () => {
    const fast = new IndexPQFastScan(d, 32);
    expect([fast.M, fast.nbits, fast.bbs, fast.metricType]).toEqual([32, 4, 32, METRIC_L2]);
    fast.trainSync(data.base);
    fast.addSync(data.base);
    const pq = indexFactory(d, 'PQ32x4', METRIC_L2);
    pq.trainSync(data.base);
    pq.addSync(data.base);
    const [fastRecall, pqRecall] = [recall(fast.searchSync(data.queries, K).labels), recall(pq.searchSync(data.queries, K).labels)];
    expect(fastRecall).toBeGreaterThan(0.3);
    expect(Math.abs(fastRecall - pqRecall)).toBeLessThan(0.05);
    const bytes = fast.serializeSync();
    expect(bytes.length / fast.ntotal).toBeGreaterThanOrEqual(16);
    expect(bytes.length / fast.ntotal).toBeLessThan(16 + (16 * 128 * 4 + 1000) / fast.ntotal);
    const copy = deserializeIndexSync(bytes) as IndexPQFastScan;
    expect(copy).toBeInstanceOf(IndexPQFastScan);
    expect(Array.from(copy.searchSync(data.queries, K).labels)).toEqual(Array.from(fast.searchSync(data.queries, K).labels));
    // FAISS takes no per-call parameters for it: a filter is an error naming that.
    expect(() => fast.searchSync(data.queries, K, { filter: { range: [0, 10] } })).toThrow(/search params not supported/);
    for (const index of [fast, pq, copy]) index.dispose();
  });

  it.each([
    [() => new IndexPQFastScan(d, 32, 8), RangeError, 'nbits must be 4'],
    [() => new IndexPQFastScan(d, 30), RangeError, 'M=30 must divide d=128'],
    [() => new IndexPQFastScan(d, 32, 4, METRIC_L2, 48), RangeError, 'bbs must be a multiple of 32'],
    [() => new IndexIVFPQFastScan(d, 16, 32, 4, METRIC_L2, 2048), RangeError, 'bbs must be a multiple of 32, at most 1024'],
  ])('bad arguments: %s', (make, Err, message) => {
    expect(make).toThrow(Err);
    expect(make).toThrow(message);
  });
});

describe('IndexIVFPQFastScan', () => {
  it('recall rises with nprobe; the factory string makes the same class; files; a filter through the IVF', () => {
    const index = new IndexIVFPQFastScan(new IndexFlatL2(d), d, 32, 32);
    expect([index.M, index.nbits, index.bbs, index.nlist]).toEqual([32, 4, 32, 32]);
    index.trainSync(data.base);
    index.addSync(data.base);
    const at = (nprobe: number) => recall(index.searchSync(data.queries, K, { nprobe }).labels);
    expect(at(1)).toBeLessThan(at(8));
    expect(at(32)).toBeGreaterThan(0.3);
    expect(indexFactory(d, 'IVF32,PQ32x4fs', METRIC_L2)).toBeInstanceOf(IndexIVFPQFastScan);
    const copy = deserializeIndexSync(index.serializeSync()) as IndexIVFPQFastScan;
    expect([copy.constructor, copy.bbs, copy.M]).toEqual([IndexIVFPQFastScan, 32, 32]);
    const a = index.searchSync(data.queries, K, { nprobe: 8 });
    const b = copy.searchSync(data.queries, K, { nprobe: 8 });
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    expect(Array.from(b.distances)).toEqual(Array.from(a.distances));
    // Decoding after a load (FAISS's reader leaves its decoder unset: this read through null).
    expect(Array.from(copy.reconstructNSync(0, 3))).toEqual(Array.from(index.reconstructNSync(0, 3)));
    const filtered = index.searchSync(data.queries, K, { nprobe: 8, filter: { range: [0, 500] } });
    expect(filtered.labels.every((l) => l >= 0n && l < 500n)).toBe(true);
    index.dispose();
    copy.dispose();
  });
});

describe('FastScan files that lie', () => {
  const x = randomVectors(100, 16, 9);
  const u64 = (v: number | bigint) => Buffer.from(new BigUint64Array([BigInt(v)]).buffer);
  const i32 = (v: number) => Buffer.from(new Int32Array([v]).buffer);
  const flat = new IndexPQFastScan(16, 4);
  flat.trainSync(x);
  flat.addSync(x);
  const flatBytes = Buffer.from(flat.serializeSync());
  // After the product quantizer: implem, bbs, qbs (int each), ntotal2, M2 (size_t each).
  const layout = flatBytes.indexOf(Buffer.concat([i32(0), i32(32), i32(0), u64(128), u64(4)]));
  const ivf = new IndexIVFPQFastScan(16, 4, 4);
  ivf.trainSync(x);
  ivf.addSync(x);
  const ivfBytes = Buffer.from(ivf.serializeSync());
  // The block lists' header: nlist, code size, vectors a block, bytes a block (size_t each).
  const lists = ivfBytes.indexOf(Buffer.concat([u64(4), u64(BigInt.asUintN(64, -1n)), u64(32), u64(64)]));

  it('the files hold the fields where expected', () => {
    expect([layout > 0, lists > 0]).toEqual([true, true]);
    expect(deserializeIndexSync(flatBytes).ntotal).toBe(100);
    expect(deserializeIndexSync(ivfBytes).ntotal).toBe(100);
  });

  it.each([
    ['IndexPQFastScan: a block size that is not a multiple of 32', () => flatBytes, (b: Buffer) => b.writeInt32LE(48, layout + 4), 'bbs=48'],
    ['IndexPQFastScan: query blocks of 5', () => flatBytes, (b: Buffer) => b.writeInt32LE(5, layout + 8), 'qbs=0x5'],
    ['IndexPQFastScan: ntotal2 short of its vectors', () => flatBytes, (b: Buffer) => b.writeBigUInt64LE(96n, layout + 12), 'ntotal2=96'],
    ['IndexPQFastScan: M2 that differs from M', () => flatBytes, (b: Buffer) => b.writeBigUInt64LE(6n, layout + 20), 'M2=6'],
    ['IndexIVFPQFastScan: blocks of another size', () => ivfBytes, (b: Buffer) => b.writeBigUInt64LE(128n, lists + 24), 'inverted lists in blocks'],
  ])('%s: a FaissError naming it', (_, bytes, lie, message) => {
    const b = Buffer.from(bytes());
    lie(b);
    expect(() => deserializeIndexSync(b)).toThrow(FaissError);
    expect(() => deserializeIndexSync(b)).toThrow(message);
  });
});

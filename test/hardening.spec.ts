// Hostile index bytes: fuzzed cases (short form of scripts/check/fuzz-index-io.mjs), allocation
// budget, and structure checks that FAISS itself does not make.
import { describe, expect, it } from 'vitest';
import * as faiss from '../lib';
// @ts-expect-error: a plain ES module without type declarations
import { mutate, seedIndexes, tryCase, viaMappedFile } from '../scripts/check/fuzz-index-io.mjs';

describe('hostile index bytes', () => {
  it('1,500 mutated and truncated indexes of every kind (binary ones too) throw cleanly or load and work', () => {
    const { d, seeds } = seedIndexes(faiss) as { d: number; seeds: { name: string; bytes: Buffer; binary?: boolean }[] };
    expect(seeds.filter((s) => s.binary).length).toBe(7);
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < 1500; i++) {
      const seed = seeds[i % seeds.length];
      const outcome = tryCase(faiss, mutate(seed.bytes, 7, i), d, viaMappedFile(i), seed.binary) as string;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    expect(outcomes.loaded).toBeGreaterThan(50);
    expect(outcomes['rejected: CORRUPT_INDEX']).toBeGreaterThan(400);
  });

  it('refuses a size field that asks for gigabytes, without allocating them', () => {
    const index = new faiss.IndexFlatIP(4);
    index.addSync(new Float32Array(8).fill(1));
    const bytes = Buffer.from(index.serializeSync());
    // The codes vector is the last field: its element count (8 floats) sits just before its 32 bytes.
    expect(bytes.readBigUInt64LE(bytes.length - 40)).toBe(8n);
    bytes.writeBigUInt64LE(2n ** 31n, bytes.length - 40); // 8 GiB of floats
    const rss = process.memoryUsage().rss;
    let error: unknown;
    try {
      faiss.deserializeIndexSync(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(faiss.FaissError);
    expect((error as faiss.FaissError).code).toBe('CORRUPT_INDEX');
    expect((error as faiss.FaissError).message).toMatch(/index data asks for 8589934592 bytes at once, more than its size can hold/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 << 20);
  });

  it('rejects parts that do not fit together, which FAISS would read out of bounds', () => {
    const index = new faiss.IndexScalarQuantizer(8, 'QT_8bit');
    index.trainSync(new Float32Array(80).map((_, i) => i % 7));
    index.addSync(new Float32Array(16).fill(2));
    const bytes = Buffer.from(index.serializeSync());
    // ntotal (int64 after the fourcc and d) claims more vectors than the codes hold.
    expect(bytes.toString('latin1', 0, 4)).toBe('IxSQ');
    expect(bytes.readBigInt64LE(8)).toBe(2n);
    bytes.writeBigInt64LE(1000n, 8);
    expect(() => faiss.deserializeIndexSync(bytes)).toThrow(/index holds 16 bytes of codes for 1000 vectors of 8 bytes/);
  });

  it('rejects a count whose product with the code size wraps around 2^64 to the real size', () => {
    const index = new faiss.IndexFlatIP(4); // 16-byte codes
    index.addSync(new Float32Array(40).fill(1));
    const bytes = Buffer.from(index.serializeSync());
    expect(bytes.readBigInt64LE(8)).toBe(10n);
    bytes.writeBigInt64LE(2n ** 60n + 10n, 8); // (2^60 + 10) * 16 = 2^64 + 160, i.e. 160 after wrapping
    expect(() => faiss.deserializeIndexSync(bytes)).toThrow(/codes size overflows: 1152921504606846986 x 16/);
    expect(() => faiss.deserializeIndexSync(bytes)).toThrow(expect.objectContaining({ code: 'CORRUPT_INDEX' }));
  });

  it('refuses index types whose fields it does not check, by name, unless the caller trusts the data', () => {
    const hnsw = faiss.indexFactory(8, 'HNSW8,SQ8'); // FAISS builds it; this binding has no checks for its storage yet
    const x = new Float32Array(8 * 20).map((_, i) => (i * 7) % 5);
    hnsw.trainSync(x);
    hnsw.addSync(x);
    const bytes = hnsw.serializeSync();
    expect(() => faiss.deserializeIndexSync(bytes)).toThrow(/faiss-native does not load faiss::IndexHNSWSQ indexes yet \(unless read with trusted: true\)/);
    expect(() => faiss.deserializeIndexSync(bytes)).toThrow(expect.objectContaining({ code: 'FAISS_ERROR' }));
    expect(() => faiss.deserializeIndexSync(bytes, { trusted: 1 as unknown as boolean })).toThrow(TypeError);
    const loaded = faiss.deserializeIndexSync(bytes, { trusted: true });
    expect(loaded.ntotal).toBe(20);
    expect(loaded.searchSync(x.subarray(0, 16), 5)).toEqual(hnsw.searchSync(x.subarray(0, 16), 5));
  });

  it('still checks the base-class fields of trusted types', () => {
    const pq = faiss.indexFactory(8, 'PQ4x4');
    const x = new Float32Array(8 * 300).map((_, i) => Math.sin(i));
    pq.trainSync(x);
    pq.addSync(x.subarray(0, 80));
    const bytes = Buffer.from(pq.serializeSync());
    expect(bytes.readBigInt64LE(8)).toBe(10n);
    bytes.writeBigInt64LE(2n ** 62n, 8);
    expect(() => faiss.deserializeIndexSync(bytes, { trusted: true })).toThrow(expect.objectContaining({ code: 'CORRUPT_INDEX' }));
  });
});

// Bad input gets a clear TypeError/RangeError naming the argument; FAISS failures a FaissError.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deserializeIndex, FaissError, HotIndex, indexFactory, IndexFlatIP, IndexFlatL2, IndexIVFFlat, readIndex, readIndexSync } from '../lib';

describe('argument errors', () => {
  it('rejects a bad dimension', () => {
    for (const d of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      expect(() => new IndexFlatIP(d)).toThrow(RangeError);
    }
    expect(() => new IndexFlatIP('8' as unknown as number)).toThrow('d must be a positive integer; got 8');
  });

  it('rejects vectors of the wrong type or length, naming the argument', async () => {
    const index = new IndexFlatL2(4);
    expect(() => index.addSync(new Float64Array(8) as unknown as Float32Array)).toThrow(
      new TypeError('x must be a Float32Array or an array of number arrays; got Float64Array'),
    );
    expect(() => index.addSync(new Float32Array(6))).toThrow(
      new RangeError('x must be a Float32Array whose length is a multiple of d=4; got length 6'),
    );
    expect(() => index.addSync([[1, 2, 3, 4], [1, 2]])).toThrow(new RangeError('x[1] must be an array of d=4 numbers; got length 2'));
    await expect(index.add(null as unknown as Float32Array)).rejects.toThrow('x must be a Float32Array or an array of number arrays; got null');
    await expect(index.search(new Float32Array(5), 1)).rejects.toThrow(
      'q must be a Float32Array whose length is a multiple of d=4; got length 5',
    );
    expect(index.ntotal).toBe(0);
  });

  it('rejects k below 1 or not an integer', () => {
    const index = new IndexFlatIP(2);
    index.addSync(new Float32Array([1, 0]));
    for (const k of [0, -3, 2.5, Number.NaN]) {
      expect(() => index.searchSync(new Float32Array(2), k)).toThrow(new RangeError(`k must be an integer of at least 1; got ${k}`));
    }
  });

  it('rejects result arrays that are too small or of the wrong type', () => {
    const index = new IndexFlatIP(2);
    const q = new Float32Array(4); // nq = 2
    expect(() => index.searchSync(q, 3, { out: { distances: new Float32Array(5), labels: new BigInt64Array(6) } })).toThrow(
      'options.out arrays must hold nq * k = 6 results; got distances.length=5, labels.length=6',
    );
    const wrong = { distances: new Float32Array(6), labels: new Int32Array(6) as unknown as BigInt64Array };
    expect(() => index.searchSync(q, 3, { out: wrong })).toThrow(TypeError);
  });

  it('throws a clear error after dispose, and dispose twice is harmless', async () => {
    const index = new IndexFlatIP(2);
    index.dispose();
    index.dispose();
    expect(() => index.ntotal).toThrow(new TypeError('index is disposed'));
    expect(() => index.addSync(new Float32Array(2))).toThrow('index is disposed');
    await expect(index.search(new Float32Array(2), 1)).rejects.toThrow('index is disposed');
  });
});

describe('FaissError', () => {
  it('carries FAISS message and code when FAISS refuses', () => {
    let error: unknown;
    try {
      indexFactory(8, 'NoSuchIndexType');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FaissError);
    expect((error as FaissError).code).toBe('FAISS_ERROR');
    expect((error as FaissError).name).toBe('FaissError');
    expect((error as FaissError).message).toMatch(/could not parse index string NoSuchIndexType/);
  });
});

describe('FaissError across copies of the package', () => {
  it('is instanceof FaissError in every copy loaded in one process (they share one addon)', () => {
    // dist/ is a second copy of lib/ here; it re-registers its own class with the addon.
    const dist = createRequire(import.meta.url)('../dist') as { FaissError: typeof FaissError; IndexFlatL2: typeof IndexFlatL2 };
    expect(dist.FaissError).not.toBe(FaissError);
    expect(new dist.FaissError('x')).toBeInstanceOf(FaissError);
    expect(new FaissError('x')).toBeInstanceOf(dist.FaissError);
    expect(new Error('x')).not.toBeInstanceOf(FaissError);
    expect(() => indexFactory(4, 'IVF2,Flat').addSync(new Float32Array(4))).toThrow(FaissError);
    expect(() => new dist.IndexFlatL2(4).addSync(new Float32Array(3))).toThrow(RangeError);
  });
});

describe('rejected promises point at the caller', () => {
  // Each rejection below is made in a libuv callback, where no JavaScript frame exists.
  async function rejectionOf(job: () => Promise<unknown>): Promise<Error> {
    try {
      await job();
    } catch (err) {
      return err as Error;
    }
    throw new Error('expected a rejection');
  }

  it('search (alone and coalesced), add, write, read, deserialize and reload name this spec file', async () => {
    const index = new IndexFlatL2(4);
    index.addSync(new Float32Array(8).fill(1));
    // HotIndex runs reloads from its queue: a missing file, and a file of another dimension.
    const other = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-errors-')), 'd8.index');
    new IndexFlatL2(8).writeSync(other);
    const served = new HotIndex(new IndexFlatL2(4));
    const nan = new Float32Array(4).fill(Number.NaN);
    const coalesced = await Promise.all([index.search(new Float32Array(4), 1), rejectionOf(() => index.search(nan, 1))]);
    const errors = [
      coalesced[1],
      await rejectionOf(() => index.search(new Float32Array(8).fill(Number.NaN), 1)),
      await rejectionOf(() => index.add(nan)),
      await rejectionOf(() => index.write('/nonexistent-dir/x.index')),
      await rejectionOf(() => readIndex('/nonexistent-dir/x.index')),
      await rejectionOf(() => deserializeIndex(Buffer.from('not an index'))),
      await rejectionOf(() => new IndexIVFFlat(4, 2).add(new Float32Array(4))),
      await rejectionOf(() => served.reload('/nonexistent-dir/x.index')),
      await rejectionOf(() => served.reload(other)),
    ];
    for (const err of errors) {
      expect(err.stack).toContain(err.message.split('\n')[0]);
      expect(err.stack, err.message).toContain('errors.spec.ts');
    }
    expect(errors[6]).toBeInstanceOf(FaissError);
    expect(errors[8]).toBeInstanceOf(RangeError);
    index.dispose();
    served.dispose();
    fs.rmSync(path.dirname(other), { recursive: true });
  });
});

describe('messages a person can read', () => {
  // Each leads with what happened to which argument or file; FAISS's own text, with its
  // function and source location, stays in faissMessage; no build path reaches a message.
  const noBuildPath = (message: string) => expect(message).not.toMatch(/\.cpp|\.cc|\/faiss\/|native\/|Error in /);

  it('common failures, one by one', async () => {
    const cases: [() => unknown, Partial<FaissError>][] = [
      [() => new IndexIVFFlat(4, 2).addSync(new Float32Array(4)), { code: 'FAISS_ERROR', message: 'cannot add to an untrained IndexIVFFlat: call train() first' }],
      [() => indexFactory(8, 'IVF99999999999,Flat'), { code: 'FAISS_ERROR', message: "cannot parse factory string 'IVF99999999999,Flat': nlist 99999999999 is out of range (at most 2147483647)" }],
      [() => indexFactory(8, 'IVF16_HNSW4294967296,Flat'), { code: 'FAISS_ERROR', message: "cannot parse factory string 'IVF16_HNSW4294967296,Flat': M 4294967296 is out of range (at most 2147483647)" }],
      [() => readIndexSync('/nonexistent-dir/x.index'), { code: 'IO_ERROR', message: 'cannot read /nonexistent-dir/x.index: no such file' }],
      [() => new IndexFlatL2(4).writeSync('/nonexistent-dir/x.index'), { code: 'IO_ERROR', message: 'cannot write /nonexistent-dir/x.index: the folder does not exist' }],
    ];
    for (const [run, want] of cases) {
      let error: FaissError | undefined;
      try {
        run();
      } catch (e) {
        error = e as FaissError;
      }
      expect(error).toBeInstanceOf(FaissError);
      expect(error).toMatchObject(want);
      noBuildPath(error!.message);
    }
    await expect(readIndex('/nonexistent-dir/x.index')).rejects.toMatchObject({ code: 'IO_ERROR', message: 'cannot read /nonexistent-dir/x.index: no such file' });
  });

  it("FAISS's refusals lead with the cause and keep FAISS's text in faissMessage", () => {
    let error: FaissError | undefined;
    try {
      indexFactory(8, 'NoSuchIndexType');
    } catch (e) {
      error = e as FaissError;
    }
    expect(error!.message).toMatch(/^cannot parse factory string 'NoSuchIndexType': could not parse index string NoSuchIndexType/);
    expect(error!.faissMessage).toMatch(/^Error in .* at .*:\d+: /);
    noBuildPath(error!.message);
    // A FAISS check with no message of ours: "FAISS's check <condition> failed".
    const flat = new IndexFlatL2(4);
    flat.addSync(new Float32Array(8));
    try {
      flat.mergeFromSync(new IndexIVFFlat(4, 2));
    } catch (e) {
      error = e as FaissError;
    }
    expect(error!.message).not.toMatch(/^Error in/);
    noBuildPath(error!.message);
  });
});

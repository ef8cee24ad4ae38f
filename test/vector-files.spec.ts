// readNpy / writeNpy / readFvecs / readBvecs / readIvecs against NumPy and faiss.contrib.vecs_io
// (Python writes, Node reads, and the other way round), and the files they refuse.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FaissError, readBvecs, readFvecs, readIvecs, readNpy, writeNpy } from '../lib';
import { PYTHON } from './parity/harness';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-vecfiles-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const at = (f: string) => path.join(dir, f);

function python(code: string): string {
  const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8', cwd: dir });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

describe.skipIf(!!process.env.FAISS_NATIVE_SKIP_PARITY)('vector files, with Python', () => {
  it('reads what NumPy and vecs_io write', () => {
    python(`
import numpy as np
from faiss.contrib.vecs_io import fvecs_write, ivecs_write
x = (np.arange(24, dtype=np.float32).reshape(4, 6) / 7).astype(np.float32)
np.save('f4.npy', x); np.save('i8.npy', np.arange(5, dtype=np.int64) * 2**40)
np.save('i4.npy', np.arange(6, dtype=np.int32).reshape(2, 3)); np.save('u1.npy', np.arange(8, dtype=np.uint8))
np.save('f8.npy', x.astype(np.float64)); np.save('fortran.npy', np.asfortranarray(x))
fvecs_write('x.fvecs', x); ivecs_write('x.ivecs', np.arange(24, dtype=np.int32).reshape(4, 6))
b = np.hstack([np.full((3, 1), 5, dtype=np.int32).view(np.uint8), np.arange(15, dtype=np.uint8).reshape(3, 5)])
b.tofile('x.bvecs')`);
    const x = Float32Array.from({ length: 24 }, (_, i) => Math.fround(i / 7));
    expect(readNpy(at('f4.npy'))).toEqual({ data: x, shape: [4, 6] });
    expect(readNpy(at('i8.npy'))).toEqual({ data: BigInt64Array.from({ length: 5 }, (_, i) => BigInt(i) * 2n ** 40n), shape: [5] });
    expect(readNpy(at('i4.npy'))).toEqual({ data: Int32Array.from([0, 1, 2, 3, 4, 5]), shape: [2, 3] });
    expect(readNpy(at('u1.npy')).data).toEqual(Uint8Array.from({ length: 8 }, (_, i) => i));
    expect(readFvecs(at('x.fvecs'))).toEqual({ data: x, n: 4, d: 6 });
    expect(readIvecs(at('x.ivecs'))).toEqual({ data: Int32Array.from({ length: 24 }, (_, i) => i), n: 4, d: 6 });
    expect(readBvecs(at('x.bvecs'))).toEqual({ data: Uint8Array.from({ length: 15 }, (_, i) => i), n: 3, d: 5 });
    expect(() => readNpy(at('f8.npy'))).toThrow(/it holds dtype <f8; readNpy reads float32/);
    expect(() => readNpy(at('fortran.npy'))).toThrow(/Fortran order/);
  });

  it('writes what NumPy reads', () => {
    writeNpy(at('mine-f4.npy'), Float32Array.from([1.5, -2, 3.25, 4, 5, 6]), [2, 3]);
    writeNpy(at('mine-i8.npy'), BigInt64Array.from([2n ** 62n, -1n]));
    expect(python(`import numpy as np; a = np.load('mine-f4.npy'); b = np.load('mine-i8.npy'); print(a.dtype, a.shape, a.tolist(), b.dtype, b.tolist())`)).toBe(
      `float32 (2, 3) [[1.5, -2.0, 3.25], [4.0, 5.0, 6.0]] int64 [${2n ** 62n}, -1]`,
    );
  });
});

describe('vector files that are wrong', () => {
  it('name the file and what is wrong', () => {
    fs.writeFileSync(at('junk.npy'), 'hello');
    expect(() => readNpy(at('junk.npy'))).toThrow(new FaissError(`cannot read ${at('junk.npy')}: not a .npy file`, 'IO_ERROR'));
    writeNpy(at('short.npy'), new Float32Array(6), [2, 3]);
    fs.truncateSync(at('short.npy'), fs.statSync(at('short.npy')).size - 4);
    expect(() => readNpy(at('short.npy'))).toThrow(/its shape \(2, 3\) needs 24 bytes of data; it holds 20/);
    const fvecs = Buffer.alloc(2 * (4 + 8));
    fvecs.writeInt32LE(2, 0);
    fvecs.writeInt32LE(3, 12);
    fs.writeFileSync(at('mixed.fvecs'), fvecs);
    expect(() => readFvecs(at('mixed.fvecs'))).toThrow(/vector 1 has dimension 3, the first has 2/);
    fs.writeFileSync(at('cut.fvecs'), fvecs.subarray(0, 10));
    expect(() => readFvecs(at('cut.fvecs'))).toThrow(/is not a whole number of 2-dimensional vectors/);
    expect(() => writeNpy(at('x.npy'), new Float32Array(5), [2, 3])).toThrow(new RangeError('shape (2, 3) does not hold 5 values'));
    // System failures in the words readIndex uses, with Node's error as the cause.
    const failure = (run: () => unknown) => {
      try {
        run();
      } catch (err) {
        const e = err as FaissError;
        return [e.constructor.name, e.message, e.code, (e.cause as NodeJS.ErrnoException).code];
      }
      throw new Error('expected a failure');
    };
    expect(failure(() => readFvecs(at('missing.fvecs')))).toEqual(['FaissError', `cannot read ${at('missing.fvecs')}: no such file`, 'IO_ERROR', 'ENOENT']);
    expect(failure(() => readNpy(dir))).toEqual(['FaissError', `cannot read ${dir}: it is a folder`, 'IO_ERROR', 'EISDIR']);
    expect(failure(() => writeNpy('/nonexistent-dir/x.npy', new Float32Array(2)))).toEqual(['FaissError', 'cannot write /nonexistent-dir/x.npy: the folder does not exist', 'IO_ERROR', 'ENOENT']);
  });
});

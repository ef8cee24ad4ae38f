// Vector files: NumPy's .npy (C order; float32, int64, int32, uint8) and the TEXMEX formats of
// the SIFT/GIST/Deep benchmarks, .fvecs / .bvecs / .ivecs (each vector: its dimension as a
// little-endian int32, then its components as float32, uint8 or int32).
import fs from 'node:fs';
import { FaissError } from './errors';

/** A NumPy array: its values in C (row-major) order and its shape. */
export interface NpyArray<T = Float32Array | BigInt64Array | Int32Array | Uint8Array> {
  data: T;
  shape: number[];
}

/** n vectors of dimension d, row-major. */
export interface VectorFile<T> {
  data: T;
  n: number;
  d: number;
}

const DTYPES = { '<f4': Float32Array, '<i8': BigInt64Array, '<i4': Int32Array, '|u1': Uint8Array, '<u1': Uint8Array } as const;
type Descr = keyof typeof DTYPES;

function corrupt(file: string, why: string): FaissError {
  return new FaissError(`cannot read ${file}: ${why}`, 'IO_ERROR');
}

/** The system's reasons, in the words readIndex and writeIndex use; Node's error is the cause. */
function fileError(verb: 'read' | 'write', file: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? (verb === 'read' ? 'no such file' : 'the folder does not exist')
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EISDIR' ? 'it is a folder'
    : code === 'ENOSPC' ? 'no space left on the device'
    : undefined;
  if (why === undefined) return err;
  const error = new FaissError(`cannot ${verb} ${file}: ${why}`, 'IO_ERROR');
  error.cause = err;
  return error;
}

function readBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw fileError('read', file, err);
  }
}

/**
 * Reads a .npy file (NumPy format 1.0 to 3.0) of float32, int64, int32 or uint8 values in C
 * order, as `np.save` writes them.
 */
export function readNpy(file: string): NpyArray {
  const buf = readBytes(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw corrupt(file, 'not a .npy file');
  const major = buf[6];
  const start = major === 1 ? 10 : 12;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || shapeText === undefined) throw corrupt(file, 'its header has no descr or shape');
  if (/'fortran_order':\s*True/.test(header)) throw corrupt(file, 'the array is in Fortran order; save np.ascontiguousarray(x)');
  if (!(descr in DTYPES)) throw corrupt(file, `it holds dtype ${descr}; readNpy reads float32 (<f4), int64 (<i8), int32 (<i4) and uint8 (|u1)`);
  const shape = shapeText.split(',').filter((s) => s.trim() !== '').map(Number);
  const Type = DTYPES[descr as Descr];
  const count = shape.reduce((a, b) => a * b, 1);
  const body = buf.subarray(start + headerLen);
  if (body.length !== count * Type.BYTES_PER_ELEMENT) throw corrupt(file, `its shape (${shape.join(', ')}) needs ${count * Type.BYTES_PER_ELEMENT} bytes of data; it holds ${body.length}`);
  // An aligned copy: the data starts at an offset a typed array of 8-byte values may not take.
  const data = new Type(count);
  new Uint8Array(data.buffer).set(body);
  return { data, shape };
}

/** Writes a .npy file (NumPy format 1.0, C order) that `np.load` reads. */
export function writeNpy(file: string, data: Float32Array | BigInt64Array | Int32Array | Uint8Array, shape: number[] = [data.length]): void {
  const descr = data instanceof Float32Array ? '<f4' : data instanceof BigInt64Array ? '<i8' : data instanceof Int32Array ? '<i4' : data instanceof Uint8Array ? '|u1' : undefined;
  if (descr === undefined) throw new TypeError('data must be a Float32Array, BigInt64Array, Int32Array or Uint8Array');
  if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new RangeError(`shape (${shape.join(', ')}) does not hold ${data.length} values`);
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix.writeUInt16LE(header.length, 8);
  // Written beside it and renamed into place, so a failed write leaves no half file.
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw fileError('write', file, err);
  }
}

/** Reads TEXMEX vectors whose components take `width` bytes each. */
function readVecs(file: string, width: number): { bytes: Buffer; n: number; d: number } {
  const buf = readBytes(file);
  if (buf.length === 0) return { bytes: buf, n: 0, d: 0 };
  const d = buf.readInt32LE(0);
  const row = 4 + d * width;
  if (d < 1 || buf.length % row !== 0) throw corrupt(file, `its size (${buf.length} bytes) is not a whole number of ${d}-dimensional vectors`);
  const n = buf.length / row;
  const bytes = Buffer.alloc(n * d * width);
  for (let i = 0; i < n; i++) {
    if (buf.readInt32LE(i * row) !== d) throw corrupt(file, `vector ${i} has dimension ${buf.readInt32LE(i * row)}, the first has ${d}`);
    buf.copy(bytes, i * d * width, i * row + 4, (i + 1) * row);
  }
  return { bytes, n, d };
}

/** Reads a .fvecs file (float32 vectors). */
export function readFvecs(file: string): VectorFile<Float32Array> {
  const { bytes, n, d } = readVecs(file, 4);
  return { data: new Float32Array(bytes.buffer, bytes.byteOffset, n * d), n, d };
}

/** Reads a .bvecs file (uint8 vectors, as SIFT1B's). */
export function readBvecs(file: string): VectorFile<Uint8Array> {
  const { bytes, n, d } = readVecs(file, 1);
  return { data: new Uint8Array(bytes.buffer, bytes.byteOffset, n * d), n, d };
}

/** Reads an .ivecs file (int32 vectors, as ground-truth neighbour lists). */
export function readIvecs(file: string): VectorFile<Int32Array> {
  const { bytes, n, d } = readVecs(file, 4);
  return { data: new Int32Array(bytes.buffer, bytes.byteOffset, n * d), n, d };
}

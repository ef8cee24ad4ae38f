// Minimal .npy (NumPy format 1.0) reading and writing for float32 and int64 matrices (and
// writing uint8 ones).
import fs from 'node:fs';

type Matrix = Float32Array | BigInt64Array;

export function writeNpy(file: string, data: Matrix | Uint8Array, shape: number[]): void {
  const descr = data instanceof Float32Array ? '<f4' : data instanceof Uint8Array ? '|u1' : '<i8';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

export function readNpy(file: string): { data: Matrix; shape: number[] } {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file} is not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr': '([^']+)'/.exec(header)![1];
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(',').filter((s) => s.trim()).map(Number);
  const body = buf.subarray(start + headerLen);
  const copy = new Uint8Array(body).buffer; // aligned copy
  if (descr === '<f4') return { data: new Float32Array(copy), shape };
  if (descr === '<i8') return { data: new BigInt64Array(copy), shape };
  throw new Error(`unsupported dtype ${descr} in ${file}`);
}

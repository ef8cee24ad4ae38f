// Seeded random numbers and the texmex vector formats (.fvecs, .ivecs), shared by the
// scripts, benches and tests (CommonJS, so ES modules and CommonJS fixtures both load it).
'use strict';
const fs = require('node:fs');

/** Mulberry32: a small seeded PRNG returning numbers in [0, 1), so runs reproduce. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reads a texmex file: records of an int32 count, then that many 4-byte values. */
function readVecs(file, ArrayType) {
  const buf = fs.readFileSync(file);
  const d = buf.readInt32LE(0);
  const n = buf.length / (4 + 4 * d);
  const data = new ArrayType(n * d);
  for (let i = 0; i < n; i++) data.set(new ArrayType(buf.buffer, buf.byteOffset + i * (4 + 4 * d) + 4, d), i * d);
  return { n, d, data };
}

/** A .fvecs file (float32 vectors) as { n, d, data: Float32Array }. */
const readFvecs = (file) => readVecs(file, Float32Array);
/** An .ivecs file (int32 rows, e.g. ground truth) as { n, d, data: Int32Array }. */
const readIvecs = (file) => readVecs(file, Int32Array);

module.exports = { mulberry32, readFvecs, readIvecs };

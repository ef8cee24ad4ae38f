#!/usr/bin/env node
// Fuzzes index deserialization: mutates and truncates valid serialized indexes of every
// supported kind (binary ones too) and checks that each case either throws a clean error or
// loads an index that then searches, reconstructs and re-serialises without crashing. One case
// in three is read from a file (with { mmap: true }, or IO_FLAG_MMAP, for float indexes), the
// others from a buffer. Indexes with on-disk lists (not on Windows) get either their index
// bytes mutated or their data file: truncated, rewritten, removed, or truncated once loaded.
//   node scripts/check/fuzz-index-io.mjs [--cases 10000] [--seed 1]
// Cases run in child processes; a child that dies (crash, abort, OOM kill) is reported with
// the case that killed it, and the run goes on from the next case.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const require = createRequire(import.meta.url);
const { mulberry32 } = require('../../test/data/vectors.cjs');

/** Valid serialized indexes of every kind the binding supports, small enough to fuzz fast. */
export function seedIndexes(faiss) {
  const d = 8;
  const rnd = mulberry32(99);
  const x = Float32Array.from({ length: 300 * d }, () => rnd() * 2 - 1);
  const seeds = [];
  const add = (name, make, ids) => {
    const index = make();
    if (!index.isTrained) index.trainSync(x);
    if (ids) index.addWithIdsSync(x, BigInt64Array.from({ length: 300 }, (_, i) => 2n ** 40n + BigInt(i)));
    else index.addSync(x);
    seeds.push({ name, bytes: index.serializeSync() });
    index.dispose();
  };
  add('IndexFlatIP', () => new faiss.IndexFlatIP(d));
  add('IndexFlatL2', () => new faiss.IndexFlatL2(d));
  add('IndexScalarQuantizer SQ8', () => new faiss.IndexScalarQuantizer(d, 'QT_8bit'));
  for (const qtype of Object.values(faiss.ScalarQuantizer)) add(`IVF8 ${qtype}`, () => new faiss.IndexIVFScalarQuantizer(d, 8, qtype));
  add('IVF8 SQ8 no residual', () => new faiss.IndexIVFScalarQuantizer(d, 8, 'QT_8bit', faiss.METRIC_L2, false));
  add('IVF8 SQ8 direct map', () => {
    const index = new faiss.IndexIVFScalarQuantizer(d, 8, 'QT_8bit');
    index.trainSync(x);
    index.makeDirectMap();
    return index;
  });
  add('IndexIDMap(Flat)', () => new faiss.IndexIDMap(new faiss.IndexFlatIP(d)), true);
  add('IndexIDMap2(Flat)', () => new faiss.IndexIDMap2(new faiss.IndexFlatIP(d)), true);
  add('factory IVF8,SQfp16', () => faiss.indexFactory(d, 'IVF8,SQfp16'));
  add('factory IDMap,IVF8,SQ8', () => faiss.indexFactory(d, 'IDMap,IVF8,SQ8'), true);
  add('factory PCA4,IVF8,Flat', () => faiss.indexFactory(d, 'PCA4,IVF8,Flat'));
  add('IndexIVFFlat', () => new faiss.IndexIVFFlat(d, 8));
  add('IndexIVFPQ M4x4', () => new faiss.IndexIVFPQ(d, 4, 4, 4));
  add('IndexHNSWFlat M4', () => new faiss.IndexHNSWFlat(d, 4));
  add('IndexIDMap2(HNSWFlat)', () => new faiss.IndexIDMap2(new faiss.IndexHNSWFlat(d, 8, faiss.METRIC_INNER_PRODUCT)), true);
  add('IndexRefineFlat(IVFPQ M4x4)', () => {
    const index = new faiss.IndexRefineFlat(new faiss.IndexIVFPQ(d, 4, 4, 4));
    index.kFactor = 4;
    return index;
  });
  add('IndexRefine(IVF8,Flat, SQ8)', () => new faiss.IndexRefine(new faiss.IndexIVFFlat(d, 8, faiss.METRIC_L2), new faiss.IndexScalarQuantizer(d, 'QT_8bit', faiss.METRIC_L2)));
  add('IndexRaBitQ qb 4', () => {
    const index = new faiss.IndexRaBitQ(d, faiss.METRIC_INNER_PRODUCT);
    index.qb = 4;
    return index;
  });
  add('IndexIVFRaBitQ IVF8', () => new faiss.IndexIVFRaBitQ(d, 8, faiss.METRIC_L2));
  add('IndexRefineFlat(RaBitQ)', () => new faiss.IndexRefineFlat(new faiss.IndexRaBitQ(d)));
  add('IndexPQFastScan M4', () => new faiss.IndexPQFastScan(d, 4));
  add('IndexIVFPQFastScan IVF4 M4', () => new faiss.IndexIVFPQFastScan(d, 4, 4, 4, faiss.METRIC_L2));
  if (process.platform !== 'win32') {
    // On-disk lists, moved there compact, or grown there by adds (capacities, free slots).
    const addOnDisk = (name, make, grow) => {
      const index = make();
      index.trainSync(x);
      if (!grow) index.addSync(x);
      index.replaceInvlistsSync(new faiss.OnDiskInvertedLists(index.nlist, index.codeSize, onDiskData));
      if (grow) for (let i = 0; i < 300; i += 70) index.addSync(x.subarray(i * d, Math.min(300, i + 70) * d));
      seeds.push({ name, bytes: index.serializeSync(), data: fs.readFileSync(onDiskData) });
      index.dispose();
    };
    addOnDisk('on-disk IVF8 SQ8', () => new faiss.IndexIVFScalarQuantizer(d, 8, 'QT_8bit'));
    addOnDisk('on-disk IVF8,Flat grown', () => new faiss.IndexIVFFlat(d, 8), true);
    addOnDisk('on-disk PCA4,IVF8,PQ2x4', () => faiss.indexFactory(d, 'PCA4,IVF8,PQ2x4'));
  }
  // Binary indexes (64 bits: 8 bytes a code), of the float vectors' sign bits; read by the binary readers.
  const codes = faiss.binarize(Float32Array.from({ length: 300 * 64 }, () => rnd() * 2 - 1), 64);
  const addBinary = (name, make, ids) => {
    const index = make();
    if (!index.isTrained) index.trainSync(codes);
    if (ids) index.addWithIdsSync(codes, BigInt64Array.from({ length: 300 }, (_, i) => 2n ** 40n + BigInt(i)));
    else index.addSync(codes);
    seeds.push({ name, bytes: index.serializeSync(), binary: true });
    index.dispose();
  };
  addBinary('IndexBinaryFlat', () => new faiss.IndexBinaryFlat(64));
  addBinary('IndexBinaryIVF IVF8', () => new faiss.IndexBinaryIVF(new faiss.IndexBinaryFlat(64), 64, 8));
  addBinary('IndexBinaryIVF IVF8 direct map', () => {
    const index = new faiss.IndexBinaryIVF(new faiss.IndexBinaryFlat(64), 64, 8);
    index.trainSync(codes);
    index.makeDirectMap();
    return index;
  });
  addBinary('IndexBinaryHNSW M4', () => new faiss.IndexBinaryHNSW(64, 4));
  addBinary('factory BIVF8_HNSW4', () => faiss.indexBinaryFactory(64, 'BIVF8_HNSW4'));
  addBinary('IndexBinaryIDMap2(IVF8)', () => new faiss.IndexBinaryIDMap2(new faiss.IndexBinaryIVF(new faiss.IndexBinaryFlat(64), 64, 8)), true);
  addBinary('IndexBinaryIDMap(HNSW M4)', () => new faiss.IndexBinaryIDMap(new faiss.IndexBinaryHNSW(64, 4)), true);
  return { d, seeds };
}

const INTERESTING = [0n, 1n, -1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 2n ** 40n - 1n, 2n ** 48n, 2n ** 62n, -(2n ** 63n)];

/**
 * An offset where a `width`-byte little-endian value looks like a count or a size (1 to 2^32):
 * the fields that size arithmetic is made of. Any offset when none does.
 */
function countField(bytes, width, pick) {
  const read = (at) => (width === 8 ? bytes.readBigUInt64LE(at) : BigInt(bytes.readUInt32LE(at)));
  const at = [];
  for (let i = 0; i + width <= bytes.length; i++) if (read(i) >= 1n && read(i) < 2n ** 32n) at.push(i);
  return at.length ? at[pick(at.length)] : pick(Math.max(1, bytes.length - width));
}

/** The mutated bytes of case `i` (deterministic in seed and i). */
export function mutate(seedBytes, seed, i) {
  const rnd = mulberry32(seed * 1_000_003 + i);
  const pick = (n) => Math.floor(rnd() * n);
  const bytes = Buffer.from(seedBytes);
  switch (i % 7) {
    case 0: // truncation
      return bytes.subarray(0, pick(bytes.length));
    case 1: // random bytes
      for (let j = 0, n = 1 + pick(4); j < n; j++) bytes[pick(bytes.length)] = pick(256);
      return bytes;
    case 2: { // an 8-byte field (sizes, ids, ntotal) set to an interesting value
      const at = pick(Math.max(1, bytes.length - 8));
      bytes.writeBigInt64LE(BigInt.asIntN(64, INTERESTING[pick(INTERESTING.length)]), at);
      return bytes;
    }
    case 3: { // a 4-byte field (d, nlist, qtype, metric) set to an interesting value
      const at = pick(Math.max(1, bytes.length - 4));
      bytes.writeUInt32LE(Number(BigInt.asUintN(32, INTERESTING[pick(INTERESTING.length)])), at);
      return bytes;
    }
    case 5: { // an 8-byte count whose products with small sizes wrap around 2^64 to its true product
      const at = countField(bytes, 8, pick);
      const v = bytes.readBigUInt64LE(at);
      const wraps = [1n, 2n, 4n, 8n, 16n, 32n, 64n, 128n, 256n, 512n].map((c) => v + 2n ** 64n / c);
      const choices = [...wraps, 2n ** 60n + v, 2n ** 63n - 1n, -v, -1n - BigInt(pick(1 << 20))];
      bytes.writeBigUInt64LE(BigInt.asUintN(64, choices[pick(choices.length)]), at);
      return bytes;
    }
    case 6: { // a 4-byte field whose product with d (or a code size) wraps around 2^32
      const at = countField(bytes, 4, pick);
      const v = BigInt(bytes.readUInt32LE(at));
      const choices = [1n, 2n, 4n, 8n, 16n, 32n, 128n, 512n].map((c) => v + 2n ** 32n / c).concat([2n ** 31n - 1n, 2n ** 31n + v]);
      bytes.writeUInt32LE(Number(BigInt.asUintN(32, choices[pick(choices.length)])), at);
      return bytes;
    }
    default: { // a chunk removed
      const at = pick(bytes.length);
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + pick(64))]);
    }
  }
}

/** Whether case i reads its bytes through a memory-mapped file. */
export const viaMappedFile = (i) => Math.floor(i / 7) % 3 === 0;

const mappedFile = path.join(os.tmpdir(), `faiss-native-fuzz-${process.pid}.faiss`);
/** The data file of the on-disk seeds (their index bytes name it). */
const onDiskData = path.join(os.tmpdir(), `faiss-native-fuzz-${process.pid}.ivfdata`);

/**
 * How case i, the `round`-th of its seed, treats an on-disk seed's data file: intact (its index
 * bytes mutated), or harmed.
 */
function dataFileCase(data, seed, i, round) {
  const rnd = mulberry32(seed * 7_000_003 + i);
  const pick = (n) => Math.floor(rnd() * n);
  const bytes = Buffer.from(data);
  switch (round % 5) {
    case 0:
    case 1:
      return { data: bytes, mutateIndex: true };
    case 2:
      return { data: bytes.subarray(0, pick(bytes.length)) };
    case 3:
      for (let j = 0, n = 1 + pick(64); j < n; j++) bytes[pick(bytes.length)] = pick(256);
      return { data: bytes };
    default:
      return rnd() < 0.5 ? { data: null } : { data: bytes, truncateAfterLoad: pick(bytes.length) };
  }
}

/** Whether an error is a clean refusal: a FaissError, RangeError or TypeError. */
const isClean = (faiss, err) => err instanceof faiss.FaissError || err instanceof RangeError || err instanceof TypeError;

/** Uses a loaded float index as a caller would: search (at its nlist), reconstruct, re-serialise. */
function useFloat(faiss, index) {
  const q = new Float32Array(3 * index.d).fill(0.5);
  let nprobe;
  try {
    nprobe = index.nlist;
  } catch {
    nprobe = undefined; // no IVF layer
  }
  index.searchSync(q, 5, nprobe ? { nprobe } : {});
  if (index.ntotal > 0) index.reconstructNSync(0, Math.min(3, index.ntotal));
  faiss.deserializeIndexSync(index.serializeSync()).dispose();
}

/** The same for a binary index: search (also filtered), reconstruct, re-serialise. */
function useBinary(faiss, index) {
  const q = new Uint8Array(3 * index.codeSize).fill(0x5a);
  index.searchSync(q, 5);
  index.searchSync(q, 5, { filter: { range: [0, 100] } });
  if (index.ntotal > 0) index.reconstructSync(0);
  faiss.deserializeIndexBinarySync(index.serializeSync()).dispose();
}

/**
 * Loads one mutated buffer and, if it loads, uses it. With `mapped`, from a file (memory-mapped
 * for a float index); `binary`: through the binary readers. Returns 'rejected: <code>' or 'loaded'.
 */
export function tryCase(faiss, bytes, d, mapped = false, binary = false, flags = { mmap: true }, afterLoad = undefined) {
  let index;
  try {
    if (mapped) fs.writeFileSync(mappedFile, bytes);
    if (binary) index = mapped ? faiss.readIndexBinarySync(mappedFile) : faiss.deserializeIndexBinarySync(bytes);
    else index = mapped ? faiss.readIndexSync(mappedFile, flags) : faiss.deserializeIndexSync(bytes);
    afterLoad?.();
  } catch (err) {
    if (!isClean(faiss, err)) throw err;
    return `rejected: ${err instanceof faiss.FaissError ? err.code : err.name}`;
  }
  try {
    (binary ? useBinary : useFloat)(faiss, index);
  } catch (err) {
    // A loaded index may still refuse an operation (e.g. reconstruct on IVF without a direct map).
    if (!isClean(faiss, err)) throw err;
  } finally {
    index.dispose();
  }
  return 'loaded';
}

// Child mode: run cases [from, to), printing "> i" before each and "= i outcome" after.
async function child(from, to, seed) {
  const faiss = require(path.join(path.dirname(here), '..', '..', 'dist'));
  const { d, seeds } = seedIndexes(faiss);
  for (let i = from; i < to; i++) {
    const s = seeds[i % seeds.length];
    process.stdout.write(`> ${i} ${s.name}\n`);
    // Mapped float cases alternate FAISS's two ways of mapping: codes (IFC) and lists (IO_FLAG_MMAP).
    const flags = Math.floor(i / 21) % 2 === 0 ? { mmap: true } : { ioFlags: faiss.IO_FLAG_MMAP };
    let bytes = s.bytes;
    let afterLoad;
    if (s.data) {
      const c = dataFileCase(s.data, seed, i, Math.floor(i / seeds.length));
      if (c.mutateIndex) bytes = mutate(s.bytes, seed, i);
      if (c.data === null) fs.rmSync(onDiskData, { force: true });
      else fs.writeFileSync(onDiskData, c.data);
      if (c.truncateAfterLoad !== undefined) afterLoad = () => fs.truncateSync(onDiskData, c.truncateAfterLoad);
    } else {
      bytes = mutate(s.bytes, seed, i);
    }
    process.stdout.write(`= ${i} ${tryCase(faiss, bytes, d, viaMappedFile(i), s.binary, flags, afterLoad)}\n`);
    // Let the event loop turn: Node frees the serialized Buffers' native memory from there.
    if (i % 200 === 0) await new Promise(setImmediate);
  }
  fs.rmSync(mappedFile, { force: true });
  fs.rmSync(onDiskData, { force: true });
}

function parent(cases, seed) {
  const t0 = Date.now();
  const totals = {};
  const crashes = [];
  let next = 0;
  while (next < cases) {
    const r = spawnSync(process.execPath, [here, '--child', String(next), String(cases), String(seed)], { encoding: 'utf8', maxBuffer: 1 << 28 });
    let started = next;
    let kind = '';
    for (const line of r.stdout.split('\n')) {
      const m = /^([>=]) (\d+) (.*)$/.exec(line);
      if (!m) continue;
      if (m[1] === '>') [started, kind] = [Number(m[2]), m[3]];
      else totals[m[3]] = (totals[m[3]] ?? 0) + 1;
    }
    if (r.status === 0) break;
    // The child died in the case it had started last.
    crashes.push({ case: started, kind, signal: r.signal, status: r.status, stderr: r.stderr.slice(-500) });
    totals.crashed = (totals.crashed ?? 0) + 1;
    next = started + 1;
  }
  console.log(JSON.stringify({ cases, seed, seconds: (Date.now() - t0) / 1000, outcomes: totals, crashes }, null, 1));
  if (crashes.length) process.exitCode = 1; // not exit(): through a pipe, the report above could be cut off
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === here;
if (isMain) {
  if (process.argv[2] === '--child') await child(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]));
  else {
    const arg = (name, dflt) => Number(process.argv[process.argv.indexOf(name) + 1] || dflt) || dflt;
    parent(process.argv.includes('--cases') ? arg('--cases', 10000) : 10000, process.argv.includes('--seed') ? arg('--seed', 1) : 1);
  }
}

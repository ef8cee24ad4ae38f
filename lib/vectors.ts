// Argument checks and conversions shared by every index: vectors, ids, k, result buffers.
import { checkAllocation } from './memory';
import { native } from './native';
import type { FilterPlan } from './search-params';

/** Vectors as one flat Float32Array (row-major, no copy) or, for convenience, one array per vector. */
export type VectorsInput = Float32Array | readonly (readonly number[])[];

/** 64-bit ids: a BigInt64Array (no copy) or, for convenience, an array of bigint or safe integers. */
export type IdsInput = BigInt64Array | readonly (bigint | number)[];

/** Search output: nq rows of k results each, best first. Empty slots have label -1n. */
export interface SearchResult {
  /** nq * k scores: inner products (larger is better) or squared L2 distances (smaller is better). */
  distances: Float32Array;
  /** nq * k ids of the vectors found, -1n where fewer than k were found. */
  labels: BigInt64Array;
  /** Number of queries. */
  nq: number;
  /** Results per query. */
  k: number;
  /** With a filter, how the search ran (see the search option `plan`). */
  plan?: FilterPlan;
}

/** Checks a positive integer argument (a dimension, nlist, a count). */
export function checkPositiveInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 0x7fffffff) {
    throw new RangeError(`${name} must be a positive integer; got ${String(value)}`);
  }
  return value;
}

/** Checks a non-negative integer argument (an offset, a count that may be 0). */
export function checkCount(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer; got ${String(value)}`);
  }
  return value;
}

/**
 * Returns x as a Float32Array of whole d-dimensional vectors: a Float32Array is passed
 * through untouched (any view), a number[][] is copied once into a new Float32Array.
 * NaN and Infinity are caught natively, inside the job, without a pass in JavaScript.
 */
export function toVectors(x: unknown, d: number, name = 'x'): Float32Array {
  if (x instanceof Float32Array) {
    if (x.length % d !== 0) {
      throw new RangeError(`${name} must be a Float32Array whose length is a multiple of d=${d}; got length ${x.length}`);
    }
    return x;
  }
  if (Array.isArray(x)) {
    const out = new Float32Array(x.length * d);
    x.forEach((row: unknown, i) => {
      if (!Array.isArray(row) || row.length !== d) {
        throw new RangeError(`${name}[${i}] must be an array of d=${d} numbers; got ${Array.isArray(row) ? `length ${row.length}` : typeof row}`);
      }
      out.set(row as number[], i * d);
    });
    return out;
  }
  throw new TypeError(`${name} must be a Float32Array or an array of number arrays; got ${describe(x)}`);
}

/** Returns ids as a BigInt64Array, checking the count when `n` is given. */
export function toIds(ids: unknown, n?: number, name = 'ids'): BigInt64Array {
  let out: BigInt64Array;
  if (ids instanceof BigInt64Array) out = ids;
  else if (Array.isArray(ids)) {
    out = new BigInt64Array(ids.length);
    ids.forEach((id: unknown, i) => {
      if (typeof id === 'bigint') out[i] = id;
      else if (typeof id === 'number' && Number.isSafeInteger(id)) out[i] = BigInt(id);
      else throw new TypeError(`${name}[${i}] must be a bigint or a safe integer; got ${String(id)}`);
    });
  } else throw new TypeError(`${name} must be a BigInt64Array or an array of bigint; got ${describe(ids)}`);
  if (n !== undefined && out.length !== n) {
    throw new RangeError(`${name} must hold one id per vector (${n}); got ${out.length}`);
  }
  return out;
}

/** Checks k: an integer of at least 1. k may exceed ntotal; missing results are padded with -1. */
export function checkK(k: unknown): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 0x7fffffff) {
    throw new RangeError(`k must be an integer of at least 1; got ${String(k)}`);
  }
  return k;
}

/** Result arrays for nq * k results: the caller's (viewed to size) or new ones. */
export function resultArrays(nq: number, k: number, out?: { distances?: unknown; labels?: unknown }): SearchResult {
  return sizedResults(nq, k, Float32Array, out);
}

/**
 * Result arrays of nq * k distances of a type (Float32Array; Int32Array for Hamming) and ids:
 * the caller's `out` (viewed to size, so a larger reusable buffer serves smaller batches too)
 * or new ones.
 */
export function sizedResults<D extends Float32Array | Int32Array>(
  nq: number,
  k: number,
  Distances: { new (length: number): D; name: string },
  out?: { distances?: unknown; labels?: unknown },
): { distances: D; labels: BigInt64Array; nq: number; k: number } {
  const size = nq * k;
  if (!Number.isSafeInteger(size) || size > 2 ** 32) throw new RangeError(`nq * k = ${size} results do not fit in one array`);
  if (out === undefined) {
    checkAllocation(size * 12, `search results for nq * k = ${nq} * ${k}`);
    return { distances: new Distances(size), labels: new BigInt64Array(size), nq, k };
  }
  const { distances, labels } = out;
  if (!(distances instanceof Distances) || !(labels instanceof BigInt64Array)) {
    throw new TypeError(`options.out must be { distances: ${Distances.name}, labels: BigInt64Array }`);
  }
  if (distances.length < size || labels.length < size) {
    throw new RangeError(
      `options.out arrays must hold nq * k = ${size} results; got distances.length=${distances.length}, labels.length=${labels.length}`,
    );
  }
  return { distances: distances.subarray(0, size) as D, labels: labels.subarray(0, size), nq, k };
}

/**
 * Scales each d-dimensional vector of x to unit L2 norm, in place, and returns x
 * (`faiss.normalize_L2`). Inner product on normalised vectors is cosine similarity.
 */
export function normalizeL2(x: Float32Array, d: number): Float32Array {
  if (!(x instanceof Float32Array)) throw new TypeError(`x must be a Float32Array (normalised in place); got ${describe(x)}`);
  return native.normalizeL2(toVectors(x, checkPositiveInt(d, 'd')), d);
}

/**
 * Checks the size of a training set of n vectors: at least one, and for an IVF layer of nlist
 * lists at least nlist (FAISS's k-means needs one point per centroid), with a warning below
 * the 39 a centroid FAISS asks for (min_points_per_centroid).
 */
export function checkTrainingCount(n: number, nlist: number | undefined): void {
  if (nlist === undefined) {
    if (n === 0) throw new RangeError('x must hold at least one training vector');
    return;
  }
  if (n < nlist) throw new RangeError(`x must hold at least nlist=${nlist} training vectors; got ${n}`);
  if (n < 39 * nlist) {
    process.emitWarning(`training nlist=${nlist} centroids on ${n} vectors; FAISS recommends at least ${39 * nlist}`, 'FaissNativeWarning');
  }
}

/** Checks an index's bytes (a Buffer or Uint8Array) to deserialize. */
export function checkBytes(bytes: unknown): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`bytes must be a Buffer or Uint8Array; got ${describe(bytes)}`);
  return bytes;
}

/** Checks a key of reconstruct: a bigint of 64 bits or a non-negative safe integer. */
export function checkKey(key: unknown): number | bigint {
  if (typeof key === 'bigint') {
    if (key < -(2n ** 63n) || key >= 2n ** 63n) throw new RangeError(`key must fit in 64 bits; got ${key}`);
    return key;
  }
  return checkCount(key, 'key');
}

/** Checks a file path argument. */
export function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`path must be a non-empty string; got ${describe(path)}`);
  return path;
}

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (ArrayBuffer.isView(x)) return x.constructor.name;
  return typeof x;
}

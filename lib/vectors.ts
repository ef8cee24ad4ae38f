// Argument checks and conversions shared by every index: vectors, k, result buffers.

/** Vectors as one flat Float32Array (row-major, no copy) or, for convenience, one array per vector. */
export type VectorsInput = Float32Array | readonly (readonly number[])[];

/** Search output: nq rows of k results each, best first. Empty slots have label -1n. */
export interface SearchResult {
  /** nq * k scores: inner products (larger is better) or squared L2 distances (smaller is better). */
  distances: Float32Array;
  /** nq * k ids of the vectors found, -1n where fewer than k exist. */
  labels: BigInt64Array;
  /** Number of queries. */
  nq: number;
  /** Results per query. */
  k: number;
}

/** Checks a dimension: a positive integer that fits FAISS's int. */
export function checkDimension(d: unknown, name = 'd'): number {
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 0x7fffffff) {
    throw new RangeError(`${name} must be a positive integer; got ${String(d)}`);
  }
  return d;
}

/**
 * Returns x as a Float32Array of whole d-dimensional vectors: a Float32Array is passed
 * through untouched (any view), a number[][] is copied once into a new Float32Array.
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

/** Checks k: an integer of at least 1. k may exceed ntotal; missing results are padded with -1. */
export function checkK(k: unknown): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 0x7fffffff) {
    throw new RangeError(`k must be an integer of at least 1; got ${String(k)}`);
  }
  return k;
}

/** Result arrays for nq * k results: the caller's (viewed to size) or new ones. */
export function resultArrays(nq: number, k: number, out?: { distances?: unknown; labels?: unknown }): SearchResult {
  const size = nq * k;
  if (!Number.isSafeInteger(size) || size > 2 ** 32) throw new RangeError(`nq * k = ${size} results do not fit in one array`);
  if (out === undefined) return { distances: new Float32Array(size), labels: new BigInt64Array(size), nq, k };
  const { distances, labels } = out;
  if (!(distances instanceof Float32Array) || !(labels instanceof BigInt64Array)) {
    throw new TypeError('options.out must be { distances: Float32Array, labels: BigInt64Array }');
  }
  if (distances.length < size || labels.length < size) {
    throw new RangeError(
      `options.out arrays must hold nq * k = ${size} results; got distances.length=${distances.length}, labels.length=${labels.length}`,
    );
  }
  // Views of exactly nq * k, so a larger reusable buffer serves smaller batches too.
  return { distances: distances.subarray(0, size), labels: labels.subarray(0, size), nq, k };
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (ArrayBuffer.isView(x)) return x.constructor.name;
  return typeof x;
}

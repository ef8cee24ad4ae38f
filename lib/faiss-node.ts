// faiss-node 0.5.1's API over faiss-native, for `require('faiss-native/faiss-node')` where code
// (LangChain's FaissStore among it) required 'faiss-node': synchronous calls, number[] in and
// out, faiss-node's argument checks and messages. Float32Array inputs pass through uncopied.
import { Index as NativeIndex } from './faiss-index';
import { IndexFlatIP as FlatIP, IndexFlatL2 as FlatL2 } from './flat';
import { indexFactory } from './factory';
import { FaissError } from './errors';
import { deserializeIndexSync, readIndexSync } from './io';

/** Metric types, with faiss-node's (and FAISS's) numbers. */
export enum MetricType {
  METRIC_INNER_PRODUCT = 0,
  METRIC_L2 = 1,
  METRIC_L1,
  METRIC_Linf,
  METRIC_Lp,
  METRIC_Canberra = 20,
  METRIC_BrayCurtis,
  METRIC_JensenShannon,
  METRIC_Jaccard,
}

/** faiss-node's search result: n * k distances and labels, as plain arrays. */
export interface SearchResult {
  distances: number[];
  labels: number[];
}

const WRAP = Symbol('wrap an existing index');

// faiss-node loads any type FAISS knows, so its read and fromBuffer do here too: our checks
// still run on every type they cover, and the rest (HNSW, PQ, ...) is trusted as faiss-node did.
const TRUSTED = { trusted: true } as const;

/**
 * A file `read` cannot open, in faiss-node's words (FAISS's FileIOReader with strerror's text),
 * which code written for faiss-node matches: LangChain's FaissStore tests expect the message to
 * end with "No such file or directory". Still a FaissError with code IO_ERROR, ours as its cause.
 */
function inFaissNodeWords(err: unknown, fname: string): unknown {
  if (!(err instanceof FaissError) || err.code !== 'IO_ERROR') return err;
  const why = err.message.slice(err.message.lastIndexOf(': ') + 2);
  const strerror = why === 'no such file' ? 'No such file or directory' : why;
  const worded = new FaissError(`Error in faiss::FileIOReader::FileIOReader(const char*): could not open ${fname} for reading: ${strerror}`, 'IO_ERROR');
  Object.defineProperty(worded, 'cause', { value: err, configurable: true, writable: true });
  return worded;
}

function expectArgs(args: IArguments, n: number, text = `${n} argument${n === 1 ? '' : 's'}`): void {
  if (args.length !== n) throw new Error(`Expected ${text}, but got ${args.length}.`);
}

// faiss-node's checks of a number[] (a Float32Array is taken as it is).
function toFloats(x: unknown, d: number): Float32Array {
  if (!(x instanceof Float32Array) && !Array.isArray(x)) throw new TypeError('Invalid the first argument type, must be an Array.');
  if (x.length % d !== 0) throw new Error('Invalid the given array length.');
  if (x instanceof Float32Array) return x;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    if (typeof x[i] !== 'number') throw new Error(`Expected a Number as array item. (at: ${i})`);
    out[i] = x[i];
  }
  return out;
}

/**
 * faiss-node's Index: any FAISS index behind faiss-node's methods. `new Index(d)` is a flat L2
 * index, as in faiss-node; `Index.read`, `fromBuffer` and `fromFactory` give any type.
 */
export class Index {
  #index: NativeIndex;

  constructor(d: number);
  constructor(d: number | typeof WRAP, index?: NativeIndex) {
    this.#index = d === WRAP ? (index as NativeIndex) : this.create(d);
  }

  /** The index a `new` of this class makes (faiss-node's Index falls back to IndexFlatL2). */
  protected create(d: number): NativeIndex {
    return new FlatL2(d);
  }

  /** The faiss-native index inside, for code that moves on to the typed, async API. */
  get index(): NativeIndex {
    return this.#index;
  }

  ntotal(): number {
    return this.#index.ntotal;
  }

  getDimension(): number {
    return this.#index.d;
  }

  isTrained(): boolean {
    return this.#index.isTrained;
  }

  add(x: number[] | Float32Array): void {
    expectArgs(arguments, 1);
    this.#index.addSync(toFloats(x, this.#index.d));
  }

  train(x: number[] | Float32Array): void {
    expectArgs(arguments, 1);
    this.#index.trainSync(toFloats(x, this.#index.d));
  }

  search(x: number[] | Float32Array, k: number): SearchResult {
    expectArgs(arguments, 2);
    if (!Array.isArray(x) && !(x instanceof Float32Array)) throw new TypeError('Invalid the first argument type, must be an Array.');
    if (typeof k !== 'number') throw new TypeError('Invalid the second argument type, must be a Number.');
    const ntotal = this.#index.ntotal;
    if (k > ntotal) throw new Error(`Invalid the number of k (cannot be given a value greater than \`ntotal\`: ${ntotal}).`);
    const { distances, labels } = this.#index.searchSync(toFloats(x, this.#index.d), k);
    return { distances: Array.from(distances), labels: Array.from(labels, Number) };
  }

  write(fname: string): void {
    expectArgs(arguments, 1);
    if (typeof fname !== 'string') throw new TypeError('Invalid the first argument type, must be a string.');
    this.#index.writeSync(fname);
  }

  toBuffer(): Buffer {
    expectArgs(arguments, 0);
    return this.#index.serializeSync();
  }

  /** Moves every vector of `otherIndex` into this one; `otherIndex` is left empty (FAISS's merge_from). */
  mergeFrom(otherIndex: Index): void {
    expectArgs(arguments, 1);
    if (!(otherIndex instanceof Index)) throw new TypeError('Invalid argument type, must be an object.');
    if (otherIndex.getDimension() !== this.getDimension()) throw new Error('The merging index must have the same dimension.');
    this.#index.mergeFromSync(otherIndex.#index);
  }

  removeIds(ids: number[]): number {
    expectArgs(arguments, 1);
    if (!Array.isArray(ids)) throw new TypeError('Invalid the first argument type, must be an Array.');
    const list = new BigInt64Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      if (typeof ids[i] !== 'number') throw new Error(`Expected a Number as array item. (at: ${i})`);
      list[i] = BigInt(Math.trunc(ids[i]));
    }
    return this.#index.removeIdsSync(list);
  }

  /** Frees the native index now rather than at garbage collection (not in faiss-node). */
  dispose(): void {
    this.#index.dispose();
  }

  /** `using index = IndexFlatL2.read(file)` frees it at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  static read<T extends typeof Index>(this: T, fname: string): InstanceType<T> {
    expectArgs(arguments, 1);
    if (typeof fname !== 'string') throw new TypeError('Invalid the first argument type, must be a string.');
    try {
      return wrap(this, readIndexSync(fname, TRUSTED));
    } catch (err) {
      throw inFaissNodeWords(err, fname);
    }
  }

  static fromBuffer<T extends typeof Index>(this: T, src: Buffer): InstanceType<T> {
    expectArgs(arguments, 1);
    if (!Buffer.isBuffer(src)) throw new TypeError('Invalid the first argument type, must be a buffer.');
    return wrap(this, deserializeIndexSync(src, TRUSTED));
  }

  // `| number`: TypeScript enums are nominal, so faiss-node's own MetricType (in types that
  // still name it, such as LangChain's) must be accepted too.
  static fromFactory(dims: number, descriptor: string, metric?: MetricType | number): Index {
    if (arguments.length < 2) throw new Error(`Expected 2 or 3 arguments, but got ${arguments.length}.`);
    if (typeof dims !== 'number') throw new TypeError('Invalid the first argument type, must be a number.');
    if (typeof descriptor !== 'string') throw new TypeError('Invalid the second argument type, must be a string.');
    return wrap(Index, indexFactory(dims, descriptor, typeof metric === 'number' ? (metric as 0 | 1) : MetricType.METRIC_L2));
  }
}

/** An instance of `cls` around an index the binding already made (read, fromBuffer, fromFactory). */
function wrap<T extends typeof Index>(cls: T, index: NativeIndex): InstanceType<T> {
  return new (cls as unknown as new (tag: typeof WRAP, index: NativeIndex) => InstanceType<T>)(WRAP, index);
}

/** faiss-node's IndexFlatL2: exact squared-L2 search. */
export class IndexFlatL2 extends Index {
  protected override create(d: number): NativeIndex {
    return new FlatL2(d);
  }
}

/** faiss-node's IndexFlatIP: exact inner-product search. */
export class IndexFlatIP extends Index {
  protected override create(d: number): NativeIndex {
    return new FlatIP(d);
  }
}

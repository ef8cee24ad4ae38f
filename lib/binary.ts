// Binary vectors: d bits held in d/8 bytes, compared by Hamming distance (FAISS's IndexBinary
// family: Python's faiss.IndexBinaryFlat, IndexBinaryIVF, IndexBinaryHNSW, IndexBinaryIDMap),
// with binarize() to make codes of float embeddings. native/binary_index.cc holds them.
import { fromCaller } from './errors';
import { checkAllocation } from './memory';
import { native, type NativeBinaryIndex } from './native';
import { checkEf, toNativeParams, toRemoval, withPlan, type FilterPlan, type IdFilterLike, type SearchParams } from './search-params';
import { checkBytes, checkK, checkKey, checkPath, checkPositiveInt, checkTrainingCount, describe, sizedResults, toIds, toVectors, type IdsInput } from './vectors';

/** Codes as one flat Uint8Array of d/8 bytes per vector (no copy) or, for convenience, one byte array per vector. */
export type BinaryVectorsInput = Uint8Array | readonly (readonly number[])[];

/** A binary search's output: nq rows of k results each, nearest first. Empty slots have label -1n. */
export interface BinarySearchResult {
  /** nq * k Hamming distances (bits that differ); 2^31 - 1 where fewer than k were found. */
  distances: Int32Array;
  /** nq * k ids. */
  labels: BigInt64Array;
  nq: number;
  k: number;
  /** With a filter, how the search ran: 'index' (FAISS's own, flat), 'widened' (IVF lists or HNSW walk widened), 'exact'. */
  plan?: FilterPlan;
}

/** Options of {@link IndexBinary.search}: nprobe and maxCodes (IVF), efSearch (HNSW), a filter, where to write. */
export interface BinarySearchOptions extends Pick<SearchParams, 'nprobe' | 'maxCodes' | 'efSearch' | 'filter'> {
  out?: { distances: Int32Array; labels: BigInt64Array };
}

type BinaryClass = abstract new (...args: never[]) => IndexBinary;
const classes = new Map<string, () => BinaryClass>();

/**
 * Any binary index. As {@link Index}: async methods run off the event loop, each with a `*Sync`
 * twin; searches run concurrently, changes alone. `d` is in bits (a multiple of 8).
 */
export class IndexBinary {
  /** Dimension in bits. */
  readonly d: number;
  /** Bytes per vector: d / 8. */
  readonly codeSize: number;
  #native: NativeBinaryIndex | undefined;
  /** Indexes this one was built over (quantizer, sub-index), kept for their getters. */
  protected readonly related: IndexBinary[] = [];

  protected constructor(nat: NativeBinaryIndex) {
    this.#native = nat;
    this.d = nat.d;
    this.codeSize = nat.d / 8;
  }

  /** Wraps a native binary index in the class of its type (as Python's downcast_IndexBinary). */
  static fromNative(nat: NativeBinaryIndex): IndexBinary {
    const cls = classes.get(nat.className)?.() ?? IndexBinary;
    return Reflect.construct(IndexBinary, [nat], cls) as IndexBinary;
  }

  protected static register(className: string, cls: () => BinaryClass): void {
    classes.set(className, cls);
  }

  protected static nativeOf(index: IndexBinary): NativeBinaryIndex {
    return index.native;
  }

  protected get native(): NativeBinaryIndex {
    if (this.#native === undefined) throw new TypeError('index is disposed');
    return this.#native;
  }

  get ntotal(): number {
    return this.native.ntotal;
  }

  get isTrained(): boolean {
    return this.native.isTrained;
  }

  /** Inverted lists visited per query (default 1), for IndexBinaryIVF (also under an IDMap). */
  get nprobe(): number {
    return this.#layer('nlist', 'nprobe').nprobe as number;
  }

  set nprobe(value: number) {
    this.#layer('nlist', 'nprobe').nprobe = checkPositiveInt(value, 'nprobe');
  }

  /** Candidate list size of graph searches (default 16), for IndexBinaryHNSW (also under an IDMap). */
  get efSearch(): number {
    return this.#layer('efSearch', 'efSearch').efSearch as number;
  }

  set efSearch(value: number) {
    this.#layer('efSearch', 'efSearch').efSearch = checkEf(value, 'efSearch');
  }

  /** Trains the index (k-means of an IVF's coarse quantizer, on the codes as 0/1 floats), off the event loop. */
  async train(x: BinaryVectorsInput): Promise<void> {
    await fromCaller(this.native.train(this.#trainingSet(x)));
  }

  trainSync(x: BinaryVectorsInput): void {
    this.native.trainSync(this.#trainingSet(x));
  }

  /** Adds codes, numbered from ntotal on, off the event loop. */
  async add(x: BinaryVectorsInput): Promise<void> {
    const codes = this.#toAdd(x);
    if (codes.length > 0) await fromCaller(this.native.add(codes));
  }

  addSync(x: BinaryVectorsInput): void {
    const codes = this.#toAdd(x);
    if (codes.length > 0) this.native.addSync(codes);
  }

  /** Adds codes with your own 64-bit ids (IVF and IDMap indexes), off the event loop. */
  async addWithIds(x: BinaryVectorsInput, ids: IdsInput): Promise<void> {
    const codes = this.#toAdd(x);
    if (codes.length > 0) await fromCaller(this.native.addWithIds(codes, toIds(ids, codes.length / this.codeSize)));
  }

  addWithIdsSync(x: BinaryVectorsInput, ids: IdsInput): void {
    const codes = this.#toAdd(x);
    if (codes.length > 0) this.native.addWithIdsSync(codes, toIds(ids, codes.length / this.codeSize));
  }

  /**
   * The k nearest codes of each query by Hamming distance, off the event loop. Filters work on
   * every type (FAISS 1.12 takes them only on the flat one; see native/binary_search.h).
   */
  async search(q: BinaryVectorsInput, k: number, options?: BinarySearchOptions): Promise<BinarySearchResult> {
    const { nat, queries, result, params } = this.#prepareSearch(q, k, options);
    if (queries.length > 0) withPlan(result, await fromCaller(nat.search(queries, result.k, result.distances, result.labels, params)));
    return result;
  }

  searchSync(q: BinaryVectorsInput, k: number, options?: BinarySearchOptions): BinarySearchResult {
    const { nat, queries, result, params } = this.#prepareSearch(q, k, options);
    if (queries.length > 0) withPlan(result, nat.searchSync(queries, result.k, result.distances, result.labels, params));
    return result;
  }

  /** The stored code with this key: its position (flat, HNSW), its id (IDMap2; IVF after {@link makeDirectMap}). */
  async reconstruct(key: number | bigint): Promise<Uint8Array> {
    const out = new Uint8Array(this.codeSize);
    await fromCaller(this.native.reconstruct(checkKey(key), out));
    return out;
  }

  reconstructSync(key: number | bigint): Uint8Array {
    const out = new Uint8Array(this.codeSize);
    this.native.reconstructSync(checkKey(key), out);
    return out;
  }

  /** Removes the codes with these ids, or those a filter selects (not HNSW); returns how many. Off the event loop. */
  async removeIds(ids: IdsInput | IdFilterLike): Promise<number> {
    return await fromCaller(this.native.removeIds(toRemoval(ids)));
  }

  removeIdsSync(ids: IdsInput | IdFilterLike): number {
    return this.native.removeIdsSync(toRemoval(ids));
  }

  /** Removes every code (training is kept). Off the event loop. */
  async reset(): Promise<void> {
    await fromCaller(this.native.reset());
  }

  resetSync(): void {
    this.native.resetSync();
  }

  /** The index in FAISS's binary file format (`faiss.serialize_index_binary`), off the event loop. */
  async serialize(): Promise<Buffer> {
    return await fromCaller(this.native.serialize());
  }

  serializeSync(): Buffer {
    return this.native.serializeSync();
  }

  /** Writes a file Python's `faiss.read_index_binary` reads, atomically (temp file, then rename). */
  async write(path: string): Promise<void> {
    await fromCaller(this.native.write(checkPath(path)));
  }

  writeSync(path: string): void {
    this.native.writeSync(checkPath(path));
  }

  /** Lets an IndexBinaryIVF reconstruct codes by id (FAISS's `make_direct_map`). */
  makeDirectMap(): void {
    this.#layer('nlist', 'makeDirectMap').makeDirectMap();
  }

  /** Frees the native index once running jobs end; later calls throw a TypeError. */
  dispose(): void {
    this.#native?.dispose();
    this.#native = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #layer(field: 'nlist' | 'efSearch', what: string): NativeBinaryIndex {
    const nat = this.native;
    if (nat[field] === undefined) throw new TypeError(`${what}: this index (${nat.className}) has no ${field === 'nlist' ? 'IVF' : 'HNSW'} layer`);
    return nat;
  }

  #trainingSet(x: BinaryVectorsInput): Uint8Array {
    const codes = toCodes(x, this.codeSize);
    checkTrainingCount(codes.length / this.codeSize, this.native.nlist);
    return codes;
  }

  #toAdd(x: BinaryVectorsInput): Uint8Array {
    const codes = toCodes(x, this.codeSize);
    const nat = this.native;
    if (!nat.isTrained) throw new TypeError(`cannot add to an untrained ${nat.className}: call train() first`);
    return codes;
  }

  #prepareSearch(q: BinaryVectorsInput, k: number, options: BinarySearchOptions | undefined) {
    const nat = this.native;
    const queries = toCodes(q, this.codeSize, 'q');
    if (options !== undefined && options !== null && 'plan' in options && options.plan !== undefined) {
      throw new TypeError('search: binary indexes choose their filtered plan themselves (option plan is for float indexes)');
    }
    const params = toNativeParams(options, nat, 'search', ['out']);
    const nq = queries.length / this.codeSize;
    return { nat, queries, result: sizedResults(nq, checkK(k), Int32Array, options?.out) as BinarySearchResult, params };
  }
}

/**
 * Exact Hamming search over every code (`faiss.IndexBinaryFlat(d)`), with removal (which
 * renumbers, as FAISS) and filters.
 */
export class IndexBinaryFlat extends IndexBinary {
  constructor(d: number) {
    super(native.createBinaryFlat(checkBits(d)));
  }

  static {
    this.register('IndexBinaryFlat', () => IndexBinaryFlat);
  }
}

/**
 * Inverted lists of codes (`faiss.IndexBinaryIVF(quantizer, d, nlist)`): k-means cells of the
 * codes, `nprobe` of them searched per query. The quantizer (an IndexBinaryFlat of the same
 * d) is shared, as in Python, and changes only through this index.
 */
export class IndexBinaryIVF extends IndexBinary {
  constructor(quantizer: IndexBinary, d: number, nlist: number) {
    const q = checkBinary(quantizer, 'quantizer');
    super(native.createBinaryIVF(IndexBinary.nativeOf(q), checkBits(d), checkPositiveInt(nlist, 'nlist')));
    this.related.push(q);
  }

  static {
    this.register('IndexBinaryIVF', () => IndexBinaryIVF);
  }

  get nlist(): number {
    return this.native.nlist as number;
  }
}

/** HNSW graph over the codes (`faiss.IndexBinaryHNSW(d, M=32)`); no training, no removal. */
export class IndexBinaryHNSW extends IndexBinary {
  constructor(d: number, M = 32) {
    if (checkPositiveInt(M, 'M') < 2) throw new RangeError(`M must be at least 2; got ${M}`);
    super(native.createBinaryHNSW(checkBits(d), M));
  }

  static {
    this.register('IndexBinaryHNSW', () => IndexBinaryHNSW);
  }

  /** Candidate list size while adding (default 40); set it before adding. */
  get efConstruction(): number {
    return this.native.efConstruction as number;
  }

  set efConstruction(value: number) {
    this.native.efConstruction = checkEf(value, 'efConstruction');
  }
}

/** Your own 64-bit ids over a binary index (`faiss.IndexBinaryIDMap(index)`), which it shares. */
export class IndexBinaryIDMap extends IndexBinary {
  constructor(index: IndexBinary) {
    const sub = checkBinary(index, 'index');
    super(native.createBinaryIDMap(IndexBinary.nativeOf(sub), new.target === IndexBinaryIDMap2));
    this.related.push(sub);
  }

  static {
    this.register('IndexBinaryIDMap', () => IndexBinaryIDMap);
  }
}

/** An IDMap that can also reconstruct codes by id (`faiss.IndexBinaryIDMap2(index)`). */
export class IndexBinaryIDMap2 extends IndexBinaryIDMap {
  static {
    this.register('IndexBinaryIDMap2', () => IndexBinaryIDMap2);
  }
}

/**
 * `faiss.index_binary_factory(d, description)`: "BFlat", "BIVF<nlist>", "BIVF<nlist>_HNSW<M>",
 * "BHNSW<M>". (FAISS's hash indexes, "BHash...", are not supported.)
 */
export function indexBinaryFactory(d: number, description: string): IndexBinary {
  if (typeof description !== 'string') throw new TypeError(`description must be a string; got ${describe(description)}`);
  return IndexBinary.fromNative(native.binaryFactory(checkBits(d), description));
}

/**
 * Sign bits of float vectors, packed 8 to a byte, first dimension in the high bit: a value
 * above 0 is a 1 (NaN a 0). The same bytes as numpy's `np.packbits(x > 0, axis=-1)`, which
 * sentence-transformers' `quantize_embeddings(x, precision="ubinary")` is when d is a multiple
 * of 8. Rows of d not a multiple of 8 end in zero bits. Vectors whose values are not spread
 * around 0 (SIFT's are all >= 0) need `thresholds`: d values (their mean, say), a bit being 1
 * where the value is above its dimension's threshold.
 */
export function binarize(x: Float32Array, d: number, thresholds?: Float32Array): Uint8Array {
  if (!(x instanceof Float32Array)) throw new TypeError(`x must be a Float32Array; got ${describe(x)}`);
  const vectors = toVectors(x, checkPositiveInt(d, 'd'));
  if (thresholds !== undefined && !(thresholds instanceof Float32Array && thresholds.length === d)) {
    throw new TypeError(`thresholds must be a Float32Array of d=${d} values; got ${describe(thresholds)}`);
  }
  checkAllocation((vectors.length / d) * Math.ceil(d / 8), `binarize of ${vectors.length / d} vectors of d=${d}`);
  return native.binarize(vectors, d, thresholds);
}

/** Reads a binary index file (Python's `faiss.read_index_binary`), off the event loop. Corrupt files give FaissError CORRUPT_INDEX. */
export async function readIndexBinary(path: string): Promise<IndexBinary> {
  return IndexBinary.fromNative(await fromCaller(native.readIndexBinary(checkPath(path))));
}

export function readIndexBinarySync(path: string): IndexBinary {
  return IndexBinary.fromNative(native.readIndexBinarySync(checkPath(path)));
}

/** `faiss.write_index_binary`: `index.write(path)`. */
export async function writeIndexBinary(index: IndexBinary, path: string): Promise<void> {
  await checkBinary(index, 'index').write(path);
}

export function writeIndexBinarySync(index: IndexBinary, path: string): void {
  checkBinary(index, 'index').writeSync(path);
}

/** `faiss.serialize_index_binary`: `index.serialize()`. */
export async function serializeIndexBinary(index: IndexBinary): Promise<Buffer> {
  return await checkBinary(index, 'index').serialize();
}

export function serializeIndexBinarySync(index: IndexBinary): Buffer {
  return checkBinary(index, 'index').serializeSync();
}

/** `faiss.deserialize_index_binary`, without copying the input; same checks as {@link readIndexBinary}. */
export async function deserializeIndexBinary(bytes: Uint8Array): Promise<IndexBinary> {
  return IndexBinary.fromNative(await fromCaller(native.deserializeIndexBinary(checkBytes(bytes))));
}

export function deserializeIndexBinarySync(bytes: Uint8Array): IndexBinary {
  return IndexBinary.fromNative(native.deserializeIndexBinarySync(checkBytes(bytes)));
}

function checkBits(d: unknown): number {
  if (checkPositiveInt(d, 'd') % 8 !== 0) throw new RangeError(`d must be a multiple of 8 (bits); got ${String(d)}`);
  return d as number;
}

function checkBinary(index: unknown, name: string): IndexBinary {
  if (!(index instanceof IndexBinary)) throw new TypeError(`${name} must be a faiss-native IndexBinary; got ${describe(index)}`);
  return index;
}

/** Codes as one Uint8Array of whole vectors: a Uint8Array as is (a Buffer too), rows of bytes copied once. */
function toCodes(x: unknown, codeSize: number, name = 'x'): Uint8Array {
  if (x instanceof Uint8Array) {
    if (x.length % codeSize !== 0) {
      throw new RangeError(`${name} must be a Uint8Array whose length is a multiple of d/8=${codeSize} bytes; got length ${x.length}`);
    }
    return x;
  }
  if (Array.isArray(x)) {
    const out = new Uint8Array(x.length * codeSize);
    x.forEach((row: unknown, i) => {
      if (!Array.isArray(row) || row.length !== codeSize || !row.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
        throw new RangeError(`${name}[${i}] must be an array of d/8=${codeSize} bytes (integers 0..255)`);
      }
      out.set(row as number[], i * codeSize);
    });
    return out;
  }
  throw new TypeError(`${name} must be a Uint8Array or an array of byte arrays; got ${describe(x)}`);
}

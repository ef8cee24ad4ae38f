// Index: what every index type offers (train, add, search, reconstruct, remove, IO), over one
// native index object; and the mapping from native objects back to the classes of lib/.
import { FaissError, fromCaller } from './errors';
import { checkAllocation } from './memory';
import type { MetricType } from './metric';
import type { NativeIndex } from './native';
import { SearchBatcher } from './search-batcher';
import { checkEf, hasLayer, toNativeParams, toRemoval, withPlan, type IdFilterLike, type Layer, type SearchParams } from './search-params';
import {
  checkCount,
  checkK,
  checkKey,
  checkTrainingCount,
  checkPath,
  checkPositiveInt,
  describe,
  resultArrays,
  toIds,
  toVectors,
  type IdsInput,
  type SearchResult,
  type VectorsInput,
} from './vectors';

/** What {@link Index.replaceInvlists} takes: an {@link OnDiskInvertedLists} (lib/on-disk.ts). */
export interface OnDiskInvertedListsLike {
  readonly nlist: number;
  readonly codeSize: number;
  readonly filename: string;
}

/** Options of {@link Index.search}: the call's {@link SearchParams}, and where to write. */
export interface SearchOptions extends SearchParams {
  /** Arrays to write the results into (reused across calls, as Python's `D=` and `I=`). */
  out?: { distances: Float32Array; labels: BigInt64Array };
}

/** Options of {@link Index.add}. */
export interface AddOptions {
  /** Called after each chunk with the vectors added so far and the total. */
  onProgress?: (added: number, total: number) => void;
}

/** Floats per chunk of an add with progress: 16 MB. */
const ADD_CHUNK_FLOATS = 1 << 22;

/** Options of {@link Index.train}. */
export interface TrainOptions {
  /**
   * While an IVF index (IndexIVFFlat, IndexIVFScalarQuantizer, IndexIVFPQ, alone or under an
   * IDMap) trains its coarse quantizer by k-means on your vectors: the iterations done and their
   * total (FAISS's `cp.niter`, 10 for IVF), checked every 100 ms, so quick iterations may be
   * seen together. Every index reports (total, total) when training ends; (1, 1) when there is
   * no such k-means to count (no IVF layer, an already trained quantizer, one FAISS trains
   * apart as in `IVF1024_HNSW32` factory strings, or an IVF under a pre-transform). The
   * encoder's own training (PQ's k-means, SQ's ranges) follows the last iteration.
   */
  onProgress?: (done: number, total: number) => void;
}

/** How often a training job's progress is read. */
const TRAIN_POLL_MS = 100;

/** The onProgress of an options object, checked. */
function progressOf<F>(options: { onProgress?: F }): F | undefined {
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object; got ${describe(options)}`);
  const { onProgress } = options;
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new TypeError(`options.onProgress must be a function; got ${describe(onProgress)}`);
  return onProgress;
}

/** Options of {@link Index.rangeSearch}. */
export type RangeSearchOptions = Omit<SearchParams, 'plan'>;

/** Range search output: the results of query i are at positions lims[i] to lims[i + 1] - 1. */
export interface RangeSearchResult {
  lims: Uint32Array;
  distances: Float32Array;
  labels: BigInt64Array;
  nq: number;
}

type IndexClass = abstract new (...args: never[]) => Index;
const classResolvers = new Map<string, (nat: NativeIndex) => IndexClass>();

/**
 * Any FAISS index. Async methods run off the event loop and return Promises; each has a
 * `*Sync` twin that runs on the calling thread. Searches may run concurrently; changes
 * (train, add, remove, reset) wait for them and run alone.
 */
export class Index {
  /** Vector dimension. */
  readonly d: number;
  #native: NativeIndex | undefined;
  /** Indexes this one was built over (quantizer, sub-index), kept for their getters. */
  protected readonly related = new Map<string, Index>();
  readonly #batcher: SearchBatcher;
  /**
   * Concurrent async one-query searches with the same k and options run as one FAISS call
   * (default true): those that arrive while a call runs go together next, up to 19, with the
   * results each would get alone; an idle index searches at once. False: one call each.
   */
  coalesceSearches = true;

  protected constructor(nat: NativeIndex) {
    this.#native = nat;
    this.d = nat.d;
    this.#batcher = new SearchBatcher(nat.d);
  }

  /** Wraps a native index in the most specific class of lib/ (as Python's downcast_index). */
  static fromNative(nat: NativeIndex): Index {
    const cls = classResolvers.get(nat.className)?.(nat) ?? Index;
    return Reflect.construct(Index, [nat], cls) as Index;
  }

  /** Lets a subclass module claim a native class name. */
  protected static register(className: string, resolve: (nat: NativeIndex) => IndexClass): void {
    classResolvers.set(className, resolve);
  }

  /** The native object of another index, for constructors that build over it. */
  protected static nativeOf(index: Index): NativeIndex {
    return index.native;
  }

  /** The native object, or a TypeError once the index is disposed. */
  protected get native(): NativeIndex {
    if (this.#native === undefined) throw new TypeError('index is disposed');
    return this.#native;
  }

  /** Number of vectors in the index. */
  get ntotal(): number {
    return this.native.ntotal;
  }

  /** Whether the index is trained (flat indexes always are). */
  get isTrained(): boolean {
    return this.native.isTrained;
  }

  /** METRIC_INNER_PRODUCT (0) or METRIC_L2 (1). */
  get metricType(): MetricType {
    return this.native.metricType as MetricType;
  }

  /** Number of inverted lists, for an index with an IVF layer (also under IDMap or a pre-transform). */
  get nlist(): number {
    return this.#withLayer('IVF', 'nlist').nlist as number;
  }

  /**
   * Inverted lists visited per query (default 1), for an index with an IVF layer. Setting it
   * waits for running searches; prefer `search(q, k, { nprobe })` under concurrent load.
   */
  get nprobe(): number {
    return this.#withLayer('IVF', 'nprobe').nprobe as number;
  }

  set nprobe(value: number) {
    this.#withLayer('IVF', 'nprobe').nprobe = checkPositiveInt(value, 'nprobe');
  }

  /**
   * Candidate list size of graph searches (default 16), for an index with an HNSW layer.
   * Setting it waits for running searches; prefer `search(q, k, { efSearch })` under load.
   */
  get efSearch(): number {
    return this.#withLayer('HNSW', 'efSearch').efSearch as number;
  }

  set efSearch(value: number) {
    this.#withLayer('HNSW', 'efSearch').efSearch = checkEf(value, 'efSearch');
  }

  /**
   * Trains the index on representative vectors (k-means for IVF, ranges for SQ), off the event
   * loop; `onProgress` reports the k-means iterations.
   */
  async train(x: VectorsInput, options: TrainOptions = {}): Promise<void> {
    const vectors = this.#trainingSet(x);
    const onProgress = progressOf(options);
    if (onProgress === undefined) {
      await fromCaller(this.native.train(vectors));
      return;
    }
    const cell = new Int32Array(2); // [done, total], written by the training thread
    let seen = 0;
    let failure: unknown;
    const poll = setInterval(() => {
      const [done, total] = [Atomics.load(cell, 0), Atomics.load(cell, 1)];
      if (total === 0 || done === seen || failure !== undefined) return;
      seen = done;
      try {
        onProgress(Math.min(done, total), total);
      } catch (err) {
        failure = err; // thrown once training ends: the native job cannot be stopped midway
      }
    }, TRAIN_POLL_MS);
    try {
      await fromCaller(this.native.train(vectors, cell));
    } finally {
      clearInterval(poll);
    }
    if (failure !== undefined) throw failure;
    const total = cell[1] || 1;
    if (seen !== total) onProgress(total, total);
  }

  /** Trains on the calling thread. */
  trainSync(x: VectorsInput): void {
    this.native.trainSync(this.#trainingSet(x));
  }

  /**
   * Adds vectors, numbered from ntotal on, off the event loop. With `onProgress`, in chunks of
   * about 16 MB, reporting after each; a failure then leaves the chunks before it added
   * (`ntotal` says how many).
   */
  async add(x: VectorsInput, options: AddOptions = {}): Promise<void> {
    const vectors = this.#toAdd(x);
    const onProgress = progressOf(options);
    if (onProgress === undefined) {
      if (vectors.length > 0) await fromCaller(this.native.add(vectors));
      return;
    }
    const { d } = this;
    const n = vectors.length / d;
    const chunk = Math.max(1, Math.floor(ADD_CHUNK_FLOATS / d));
    for (let i = 0; i < n; i += chunk) {
      const end = Math.min(n, i + chunk);
      await fromCaller(this.native.add(vectors.subarray(i * d, end * d)));
      onProgress(end, n);
    }
  }

  /** Adds vectors on the calling thread. */
  addSync(x: VectorsInput): void {
    const vectors = this.#toAdd(x);
    if (vectors.length > 0) this.native.addSync(vectors);
  }

  /** Adds vectors with your own 64-bit ids (IVF and IDMap indexes), off the event loop. */
  async addWithIds(x: VectorsInput, ids: IdsInput): Promise<void> {
    const [vectors, list] = this.#withIds(x, ids);
    if (vectors.length > 0) await fromCaller(this.native.addWithIds(vectors, list));
  }

  /** Adds vectors with ids on the calling thread. */
  addWithIdsSync(x: VectorsInput, ids: IdsInput): void {
    const [vectors, list] = this.#withIds(x, ids);
    if (vectors.length > 0) this.native.addWithIdsSync(vectors, list);
  }

  /**
   * Finds the k nearest vectors of each query, off the event loop. One-query calls made while
   * another runs go together in one FAISS call (see {@link Index.coalesceSearches}).
   * @example
   * const { distances, labels } = await index.search(queries, 10, { nprobe: 16 });
   * // only among documents 1000 to 1999:
   * await index.search(queries, 10, { filter: { range: [1000, 2000] } });
   */
  async search(q: VectorsInput, k: number, options?: SearchOptions): Promise<SearchResult> {
    const { nat, queries, result, params } = this.#prepareSearch(q, k, options);
    if (result.nq === 1 && this.coalesceSearches && params?.filter === undefined) await fromCaller(this.#batcher.search(nat, queries, result, params));
    else if (queries.length > 0) withPlan(result, await fromCaller(nat.search(queries, result.k, result.distances, result.labels, params)));
    return result;
  }

  /** Finds the k nearest vectors of each query on the calling thread. */
  searchSync(q: VectorsInput, k: number, options?: SearchOptions): SearchResult {
    const { nat, queries, result, params } = this.#prepareSearch(q, k, options);
    if (queries.length > 0) withPlan(result, nat.searchSync(queries, result.k, result.distances, result.labels, params));
    return result;
  }

  /**
   * Re-ranks another search's candidates by this index's own distances and keeps the k best
   * of each query: the second pass of a two-pass search (as IndexRefine does inside one index).
   * `candidates` is the first pass's result (its `labels`, `k` per query), whose ids must be
   * positions in this index: a flat, SQ, PQ or HNSW index filled in the same order. Off the
   * event loop.
   * @example
   * // binary first pass, float re-rank of 4x as many candidates
   * const first = await binaryIndex.search(binarize(q, d), 40);
   * const { labels } = await floatIndex.rescore(q, first, 10);
   */
  async rescore(q: VectorsInput, candidates: { labels: BigInt64Array; k: number }, k: number): Promise<SearchResult> {
    const { queries, labels, kIn, result } = this.#prepareRescore(q, candidates, k);
    if (queries.length > 0) await fromCaller(this.native.rescore(queries, labels, kIn, result.k, result.distances, result.labels));
    return result;
  }

  /** {@link rescore} on the calling thread. */
  rescoreSync(q: VectorsInput, candidates: { labels: BigInt64Array; k: number }, k: number): SearchResult {
    const { queries, labels, kIn, result } = this.#prepareRescore(q, candidates, k);
    if (queries.length > 0) this.native.rescoreSync(queries, labels, kIn, result.k, result.distances, result.labels);
    return result;
  }

  /**
   * Finds every vector within `radius` of each query: inner product above it, or squared L2
   * distance below it. Off the event loop.
   */
  async rangeSearch(q: VectorsInput, radius: number, options?: RangeSearchOptions): Promise<RangeSearchResult> {
    const { queries, params } = this.#prepareRange(q, radius, options);
    return { ...(await fromCaller(this.native.rangeSearch(queries, radius, params))), nq: queries.length / this.d };
  }

  /** Range search on the calling thread. */
  rangeSearchSync(q: VectorsInput, radius: number, options?: RangeSearchOptions): RangeSearchResult {
    const { queries, params } = this.#prepareRange(q, radius, options);
    return { ...this.native.rangeSearchSync(queries, radius, params), nq: queries.length / this.d };
  }

  /**
   * The stored (decoded) vector with this key: its position for flat indexes, its id for
   * IDMap2 and IVF indexes (IVF needs {@link makeDirectMap} first). Off the event loop.
   */
  async reconstruct(key: number | bigint): Promise<Float32Array> {
    const out = new Float32Array(this.d);
    await fromCaller(this.native.reconstruct(checkKey(key), out));
    return out;
  }

  /** {@link reconstruct} on the calling thread. */
  reconstructSync(key: number | bigint): Float32Array {
    const out = new Float32Array(this.d);
    this.native.reconstructSync(checkKey(key), out);
    return out;
  }

  /** The n stored vectors at positions i0 to i0 + n - 1, as one Float32Array. Off the event loop. */
  async reconstructN(i0: number, n: number): Promise<Float32Array> {
    const out = this.reconstructNOutput(n);
    await fromCaller(this.native.reconstructN(checkCount(i0, 'i0'), n, out));
    return out;
  }

  /** {@link reconstructN} on the calling thread. */
  reconstructNSync(i0: number, n: number): Float32Array {
    const out = this.reconstructNOutput(n);
    this.native.reconstructNSync(checkCount(i0, 'i0'), n, out);
    return out;
  }

  /** The output of reconstructN, checked against the memory limit before it is allocated. */
  private reconstructNOutput(n: number): Float32Array {
    const floats = checkCount(n, 'n') * this.d;
    checkAllocation(floats * 4, `reconstructN of ${n} vectors of d=${this.d}`);
    return new Float32Array(floats);
  }

  /**
   * Removes the vectors with these ids, or those a filter selects, and returns how many were
   * removed. A flat index renumbers the vectors after each removed one, as FAISS does. Off the
   * event loop.
   * @example
   * await index.removeIds([3, 7]);
   * await index.removeIds({ range: [0, 1000] });
   */
  async removeIds(ids: IdsInput | IdFilterLike): Promise<number> {
    return await fromCaller(this.native.removeIds(toRemoval(ids)));
  }

  /** {@link removeIds} on the calling thread. */
  removeIdsSync(ids: IdsInput | IdFilterLike): number {
    return this.native.removeIdsSync(toRemoval(ids));
  }

  /**
   * Moves every vector of `other` into this index (FAISS's `merge_from`), off the event loop.
   * `other` is left empty, as in FAISS. Both must have the same type, dimension and metric;
   * IVF indexes must share their coarse centroids and scalar quantizer (train one index, then
   * copy it with serialize/deserialize). `addId` is added to the ids moved into an IVF index;
   * flat indexes number the moved vectors from ntotal on, IDMaps keep their ids.
   */
  async mergeFrom(other: Index, addId = 0): Promise<void> {
    await fromCaller(this.native.mergeFrom(checkIndex(other, 'other').native, checkCount(addId, 'addId')));
  }

  /** {@link mergeFrom} on the calling thread. */
  mergeFromSync(other: Index, addId = 0): void {
    this.native.mergeFromSync(checkIndex(other, 'other').native, checkCount(addId, 'addId'));
  }

  /**
   * Moves the IVF layer's inverted lists into a data file (Python:
   * `index.replace_invlists(faiss.OnDiskInvertedLists(index.nlist, index.code_size, filename))`),
   * off the event loop. Searches then read the lists through the OS page cache, so the index
   * serves from less memory than its size; `write` saves an index file that names the data file.
   * The vectors already in the index are copied there (FAISS's replace_invlists would drop them).
   * Not on Windows, where FAISS has no on-disk lists.
   */
  async replaceInvlists(invlists: OnDiskInvertedListsLike): Promise<void> {
    await fromCaller(this.native.replaceInvlists(this.#checkInvlists(invlists)));
  }

  /** {@link replaceInvlists} on the calling thread. */
  replaceInvlistsSync(invlists: OnDiskInvertedListsLike): void {
    this.native.replaceInvlistsSync(this.#checkInvlists(invlists));
  }

  /**
   * Fills this empty, trained index with the vectors of shard files, each a copy of it with its
   * part added, into one data file of on-disk lists (Python's
   * `faiss.contrib.ondisk.merge_ondisk(index, shardFnames, ivfdataFname, shiftIds)`; see
   * {@link mergeOnDisk}). Off the event loop.
   */
  async mergeOnDisk(shardFnames: readonly string[], ivfdataFname: string, shiftIds = false): Promise<void> {
    const [shards, path] = this.#checkMerge(shardFnames, ivfdataFname, shiftIds);
    await fromCaller(this.native.mergeOnDisk(shards, path, shiftIds));
  }

  /** {@link Index.mergeOnDisk} on the calling thread. */
  mergeOnDiskSync(shardFnames: readonly string[], ivfdataFname: string, shiftIds = false): void {
    const [shards, path] = this.#checkMerge(shardFnames, ivfdataFname, shiftIds);
    this.native.mergeOnDiskSync(shards, path, shiftIds);
  }

  /**
   * The data file of the IVF layer's on-disk inverted lists and its mapped size, if they are on
   * disk (`filename` is '' for lists read with IO_FLAG_MMAP, which map the index file itself).
   */
  get onDisk(): { filename: string; bytes: number; readOnly: boolean } | undefined {
    return this.native.onDisk;
  }

  /**
   * Threads FAISS starts at each search of on-disk lists to read the lists it will scan ahead
   * of the scan (`invlists.prefetch_nthread`, default 32): they overlap cold reads from disk,
   * and cost thread starts when the lists are in the page cache (0 turns them off; see
   * scripts/bench/on-disk.mjs). Setting it waits for running searches.
   */
  get prefetchThreads(): number {
    const threads = this.native.prefetchThreads;
    if (threads === undefined) throw new TypeError(`prefetchThreads: this index's lists are not on disk`);
    return threads;
  }

  set prefetchThreads(value: number) {
    if (!Number.isInteger(value) || value < 0 || value > 1024) throw new RangeError(`prefetchThreads must be an integer 0..1024; got ${String(value)}`);
    this.native.prefetchThreads = value;
  }

  /** Bytes of one entry of the IVF layer's lists (FAISS's `code_size`). */
  get codeSize(): number {
    return this.#withLayer('IVF', 'codeSize').codeSize as number;
  }

  #checkInvlists(invlists: OnDiskInvertedListsLike): string {
    if (typeof invlists !== 'object' || invlists === null) {
      throw new TypeError(`invlists must be an OnDiskInvertedLists; got ${describe(invlists)}`);
    }
    const { nlist, codeSize, filename } = invlists;
    const path = checkPath(filename);
    if (nlist !== this.nlist || codeSize !== this.codeSize) {
      throw new RangeError(`invlists has nlist=${String(nlist)}, codeSize=${String(codeSize)}; the index has nlist=${this.nlist}, codeSize=${this.codeSize}`);
    }
    return path;
  }

  #checkMerge(shardFnames: readonly string[], ivfdataFname: string, shiftIds: boolean): [string[], string] {
    if (!Array.isArray(shardFnames) || shardFnames.length === 0) {
      throw new TypeError(`shardFnames must be a non-empty array of paths; got ${describe(shardFnames)}`);
    }
    if (typeof shiftIds !== 'boolean') throw new TypeError(`shiftIds must be a boolean; got ${describe(shiftIds)}`);
    this.#withLayer('IVF', 'mergeOnDisk');
    return [shardFnames.map((f: unknown) => checkPath(f)), checkPath(ivfdataFname)];
  }

  /** Removes every vector (training is kept). Off the event loop. */
  async reset(): Promise<void> {
    await fromCaller(this.native.reset());
  }

  /** {@link reset} on the calling thread. */
  resetSync(): void {
    this.native.resetSync();
  }

  /** The index in FAISS's file format (`faiss.serialize_index`), off the event loop. */
  async serialize(): Promise<Buffer> {
    return await fromCaller(this.native.serialize());
  }

  /** {@link serialize} on the calling thread. */
  serializeSync(): Buffer {
    return this.native.serializeSync();
  }

  /**
   * Writes the index to a file Python's `faiss.read_index` reads, atomically: a temp file
   * in the same directory, then a rename. Off the event loop.
   */
  async write(path: string): Promise<void> {
    await fromCaller(this.native.write(checkPath(path)));
  }

  /** {@link write} on the calling thread. */
  writeSync(path: string): void {
    this.native.writeSync(checkPath(path));
  }

  /** Lets an IVF index reconstruct vectors by id (FAISS's `make_direct_map`). */
  makeDirectMap(): void {
    this.#withLayer('IVF', 'makeDirectMap');
    this.native.makeDirectMap();
  }

  /**
   * Frees the native index (after any running job ends, and any search asked for before, which
   * may wait to be coalesced). Later calls throw a TypeError.
   */
  dispose(): void {
    const nat = this.#native;
    this.#native = undefined;
    if (nat) this.#batcher.whenIdle(() => nat.dispose());
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** A related index: one given at construction, else a view of the native one, cached. */
  protected relatedIndex(name: string, view: (nat: NativeIndex) => NativeIndex | undefined): Index | undefined {
    let index = this.related.get(name);
    if (index === undefined) {
      const nat = view(this.native);
      if (nat === undefined) return undefined;
      index = Index.fromNative(nat);
      this.related.set(name, index);
    }
    return index;
  }

  /** The native index, which must have `layer` for `what`. */
  #withLayer(layer: Layer, what: string): NativeIndex {
    const nat = this.native;
    if (!hasLayer(nat, layer)) throw new TypeError(`${what}: this index (${nat.className}) has no ${layer} layer`);
    return nat;
  }

  #trainingSet(x: VectorsInput): Float32Array {
    const vectors = toVectors(x, this.d);
    checkTrainingCount(vectors.length / this.d, this.native.nlist);
    return vectors;
  }

  /** Vectors to add, once the index can take them (FAISS's own refusal names only its check). */
  #toAdd(x: VectorsInput): Float32Array {
    const vectors = toVectors(x, this.d);
    const nat = this.native;
    if (!nat.isTrained) throw new FaissError(`cannot add to an untrained ${nat.className}: call train() first`);
    return vectors;
  }

  #withIds(x: VectorsInput, ids: IdsInput): [Float32Array, BigInt64Array] {
    const vectors = this.#toAdd(x);
    return [vectors, toIds(ids, vectors.length / this.d)];
  }

  #prepareSearch(q: VectorsInput, k: number, options: SearchOptions | undefined) {
    const nat = this.native;
    const queries = toVectors(q, this.d, 'q');
    const params = toNativeParams(options, nat, 'search', ['out']);
    const result = resultArrays(queries.length / this.d, checkK(k), options?.out);
    return { nat, queries, result, params };
  }

  #prepareRescore(q: VectorsInput, candidates: { labels: BigInt64Array; k: number }, k: number) {
    const queries = toVectors(q, this.d, 'q');
    const nq = queries.length / this.d;
    if (candidates === null || typeof candidates !== 'object' || !(candidates.labels instanceof BigInt64Array)) {
      throw new TypeError(`candidates must be a search result ({ labels: BigInt64Array, k }); got ${describe(candidates)}`);
    }
    const kIn = checkK(candidates.k);
    if (candidates.labels.length !== nq * kIn) {
      throw new RangeError(`candidates must hold k=${kIn} labels for each of the ${nq} queries; got ${candidates.labels.length}`);
    }
    return { queries, labels: candidates.labels, kIn, result: resultArrays(nq, checkK(k)) };
  }

  #prepareRange(q: VectorsInput, radius: number, options: RangeSearchOptions | undefined) {
    if (typeof radius !== 'number' || Number.isNaN(radius)) throw new RangeError(`radius must be a number; got ${String(radius)}`);
    const nat = this.native;
    return { queries: toVectors(q, this.d, 'q'), params: toNativeParams(options, nat, 'rangeSearch') };
  }
}

/** Checks that an argument is an Index (a sub-index, a quantizer, an index to write). */
export function checkIndex(index: unknown, name = 'index'): Index {
  if (!(index instanceof Index)) throw new TypeError(`${name} must be a faiss-native Index; got ${describe(index)}`);
  return index;
}

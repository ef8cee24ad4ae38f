// Index: what every index type offers (add, search, state), over one native index object.
import { native, type NativeIndex } from './native';
import type { MetricType } from './metric';
import { checkDimension, checkK, resultArrays, toVectors, type SearchResult, type VectorsInput } from './vectors';

/** Options of {@link Index.search}. */
export interface SearchOptions {
  /** Arrays to write the results into (reused across calls, as Python's `D=` and `I=`). */
  out?: { distances: Float32Array; labels: BigInt64Array };
}

/**
 * Any FAISS index. Async methods run off the event loop and return Promises; each has a
 * `*Sync` twin that runs on the calling thread.
 */
export class Index {
  /** Vector dimension. */
  readonly d: number;
  #native: NativeIndex | undefined;

  protected constructor(description: string, d: number, metric: MetricType) {
    this.d = checkDimension(d);
    this.#native = new native.Index(description, d, metric);
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

  /** Adds vectors, numbered from ntotal on, off the event loop. */
  async add(x: VectorsInput): Promise<void> {
    const vectors = toVectors(x, this.d);
    if (vectors.length > 0) await this.native.add(vectors);
  }

  /** Adds vectors on the calling thread. */
  addSync(x: VectorsInput): void {
    const vectors = toVectors(x, this.d);
    if (vectors.length > 0) this.native.addSync(vectors);
  }

  /**
   * Finds the k nearest vectors of each query, off the event loop.
   * @example
   * const { distances, labels } = await index.search(queries, 10);
   */
  async search(q: VectorsInput, k: number, options: SearchOptions = {}): Promise<SearchResult> {
    const { nat, queries, result } = this.#prepareSearch(q, k, options);
    if (queries.length > 0) await nat.search(queries, result.k, result.distances, result.labels);
    return result;
  }

  /** Finds the k nearest vectors of each query on the calling thread. */
  searchSync(q: VectorsInput, k: number, options: SearchOptions = {}): SearchResult {
    const { nat, queries, result } = this.#prepareSearch(q, k, options);
    if (queries.length > 0) nat.searchSync(queries, result.k, result.distances, result.labels);
    return result;
  }

  /** Frees the native index (after any running job ends). Later calls throw a TypeError. */
  dispose(): void {
    this.#native?.dispose();
    this.#native = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #prepareSearch(q: VectorsInput, k: number, options: SearchOptions) {
    const nat = this.native;
    const queries = toVectors(q, this.d, 'q');
    const result = resultArrays(queries.length / this.d, checkK(k), options.out);
    return { nat, queries, result };
  }
}

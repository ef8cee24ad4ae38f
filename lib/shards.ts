// Many indexes searched as one: IndexShards in this process, and mergeResults for the results
// of shards searched elsewhere (other processes or hosts: scatter-gather). Both merge as one
// index over all the vectors would rank them, ties included (with one exception, FAISS's own:
// which ids of an inner-product tie cut at k survive).
import { fromCaller } from './errors';
import { checkIndex, type Index, type SearchOptions } from './faiss-index';
import { checkMetric, METRIC_INNER_PRODUCT, type MetricType } from './metric';
import { native } from './native';
import { checkK, checkPositiveInt, describe, resultArrays, toIds, toVectors, type IdsInput, type SearchResult, type VectorsInput } from './vectors';

/**
 * The k best results per query of searches over disjoint shards of one collection, as one index
 * over all of it would give them (labels must already be the collection's ids; each shard
 * searched with k or more). Equal distances are listed as FAISS lists them, by descending id for
 * inner product and ascending for L2, so the output equals one index's, ties included; but for
 * a tie group that rank k cuts, an inner-product scan keeps ids that depend on the order it met
 * them (its heap admits the lowest first and evicts them first), so there this keeps the lowest
 * ids (an L2 scan keeps the lowest too: identical). FAISS's merge_knn_results orders ties by
 * shard instead. Runs on the calling thread: it touches nq * k * shards entries.
 */
export function mergeResults(resultsPerShard: readonly SearchResult[], k: number, metric: MetricType = METRIC_INNER_PRODUCT): SearchResult {
  return mergeShifted(resultsPerShard, resultsPerShard.map(() => 0), checkK(k), checkMetric(metric));
}

function mergeShifted(results: readonly SearchResult[], offsets: number[], k: number, metric: MetricType, out?: SearchOptions['out']): SearchResult {
  if (!Array.isArray(results) || results.length === 0) {
    throw new TypeError(`resultsPerShard must be a non-empty array of search results; got ${describe(results)}`);
  }
  const nq = results[0]?.nq;
  results.forEach((r, s) => {
    if (typeof r !== 'object' || r === null || !(r.distances instanceof Float32Array) || !(r.labels instanceof BigInt64Array)) {
      throw new TypeError(`resultsPerShard[${s}] must be a search result ({ distances, labels, nq, k }); got ${describe(r)}`);
    }
    if (r.nq !== nq || !Number.isInteger(r.k) || r.k < 1 || r.distances.length < r.nq * r.k || r.labels.length < r.nq * r.k) {
      throw new RangeError(`resultsPerShard[${s}] holds nq=${r.nq}, k=${r.k} in ${r.labels.length} labels; shard 0 has nq=${nq}`);
    }
  });
  const merged = resultArrays(nq, k, out);
  native.mergeResults(
    results.map((r) => r.distances),
    results.map((r) => r.labels),
    results.map((r) => r.k),
    offsets,
    nq,
    k,
    metric === METRIC_INNER_PRODUCT,
    merged.distances,
    merged.labels,
  );
  return merged;
}

/**
 * Several indexes of one dimension and metric searched as one (Python's
 * `faiss.IndexShards(d, threaded, successive_ids)`). Each query goes to every shard, and the
 * results merge as {@link mergeResults} merges them. `threaded` searches the shards concurrently
 * (each on a libuv pool thread), else one after another. With `successiveIds` (the default) the
 * shards' ids are positions shifted by the sizes of the shards before them; without, each
 * shard's own ids are returned (IDMaps, IVF indexes added with ids), and must not repeat.
 * The shards stay yours: adding a shard does not copy it, and dispose() does not free them.
 */
export class IndexShards {
  readonly d: number;
  readonly threaded: boolean;
  readonly successiveIds: boolean;
  readonly #shards: Index[] = [];

  constructor(d: number, threaded = false, successiveIds = true) {
    this.d = checkPositiveInt(d, 'd');
    if (typeof threaded !== 'boolean') throw new TypeError(`threaded must be a boolean; got ${describe(threaded)}`);
    if (typeof successiveIds !== 'boolean') throw new TypeError(`successiveIds must be a boolean; got ${describe(successiveIds)}`);
    this.threaded = threaded;
    this.successiveIds = successiveIds;
  }

  /** Adds a shard (Python's add_shard): an index of this dimension and the first shard's metric. */
  addShard(index: Index): void {
    checkIndex(index);
    if (index.d !== this.d) throw new RangeError(`shard has d=${index.d}; IndexShards has d=${this.d}`);
    const first = this.#shards[0];
    if (first && index.metricType !== first.metricType) throw new RangeError(`shard has metric ${index.metricType}; the others ${first.metricType}`);
    if (this.#shards.includes(index)) throw new RangeError('index is already a shard');
    this.#shards.push(index);
  }

  /** Removes a shard (Python's remove_shard). */
  removeShard(index: Index): void {
    const at = this.#shards.indexOf(index);
    if (at < 0) throw new RangeError('index is not a shard');
    this.#shards.splice(at, 1);
  }

  /** The shards, in order. */
  get shards(): readonly Index[] {
    return [...this.#shards];
  }

  get count(): number {
    return this.#shards.length;
  }

  get ntotal(): number {
    return this.#shards.reduce((sum, s) => sum + s.ntotal, 0);
  }

  get metricType(): MetricType {
    return this.#first('metricType').metricType;
  }

  /**
   * Splits x into consecutive blocks, one per shard, as FAISS does. With successiveIds only
   * into empty shards, once (ids follow from the shard sizes); without, ids are required.
   */
  async add(x: VectorsInput, ids?: IdsInput): Promise<void> {
    await Promise.all(this.#blocks(x, ids).map(([shard, xs, is]) => (is ? shard.addWithIds(xs, is) : shard.add(xs))));
  }

  /** {@link add} on the calling thread. */
  addSync(x: VectorsInput, ids?: IdsInput): void {
    for (const [shard, xs, is] of this.#blocks(x, ids)) {
      if (is) shard.addWithIdsSync(xs, is);
      else shard.addSync(xs);
    }
  }

  /** Every shard's k best, merged. Per-call options (nprobe, efSearch, a filter) go to each shard. */
  async search(q: VectorsInput, k: number, options?: SearchOptions): Promise<SearchResult> {
    const [queries, perShard, offsets] = this.#scatter(q, k, options, 'search');
    let results: SearchResult[];
    if (this.threaded) {
      results = await fromCaller(Promise.all(this.#shards.map((s) => s.search(queries, k, perShard))));
    } else {
      results = [];
      for (const s of this.#shards) results.push(await s.search(queries, k, perShard));
    }
    return mergeShifted(results, offsets, k, this.metricType, options?.out);
  }

  /** {@link search} on the calling thread, shard after shard. */
  searchSync(q: VectorsInput, k: number, options?: SearchOptions): SearchResult {
    const [queries, perShard, offsets] = this.#scatter(q, k, options, 'searchSync');
    const results = this.#shards.map((s) => s.searchSync(queries, k, perShard));
    return mergeShifted(results, offsets, k, this.metricType, options?.out);
  }

  /** The queries, the options each shard searches with (its own result arrays), the id shifts. */
  #scatter(q: VectorsInput, k: number, options: SearchOptions | undefined, what: string): [Float32Array, SearchOptions, number[]] {
    checkK(k);
    this.#first(what);
    const { out: _out, ...perShard } = options ?? {};
    return [toVectors(q, this.d), perShard, this.#offsets()];
  }

  #offsets(): number[] {
    let at = 0;
    return this.#shards.map((s) => {
      const offset = this.successiveIds ? at : 0;
      at += s.ntotal;
      return offset;
    });
  }

  #first(what: string): Index {
    const first = this.#shards[0];
    if (first === undefined) throw new RangeError(`${what}: IndexShards has no shards`);
    return first;
  }

  #blocks(x: VectorsInput, ids?: IdsInput): [Index, Float32Array, BigInt64Array | undefined][] {
    const vectors = toVectors(x, this.d);
    const n = vectors.length / this.d;
    this.#first('add');
    const count = this.#shards.length;
    if (this.successiveIds) {
      if (ids !== undefined) throw new TypeError('IndexShards with successiveIds numbers vectors itself; add without ids');
      if (this.ntotal !== 0) throw new RangeError('IndexShards with successiveIds takes one add into empty shards');
    } else if (ids === undefined) {
      throw new TypeError('IndexShards without successiveIds needs ids');
    }
    const allIds = ids === undefined ? undefined : toIds(ids, n);
    return this.#shards.map((shard, s) => {
      const [i0, i1] = [Math.floor((s * n) / count), Math.floor(((s + 1) * n) / count)];
      return [shard, vectors.subarray(i0 * this.d, i1 * this.d), allIds?.subarray(i0, i1)];
    });
  }
}

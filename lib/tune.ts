// nprobe (IVF) or efSearch (HNSW) tuned to a recall target: walk the parameter upward,
// measure recall@k against exact search and queries per second at each value, and keep the
// smallest value that meets the target. Python's faiss.ParameterSpace().explore does the same
// walk over many parameters at once; this is its one-knob form.
import { checkIndex, Index } from './faiss-index';
import { IndexFlat } from './flat';
import { IndexIDMap } from './id-map';
import { MAX_EF, type FilterPlan, type IdFilterLike } from './search-params';
import { checkPositiveInt, toVectors, type VectorsInput } from './vectors';

/** Options of {@link tune}. */
export interface TuneOptions {
  /** Neighbours per query that recall is measured on (recall@k). */
  k: number;
  /** The recall@k to reach, in (0, 1]. */
  recall: number;
  /**
   * The exact k nearest ids of each query (nq * k, best first). Without it, exact search runs
   * over the index's stored vectors, which needs ids that are positions (vectors added with
   * `add`, not `addWithIds`, and no IDMap).
   */
  groundTruth?: BigInt64Array | Int32Array;
}

/** One operating point: a parameter value, its recall@k and queries per second. */
export interface TunePoint {
  value: number;
  recall: number;
  qps: number;
}

/** What {@link tune} measured and chose. */
export interface TuneResult {
  parameter: 'nprobe' | 'efSearch';
  /** The value set on the index: the smallest that met the target, else the largest tried. */
  value: number;
  met: boolean;
  /** Every value tried, smallest first. */
  table: TunePoint[];
}

/**
 * Sets `index.nprobe` (IVF) or `index.efSearch` (HNSW) to the smallest value, doubling from 1
 * (nprobe, up to nlist) or from max(k, 16) (efSearch), whose recall@k over `queries` reaches
 * `options.recall`, and returns the table of values tried.
 * @example
 * const { value, table } = await tune(index, questions, { k: 10, recall: 0.95 });
 */
export async function tune(index: Index, queries: VectorsInput, options: TuneOptions): Promise<TuneResult> {
  checkIndex(index);
  const q = toVectors(queries, index.d, 'queries');
  const nq = q.length / index.d;
  if (nq === 0) throw new RangeError('queries must hold at least one vector');
  const { k, recall: target } = options;
  checkPositiveInt(k, 'options.k');
  if (typeof target !== 'number' || !(target > 0 && target <= 1)) throw new RangeError(`options.recall must be in (0, 1]; got ${String(target)}`);
  const { parameter, values } = operatingValues(index, k);
  const truth = options.groundTruth ?? (await exactNeighbours(index, q, k));
  if (truth.length !== nq * k) throw new RangeError(`options.groundTruth must hold nq * k = ${nq * k} ids; got ${truth.length}`);
  const table: TunePoint[] = [];
  for (const value of values) {
    const { labels, qps } = await timedSearch(index, q, k, parameter, value);
    table.push({ value, recall: recallAt(labels, truth, nq, k), qps });
    if (table.at(-1)!.recall >= target) break;
  }
  const last = table.at(-1)!;
  index[parameter] = last.value;
  return { parameter, value: last.value, met: last.recall >= target, table };
}

/** The knob of an index and the values tune walks: nprobe 1, 2, 4 ... nlist, or efSearch max(k, 16), doubling. */
export function operatingValues(index: Index, k: number): { parameter: 'nprobe' | 'efSearch'; values: number[] } {
  const parameter = (['nprobe', 'efSearch'] as const).find((p) => {
    try {
      return index[p] !== undefined;
    } catch {
      return false; // no such layer
    }
  });
  if (parameter === undefined) throw new TypeError(`tune needs an index with an IVF or HNSW layer; this index is ${index.constructor.name}`);
  const [first, last] = parameter === 'nprobe' ? [1, index.nlist] : [Math.max(k, 16), Math.min(MAX_EF, Math.max(index.ntotal, k))];
  const values: number[] = [];
  for (let value = first; value < last; value *= 2) values.push(value);
  values.push(last);
  return { parameter, values };
}

/** One search of all queries with `parameter` set to `value` for the call: its labels and queries per second. */
export async function timedSearch(
  index: Index,
  q: Float32Array,
  k: number,
  parameter: 'nprobe' | 'efSearch',
  value: number,
  filter?: IdFilterLike,
): Promise<{ labels: BigInt64Array; qps: number; plan?: FilterPlan }> {
  const t0 = process.hrtime.bigint();
  const { labels, plan } = await index.search(q, k, { [parameter]: value, ...(filter && { filter }) });
  return { labels, qps: q.length / index.d / (Number(process.hrtime.bigint() - t0) / 1e9), plan };
}

/** The exact k nearest ids: a flat index of the same metric over the stored (decoded) vectors. */
export async function exactNeighbours(index: Index, q: Float32Array, k: number, filter?: IdFilterLike): Promise<BigInt64Array> {
  if (index instanceof IndexIDMap) {
    throw new TypeError('tune: an IDMap numbers its vectors with your ids; pass options.groundTruth (on the command line: --gt)');
  }
  const flat = new IndexFlat(index.d, index.metricType);
  try {
    await flat.add(await index.reconstructN(0, index.ntotal));
    // A flat index's filtered search is exact over the allowed ids (positions here, as in the index).
    return (await flat.search(q, k, filter && { filter })).labels;
  } finally {
    flat.dispose();
  }
}

/** Recall@r: mean share of each query's r true neighbours among its first r results (rows of k). */
export function recallAt(labels: BigInt64Array, truth: BigInt64Array | Int32Array, nq: number, k: number, r = k): number {
  let found = 0;
  for (let i = 0; i < nq; i++) {
    const want = new Set<bigint>();
    for (let j = 0; j < r; j++) want.add(BigInt(truth[i * k + j]));
    for (let j = 0; j < r; j++) if (want.has(labels[i * k + j])) found++;
  }
  return found / (nq * r);
}

// Which index fits a memory budget and a recall target: every family's size at n vectors is
// estimated, and those that fit are built small on the caller's sample and tuned (tune.ts) to
// the target; the fastest that reaches it wins. autofaiss does this in Python by rules
// (HNSW if it fits, else IVF-Flat, else OPQ+IVF-PQ: max_index_memory_usage); here each candidate
// is measured, so the choice follows the data. scripts/bench/advisor-vs-autofaiss.mjs compares them.
import { indexFactory } from './factory';
import { IndexFlat } from './flat';
import { checkMetric, METRIC_L2, type MetricType } from './metric';
import { operatingValues, recallAt, tune } from './tune';
import { checkPositiveInt, describe, toVectors } from './vectors';

/** Options of {@link recommend}. */
export interface RecommendOptions {
  /** Vectors the index will hold. */
  n: number;
  d: number;
  metric?: MetricType;
  /** Most bytes the index may take in memory (its serialized size: codes, ids, centroids, graph). */
  memoryBytes: number;
  /** recall@k to reach against exact search, in (0, 1]. */
  recall: number;
  /** Vectors like yours (n_sample * d; 2,000 or more): the last min(200, 10%) are the queries, the rest the base. */
  sample: Float32Array;
  /** Neighbours per query recall is measured on (default 10). */
  k?: number;
}

/** One candidate the advisor considered. */
export interface AdvisorCandidate {
  /** The factory string at full size. */
  factory: string;
  /** Estimated bytes at n vectors. */
  bytes: number;
  fits: boolean;
  /** What was built on the sample (IVF lists scaled to its size); absent when it did not fit. */
  sampleFactory?: string;
  /** Settings it is searched with besides the tuned one (IndexRefine's kFactor, RaBitQ's qb). */
  fixed?: Fixed;
  /** The search parameter tuned, and its value at full size (nprobe scaled by nlist / sample nlist). */
  parameter?: 'nprobe' | 'efSearch';
  value?: number;
  /** recall@k and batch queries per second measured on the sample at that value. */
  recall?: number;
  sampleQps?: number;
  /**
   * Queries per second at n vectors, from the sample's by the codes a query visits: n for a
   * scan of every code, nlist + n x nprobe / nlist for IVF, log n for a graph walk of the same
   * efSearch. What the choice is made on: a sample of thousands favours scans that n would not.
   */
  qps?: number;
}

/** What {@link recommend} chose, with every candidate it considered. */
export interface Recommendation {
  factory: string;
  /** The search parameter to set (`index.nprobe = ...` or per call), if the index has one. */
  params: { nprobe?: number; efSearch?: number; kFactor?: number; qb?: number };
  bytes: number;
  /** recall@k measured on the sample, and whether it reached the target. */
  recall: number;
  met: boolean;
  candidates: AdvisorCandidate[];
}

/** Settings a family is searched with besides its tuned parameter. */
type Fixed = { kFactor?: number; qb?: number };

/**
 * A family: its factory string for n vectors (undefined where it does not apply), bytes a
 * vector, and fixed settings: refinements re-rank 4 x k candidates; RaBitQ quantizes queries
 * to 4 bits (at FAISS's default 0 the estimate runs bit by bit, 20-30x slower, for the same recall).
 */
interface Family {
  key: (n: number, d: number) => string | undefined;
  bytes: (n: number, d: number) => number;
  fixed?: Fixed;
}

/** IVF lists for n vectors, as autofaiss and FAISS's guidelines: the power of 2 nearest 4 sqrt(n), at most n / 39. */
export function nlistFor(n: number): number {
  let nlist = 2 ** Math.round(Math.log2(4 * Math.sqrt(n)));
  while (nlist > 16 && nlist * 39 > n) nlist /= 2;
  return nlist;
}

/** PQ sub-quantizers: d / ratio when it divides d into whole sub-vectors of at least 2 dims. */
const pqM = (d: number, ratio: number) => (d % ratio === 0 && d / ratio >= 4 ? d / ratio : undefined);
const ID = 8; // an IVF keeps each vector's 64-bit id
const opqDims = (d: number, m: number) => (Math.min(Math.floor(d / m), 6) + 1) * m;
const ivfBytes = (n: number, d: number, perVector: number) => perVector + ID + (nlistFor(n) * d * 4) / n;
// FastScan: M / 2 bytes a code, each list padded to blocks of 32 codes (16 on average), and 16-entry tables.
const fastScanBytes = (n: number, d: number, m: number) => ivfBytes(n, d, m / 2) + (nlistFor(n) * 16 * (m / 2) + 16 * d * 4) / n;

const FAMILIES: Family[] = [
  { key: () => 'Flat', bytes: (_, d) => 4 * d },
  { key: () => 'SQfp16', bytes: (_, d) => 2 * d },
  { key: () => 'SQ8', bytes: (_, d) => d },
  // HNSW32: 2 x 32 links of 4 bytes on the base level, an offset and a level (measured: 271.5 bytes beyond the vector at d = 128).
  { key: () => 'HNSW32', bytes: (_, d) => 4 * d + 272 },
  { key: (n) => (n >= 39 * 16 ? `IVF${nlistFor(n)},Flat` : undefined), bytes: (n, d) => ivfBytes(n, d, 4 * d) },
  { key: (n) => (n >= 39 * 16 ? `IVF${nlistFor(n)},SQ8` : undefined), bytes: (n, d) => ivfBytes(n, d, d) },
  { key: (n) => (n >= 39 * 16 ? `IVF${nlistFor(n)},SQ4` : undefined), bytes: (n, d) => ivfBytes(n, d, Math.ceil(d / 2)) },
  ...[2, 4].map((ratio) => ({
    key: (n: number, d: number) => (n >= 39 * 16 && pqM(d, ratio) ? `IVF${nlistFor(n)},PQ${pqM(d, ratio)}x4fs,RFlat` : undefined),
    bytes: (n: number, d: number) => fastScanBytes(n, d, pqM(d, ratio) ?? 0) + 4 * d,
    fixed: { kFactor: 4 },
  })),
  ...[2, 4, 8].map((ratio) => ({
    key: (n: number, d: number) => (n >= 39 * 16 && pqM(d, ratio) ? `IVF${nlistFor(n)},PQ${pqM(d, ratio)}x4fs` : undefined),
    bytes: (n: number, d: number) => fastScanBytes(n, d, pqM(d, ratio) ?? 0),
  })),
  ...[4, 8, 16].map((ratio) => ({
    key: (n: number, d: number) => (n >= 39 * 16 * 8 && pqM(d, ratio) ? `IVF${nlistFor(n)},PQ${pqM(d, ratio)}` : undefined),
    bytes: (n: number, d: number) => ivfBytes(n, d, pqM(d, ratio) ?? 0) + (256 * d * 4) / n,
  })),
  // autofaiss's choice under tight budgets: an OPQ rotation to y = (min(d / m, 6) + 1) x m dims, then IVF-PQ of m bytes.
  ...[4, 8].map((ratio) => ({
    key: (n: number, d: number) => {
      const m = pqM(d, ratio);
      return n >= 39 * 16 * 8 && m ? `OPQ${m}_${opqDims(d, m)},IVF${nlistFor(n)},PQ${m}` : undefined;
    },
    bytes: (n: number, d: number) => {
      const m = pqM(d, ratio) ?? 0;
      const y = opqDims(d, m);
      return m + ID + (nlistFor(n) * y * 4 + d * y * 4 + 256 * y * 4) / n;
    },
  })),
  // RaBitQ: d sign bits and 8 bytes of factors.
  { key: (n) => (n >= 39 * 16 ? `IVF${nlistFor(n)},RaBitQ` : undefined), bytes: (n, d) => ivfBytes(n, d, d / 8 + 8), fixed: { qb: 4 } },
];

/** The same factory string with its IVF lists sized for `n` vectors. */
export const rescaled = (factory: string, n: number): string => factory.replace(/IVF\d+/, `IVF${nlistFor(n)}`);

/**
 * The index for `n` vectors of `d` dimensions that fits `memoryBytes` and reaches `recall`
 * (recall@k against exact search, measured on your sample), fastest first; when none reaches
 * it, the most accurate that fits (`met: false`). Builds each fitting family on the sample.
 * @example
 * const { factory, params, candidates } = await recommend({ n: 10_000_000, d: 768, metric: METRIC_INNER_PRODUCT,
 *   memoryBytes: 4 * 2 ** 30, recall: 0.9, sample });
 * const index = indexFactory(768, factory, METRIC_INNER_PRODUCT);
 */
export async function recommend(options: RecommendOptions): Promise<Recommendation> {
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object; got ${describe(options)}`);
  const n = checkPositiveInt(options.n, 'options.n');
  const d = checkPositiveInt(options.d, 'options.d');
  const metric = checkMetric(options.metric ?? METRIC_L2);
  const k = checkPositiveInt(options.k ?? 10, 'options.k');
  const { memoryBytes, recall: target } = options;
  if (typeof memoryBytes !== 'number' || !(memoryBytes > 0)) throw new RangeError(`options.memoryBytes must be a positive number; got ${String(memoryBytes)}`);
  if (typeof target !== 'number' || !(target > 0 && target <= 1)) throw new RangeError(`options.recall must be in (0, 1]; got ${String(target)}`);
  const sample = toVectors(options.sample, d, 'options.sample');
  const sampleN = sample.length / d;
  if (sampleN < 2000) throw new RangeError(`options.sample must hold at least 2000 vectors; got ${sampleN}`);
  const nq = Math.min(200, Math.floor(sampleN / 10));
  const base = sample.subarray(0, (sampleN - nq) * d);
  const queries = sample.subarray((sampleN - nq) * d);
  const baseN = sampleN - nq;

  const exact = new IndexFlat(d, metric);
  await exact.add(base);
  const truth = (await exact.search(queries, k)).labels;
  exact.dispose();

  const candidates: AdvisorCandidate[] = [];
  for (const family of FAMILIES) {
    const factory = family.key(n, d);
    if (factory === undefined || candidates.some((c) => c.factory === factory)) continue;
    const bytes = Math.ceil(family.bytes(n, d) * n);
    const candidate: AdvisorCandidate = { factory, bytes, fits: bytes <= memoryBytes, ...(family.fixed && { fixed: family.fixed }) };
    candidates.push(candidate);
    if (!candidate.fits) continue;
    candidate.sampleFactory = rescaled(factory, baseN);
    Object.assign(candidate, await measure(candidate, n, d, metric, base, queries, truth, k, target));
  }
  const fitting = candidates.filter((c) => c.fits);
  if (fitting.length === 0) {
    const smallest = candidates.reduce((a, b) => (a.bytes < b.bytes ? a : b));
    throw new RangeError(`no index of ${n} vectors of d=${d} fits ${memoryBytes} bytes; the smallest considered, ${smallest.factory}, takes about ${smallest.bytes}`);
  }
  const meeting = fitting.filter((c) => c.recall! >= target);
  const best = meeting.length > 0 ? meeting.reduce((a, b) => (b.qps! > a.qps! ? b : a)) : fitting.reduce((a, b) => (b.recall! > a.recall! ? b : a));
  const params: Recommendation['params'] = { ...best.fixed, ...(best.parameter && { [best.parameter]: best.value }) };
  return { factory: best.factory, params, bytes: best.bytes, recall: best.recall!, met: best.recall! >= target, candidates };
}

/**
 * Builds one candidate (`sampleFactory`, with its `fixed` settings) on the sample's base, tunes
 * it to the target on the sample's queries, and scales what it measured to n vectors of `factory`.
 */
export async function measure(
  candidate: Pick<AdvisorCandidate, 'factory' | 'sampleFactory' | 'fixed'>,
  n: number,
  d: number,
  metric: MetricType,
  base: Float32Array,
  queries: Float32Array,
  truth: BigInt64Array,
  k: number,
  target: number,
): Promise<Partial<AdvisorCandidate>> {
  const sampleFactory = candidate.sampleFactory!;
  const index = indexFactory(d, sampleFactory, metric);
  try {
    Object.assign(index, candidate.fixed);
    if (!index.isTrained) await index.train(base);
    await index.add(base);
    const nq = queries.length / d;
    let tunable = true;
    try {
      operatingValues(index, k);
    } catch {
      tunable = false; // no IVF or HNSW layer: one search says it all
    }
    const baseN = base.length / d;
    if (!tunable) {
      const t0 = process.hrtime.bigint();
      const { labels } = await index.search(queries, k);
      const sampleQps = nq / (Number(process.hrtime.bigint() - t0) / 1e9);
      return { recall: recallAt(labels, truth, nq, k), sampleQps, qps: (sampleQps * baseN) / n };
    }
    const tuned = await tune(index, queries, { k, recall: target, groundTruth: truth });
    const point = tuned.table.at(-1)!;
    if (tuned.parameter === 'efSearch') {
      return { parameter: 'efSearch', value: tuned.value, recall: point.recall, sampleQps: point.qps, qps: (point.qps * Math.log(baseN)) / Math.log(n) };
    }
    // nprobe probes a share of the lists: the same share of the full index's lists.
    const full = Number(/IVF(\d+)/.exec(candidate.factory)?.[1]);
    const small = Number(/IVF(\d+)/.exec(sampleFactory)?.[1]);
    const value = Math.min(full, Math.round((tuned.value * full) / small));
    const visited = (lists: number, probed: number, count: number) => lists + (count * probed) / lists;
    const qps = (point.qps * visited(small, tuned.value, baseN)) / visited(full, value, n);
    return { parameter: 'nprobe', value, recall: point.recall, sampleQps: point.qps, qps };
  } finally {
    index.dispose();
  }
}

/** "4G", "512M", "1.5G", "1000000" (bytes; K, M, G, T are powers of 1024, as autofaiss's "4G"). */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(text.trim());
  if (!m) throw new RangeError(`a memory size must look like 4G, 512M or a number of bytes; got ${text}`);
  return Math.floor(Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase()));
}

/** Rows of a recommendation's candidates, for the command line. */
export function candidateTable(result: Recommendation): string {
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const rows = result.candidates.map((c) =>
    [c.factory === result.factory ? `* ${c.factory}` : `  ${c.factory}`, mb(c.bytes), c.fits ? (c.parameter ? `${c.parameter} ${c.value}` : '-') : 'does not fit', c.recall?.toFixed(3) ?? '', c.qps ? String(Math.round(c.qps)) : ''].join('\t'),
  );
  return ['  factory\tbytes at n\tparameter\trecall on sample\tqueries/s at n (estimated)', ...rows].join('\n');
}

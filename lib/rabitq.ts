// RaBitQ (FAISS's IndexRaBitQ and IndexIVFRaBitQ): each vector becomes the d sign bits of its
// direction from a center (an IVF cell's centroid, or the training mean) and a few factors, and
// distances are estimated from those bits: about d / 8 + 8 bytes a vector, 32x less than floats.
import { Index } from './faiss-index';
import { IndexIVF } from './ivf';
import { checkMetric, METRIC_L2, type MetricType } from './metric';
import { native } from './native';
import { checkQb } from './search-params';
import { checkPositiveInt } from './vectors';

/**
 * RaBitQ codes searched exhaustively (Python's `faiss.IndexRaBitQ(d, metric)`): training finds
 * the center (the mean), each vector is stored as d sign bits and factors, and a search
 * estimates every distance from them. Pair it with `IndexRefineFlat` to re-rank exactly.
 * @example
 * const index = new IndexRaBitQ(768, METRIC_INNER_PRODUCT);
 * index.trainSync(sample);
 * index.addSync(passages);
 * index.qb = 4; // queries quantized to 4 bits: faster estimates
 */
export class IndexRaBitQ extends Index {
  constructor(d: number, metric: MetricType = METRIC_L2) {
    super(native.createRaBitQ(checkPositiveInt(d, 'd'), checkMetric(metric)));
  }

  static {
    this.register('IndexRaBitQ', () => IndexRaBitQ);
  }

  /**
   * Bits each query is quantized to before the estimate (Python's `qb`; also per call,
   * `search(q, k, { qb })`): 0 (default) keeps the query in floats, and is far slower; 1 to 8.
   * Setting it waits for running searches.
   */
  get qb(): number {
    return this.native.qb as number;
  }

  set qb(value: number) {
    this.native.qb = checkQb(value, 'qb');
  }
}

/**
 * An inverted file over RaBitQ codes (Python's `faiss.IndexIVFRaBitQ(quantizer, d, nlist,
 * metric)`): each vector is encoded by its direction from its cell's centroid.
 * @example
 * const index = new IndexIVFRaBitQ(768, 1024); // inner product
 * await index.train(sample);
 * await index.add(passages);
 * const { labels } = await index.search(questions, 10, { nprobe: 32 });
 */
export class IndexIVFRaBitQ extends IndexIVF {
  /** With your own quantizer (`faiss.IndexIVFRaBitQ(quantizer, d, nlist, metric)`); the metric defaults to the quantizer's. */
  constructor(quantizer: Index, d: number, nlist: number, metric?: MetricType);
  /** With its own flat quantizer of the same metric (inner product unless told otherwise). */
  constructor(d: number, nlist: number, metric?: MetricType);
  constructor(...args: unknown[]) {
    super(IndexIVF.createIvf(args, ([metric]) => ({ encoding: { kind: 'RaBitQ' }, metric })));
  }

  static {
    this.register('IndexIVFRaBitQ', () => IndexIVFRaBitQ);
  }

  /** As IndexRaBitQ's `qb`. */
  get qb(): number {
    return this.native.qb as number;
  }

  set qb(value: number) {
    this.native.qb = checkQb(value, 'qb');
  }
}

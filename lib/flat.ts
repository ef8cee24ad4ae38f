// Exact (brute-force) indexes: every query is compared with every stored vector.
import { Index } from './faiss-index';
import { checkMetric, METRIC_INNER_PRODUCT, METRIC_L2, type MetricType } from './metric';
import { native } from './native';
import { checkPositiveInt } from './vectors';

/** Exact search with any metric (`faiss.IndexFlat(d, metric)`); see IndexFlatIP and IndexFlatL2. */
export class IndexFlat extends Index {
  constructor(d: number, metric: MetricType = METRIC_L2) {
    super(native.createFactory(checkPositiveInt(d, 'd'), 'Flat', checkMetric(metric)));
  }

  static {
    this.register('IndexFlat', (nat) =>
      nat.metricType === METRIC_INNER_PRODUCT ? IndexFlatIP : nat.metricType === METRIC_L2 ? IndexFlatL2 : IndexFlat,
    );
  }
}

/**
 * Exact maximum-inner-product search. With L2-normalised vectors this is cosine similarity.
 * @example
 * const index = new IndexFlatIP(768);
 * await index.add(passages);             // Float32Array, n * 768
 * const { labels } = await index.search(question, 5);
 */
export class IndexFlatIP extends IndexFlat {
  constructor(d: number) {
    super(d, METRIC_INNER_PRODUCT);
  }
}

/** Exact search by squared Euclidean distance. */
export class IndexFlatL2 extends IndexFlat {
  constructor(d: number) {
    super(d, METRIC_L2);
  }
}

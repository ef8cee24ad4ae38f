// Graph search: HNSW (hierarchical navigable small worlds) over the vectors themselves.
import { Index } from './faiss-index';
import { checkMetric, METRIC_L2, type MetricType } from './metric';
import { native } from './native';
import { checkEf } from './search-params';
import { checkPositiveInt } from './vectors';

/**
 * HNSW over the stored vectors (`faiss.IndexHNSWFlat(d, M, metric)`): low-latency approximate
 * search without training; `efSearch` trades speed for recall (also per call), `efConstruction`
 * the build's speed for the graph's quality. No removal.
 * @example
 * const index = new IndexHNSWFlat(768, 32, METRIC_INNER_PRODUCT);
 * await index.add(passages);
 * const { labels } = await index.search(questions, 10, { efSearch: 64 });
 */
export class IndexHNSWFlat extends Index {
  constructor(d: number, M = 32, metric: MetricType = METRIC_L2) {
    if (checkPositiveInt(M, 'M') < 2) throw new RangeError(`M must be at least 2; got ${M}`);
    super(native.createHNSWFlat(checkPositiveInt(d, 'd'), M, checkMetric(metric)));
  }

  static {
    this.register('IndexHNSWFlat', () => IndexHNSWFlat);
  }

  /** Candidate list size while adding (default 40); set it before adding. */
  get efConstruction(): number {
    return this.native.efConstruction as number;
  }

  set efConstruction(value: number) {
    this.native.efConstruction = checkEf(value, 'efConstruction');
  }

  /** The graph: neighbours per node on upper levels (M), its top level and entry point (-1 when empty). */
  get hnsw(): { M: number; maxLevel: number; entryPoint: number } {
    return this.native.hnswInfo as { M: number; maxLevel: number; entryPoint: number };
  }
}

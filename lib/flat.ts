// Exact (brute-force) indexes: every query is compared with every stored vector.
import { Index } from './faiss-index';
import { METRIC_INNER_PRODUCT, METRIC_L2 } from './metric';

/**
 * Exact maximum-inner-product search. With L2-normalised vectors this is cosine similarity.
 * @example
 * const index = new IndexFlatIP(768);
 * await index.add(passages);             // Float32Array, n * 768
 * const { labels } = await index.search(question, 5);
 */
export class IndexFlatIP extends Index {
  constructor(d: number) {
    super('Flat', d, METRIC_INNER_PRODUCT);
  }
}

/** Exact search by squared Euclidean distance. */
export class IndexFlatL2 extends Index {
  constructor(d: number) {
    super('Flat', d, METRIC_L2);
  }
}

// index_factory: any FAISS index from a description string, as in Python.
import { Index } from './faiss-index';
import { checkMetric, METRIC_L2, type MetricType } from './metric';
import { native } from './native';
import { checkPositiveInt } from './vectors';

/**
 * Builds an index from a FAISS factory string ("Flat", "IVF1024,SQ8", "IDMap,Flat",
 * "PCA64,IVF256,SQfp16", ...). The result is the matching class where faiss-native has one,
 * else a generic Index; nprobe reaches its IVF layer either way.
 * @example
 * const index = indexFactory(768, 'IVF1024,SQ8', METRIC_INNER_PRODUCT);
 */
export function indexFactory(d: number, description: string, metric: MetricType = METRIC_L2): Index {
  if (typeof description !== 'string') throw new TypeError(`description must be a string; got ${typeof description}`);
  return Index.fromNative(native.createFactory(checkPositiveInt(d, 'd'), description, checkMetric(metric)));
}

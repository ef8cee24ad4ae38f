// Metric types, with FAISS's numeric values (faiss/MetricType.h).

/** Maximum inner product: larger is closer. `faiss.METRIC_INNER_PRODUCT` in Python. */
export const METRIC_INNER_PRODUCT = 0;
/** Squared Euclidean distance: smaller is closer. `faiss.METRIC_L2` in Python. */
export const METRIC_L2 = 1;

export type MetricType = typeof METRIC_INNER_PRODUCT | typeof METRIC_L2;

export function checkMetric(metric: unknown, name = 'metric'): MetricType {
  if (metric !== METRIC_INNER_PRODUCT && metric !== METRIC_L2) {
    throw new RangeError(`${name} must be METRIC_INNER_PRODUCT (0) or METRIC_L2 (1); got ${String(metric)}`);
  }
  return metric;
}

// faiss-native: FAISS for Node.js. The public API.
import { native, nativePath, simdLevel } from './native';

export { Index, type SearchOptions } from './faiss-index';
export { IndexFlatIP, IndexFlatL2 } from './flat';
export { FaissError, type FaissErrorCode } from './errors';
export { METRIC_INNER_PRODUCT, METRIC_L2, type MetricType } from './metric';
export type { SearchResult, VectorsInput } from './vectors';
export { SIMD_LEVELS, type SimdLevel } from './native';

/** Version of the FAISS library inside, e.g. "1.12.0". */
export const faissVersion: string = native.faissVersion;

/** Which build of FAISS is loaded: its SIMD level, the file, and FAISS's compile options. */
export const buildInfo = Object.freeze({
  simdLevel,
  nativePath,
  compileOptions: native.compileOptions.trim(),
});

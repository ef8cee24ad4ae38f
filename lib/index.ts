// faiss-native: FAISS for Node.js. The public API.
import { platform } from './load-error';
import { native, nativePath, simdLevel } from './native';

export { Index, type AddOptions, type TrainOptions, type RangeSearchOptions, type RangeSearchResult, type SearchOptions } from './faiss-index';
export { IdFilter, type FilterPlan, type IdFilterForm, type IdFilterLike, type SearchParams } from './search-params';
export { IndexFlat, IndexFlatIP, IndexFlatL2 } from './flat';
export { IndexIVFScalarQuantizer, IndexScalarQuantizer, ScalarQuantizer, type QuantizerType } from './scalar-quantizer';
export { IndexIVF, IndexIVFFlat, IndexIVFPQ } from './ivf';
export { IndexHNSWFlat } from './hnsw';
export { IndexIDMap, IndexIDMap2 } from './id-map';
export { IndexRefine, IndexRefineFlat } from './refine';
export { IndexIVFRaBitQ, IndexRaBitQ } from './rabitq';
export { IndexIVFPQFastScan, IndexPQFastScan } from './fast-scan';
export { indexFactory } from './factory';
export {
  binarize,
  deserializeIndexBinary,
  deserializeIndexBinarySync,
  IndexBinary,
  indexBinaryFactory,
  IndexBinaryFlat,
  IndexBinaryHNSW,
  IndexBinaryIDMap,
  IndexBinaryIDMap2,
  IndexBinaryIVF,
  readIndexBinary,
  readIndexBinarySync,
  serializeIndexBinary,
  serializeIndexBinarySync,
  writeIndexBinary,
  writeIndexBinarySync,
  type BinarySearchOptions,
  type BinarySearchResult,
  type BinaryVectorsInput,
} from './binary';
export { HotIndex } from './hot-index';
export { tune, type TuneOptions, type TunePoint, type TuneResult } from './tune';
export { recommend, type AdvisorCandidate, type Recommendation, type RecommendOptions } from './advisor';
export {
  deserializeIndex,
  deserializeIndexSync,
  IO_FLAG_MMAP,
  IO_FLAG_MMAP_IFC,
  IO_FLAG_ONDISK_SAME_DIR,
  IO_FLAG_READ_ONLY,
  readIndex,
  readIndexSync,
  serializeIndex,
  serializeIndexSync,
  writeIndex,
  writeIndexSync,
  type LoadOptions,
  type ReadIndexOptions,
} from './io';
export { mergeOnDisk, mergeOnDiskSync, OnDiskInvertedLists } from './on-disk';
export { IndexShards, mergeResults } from './shards';
export { readBvecs, readFvecs, readIvecs, readNpy, writeNpy, type NpyArray, type VectorFile } from './vector-files';
export { getNumThreads, setNumThreads } from './threads';
export { getMemoryLimit, setMemoryLimit } from './memory';
export { normalizeL2, type IdsInput, type SearchResult, type VectorsInput } from './vectors';
export { FaissError, type FaissErrorCode } from './errors';
export { METRIC_INNER_PRODUCT, METRIC_L2, type MetricType } from './metric';
export { SIMD_LEVELS, type SimdLevel } from './native';

/** Version of the FAISS library inside, e.g. "1.12.0". */
export const faissVersion: string = native.faissVersion;

/** Which build of FAISS is loaded: its SIMD level, the file, and FAISS's compile options. */
export const buildInfo = Object.freeze({
  /** The platform the addon was built for, as the binary packages name it ("linux-x64", "linux-x64-musl"). */
  platform,
  simdLevel,
  nativePath,
  compileOptions: native.compileOptions.trim(),
  /** OpenBLAS's kernels in use (e.g. "SkylakeX"), or "" when FAISS was linked to another BLAS. */
  openblasCore: native.openblasCore().trim(),
});

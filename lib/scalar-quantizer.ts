// Scalar quantization (float32 to 8, 6 or 4 bits, fp16, bf16): alone, and inside an inverted file.
import { Index } from './faiss-index';
import { IndexIVF } from './ivf';
import { checkMetric, METRIC_L2, type MetricType } from './metric';
import { native } from './native';
import { checkPositiveInt } from './vectors';

/** FAISS's quantizer types, in the order of its enum (their numbers in index files). */
const QUANTIZER_TYPES = [
  'QT_8bit',
  'QT_4bit',
  'QT_8bit_uniform',
  'QT_4bit_uniform',
  'QT_fp16',
  'QT_8bit_direct',
  'QT_6bit',
  'QT_bf16',
  'QT_8bit_direct_signed',
] as const;

/**
 * How each component is encoded: `QT_8bit` (per-dimension range, 4x smaller than float32),
 * `QT_6bit`, `QT_4bit` (8x smaller), `QT_fp16` and `QT_bf16` (2x), the `_uniform` variants
 * (one range for all dimensions), and `QT_8bit_direct` / `QT_8bit_direct_signed` (values
 * that already are integers 0..255 / -128..127).
 */
export type QuantizerType = (typeof QUANTIZER_TYPES)[number];

/** The quantizer type names, spelled as Python's `faiss.ScalarQuantizer.QT_8bit`. */
export const ScalarQuantizer = Object.freeze(Object.fromEntries(QUANTIZER_TYPES.map((t) => [t, t])) as { readonly [T in QuantizerType]: T });

function qtypeCode(qtype: unknown): number {
  const code = QUANTIZER_TYPES.indexOf(qtype as QuantizerType);
  if (code < 0) throw new RangeError(`qtype must be one of ${QUANTIZER_TYPES.join(', ')}; got ${String(qtype)}`);
  return code;
}

/** Exhaustive search over scalar-quantized vectors (`faiss.IndexScalarQuantizer`). Needs training. */
export class IndexScalarQuantizer extends Index {
  constructor(d: number, qtype: QuantizerType, metric: MetricType = METRIC_L2) {
    super(native.createScalarQuantizer(checkPositiveInt(d, 'd'), qtypeCode(qtype), checkMetric(metric)));
  }

  static {
    this.register('IndexScalarQuantizer', () => IndexScalarQuantizer);
  }
}

/**
 * An inverted file over scalar-quantized vectors: k-means splits the space into `nlist`
 * cells, a query visits the `nprobe` nearest. Train it, add vectors, search.
 * @example
 * const index = new IndexIVFScalarQuantizer(768, 1024, 'QT_8bit'); // inner product
 * await index.train(sample);   // at least 39 * nlist vectors recommended
 * await index.add(passages);
 * const { labels } = await index.search(questions, 10, { nprobe: 16 });
 */
export class IndexIVFScalarQuantizer extends IndexIVF {
  /**
   * With your own quantizer (`faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, qtype,
   * metric, by_residual)`); the metric defaults to the quantizer's.
   */
  constructor(quantizer: Index, d: number, nlist: number, qtype: QuantizerType, metric?: MetricType, byResidual?: boolean);
  /** With its own flat quantizer of the same metric (inner product unless told otherwise). */
  constructor(d: number, nlist: number, qtype: QuantizerType, metric?: MetricType, byResidual?: boolean);
  constructor(...args: unknown[]) {
    super(
      IndexIVF.createIvf(args, ([qtype, metric, byResidual = true]) => {
        if (typeof byResidual !== 'boolean') throw new TypeError(`byResidual must be a boolean; got ${String(byResidual)}`);
        return { encoding: { kind: 'SQ', qtype: qtypeCode(qtype), byResidual }, metric };
      }),
    );
  }

  static {
    this.register('IndexIVFScalarQuantizer', () => IndexIVFScalarQuantizer);
  }

  /** The scalar quantizer type. */
  get qtype(): QuantizerType {
    return QUANTIZER_TYPES[this.native.qtype as number];
  }
}

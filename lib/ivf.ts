// Inverted files: the shared IVF base (its coarse quantizer and constructor arguments), and the
// IVF families that store vectors whole (IndexIVFFlat) or product-quantized (IndexIVFPQ).
// IndexIVFScalarQuantizer lives with the scalar quantizers.
import { Index } from './faiss-index';
import { checkMetric, METRIC_INNER_PRODUCT, type MetricType } from './metric';
import { native, type NativeIndex } from './native';
import { checkPositiveInt } from './vectors';

/** How an IVF index encodes its vectors (native/index_create.cc's NewIvf). */
export type IvfEncoding =
  | { kind: 'Flat' }
  | { kind: 'RaBitQ' }
  | { kind: 'SQ'; qtype: number; byResidual: boolean }
  | { kind: 'PQ'; M: number; nbits: number }
  | { kind: 'PQFastScan'; M: number; nbits: number; bbs: number };

/** A new native IVF index, and the quantizer it was given (kept for the quantizer getter). */
interface CreatedIvf {
  nat: NativeIndex;
  quantizer: Index | undefined;
}

/**
 * Any index with an inverted file (Python's `faiss.IndexIVF`): k-means splits the space into
 * `nlist` cells, a query visits the `nprobe` nearest.
 */
export abstract class IndexIVF extends Index {
  /**
   * Builds the native index from constructor arguments `[quantizer?, d, nlist, ...rest]`: with
   * a quantizer (an Index of dimension d), or with its own flat quantizer. `encode` reads the
   * family's own arguments from `rest` (d checked) and returns them with the metric given (if any).
   */
  protected static createIvf(args: unknown[], encode: (rest: unknown[], d: number) => { encoding: IvfEncoding; metric: unknown }): CreatedIvf {
    const quantizer = args[0] instanceof Index ? (args.shift() as Index) : undefined;
    const [d, nlist, ...rest] = args;
    checkPositiveInt(d, 'd');
    if (quantizer !== undefined && quantizer.d !== d) throw new RangeError(`quantizer dimension ${quantizer.d} differs from d=${String(d)}`);
    const { encoding, metric = quantizer?.metricType ?? METRIC_INNER_PRODUCT } = encode(rest, d as number);
    const nat = native.createIVF(quantizer ? Index.nativeOf(quantizer) : null, d as number, checkPositiveInt(nlist, 'nlist'), checkMetric(metric), encoding);
    return { nat, quantizer };
  }

  protected constructor({ nat, quantizer }: CreatedIvf) {
    super(nat);
    if (quantizer) this.related.set('quantizer', quantizer);
  }

  /** The coarse quantizer: the index of the nlist centroids. */
  get quantizer(): Index {
    return this.relatedIndex('quantizer', (nat) => nat.quantizer()) as Index;
  }

  /** Whether vectors are encoded relative to their cell's centroid. */
  get byResidual(): boolean {
    return this.native.byResidual as boolean;
  }
}

/**
 * An inverted file over the vectors themselves (`faiss.IndexIVFFlat`): exact distances within
 * the visited cells.
 * @example
 * const index = new IndexIVFFlat(768, 1024); // inner product
 * await index.train(sample);
 * await index.add(passages);
 * const { labels } = await index.search(questions, 10, { nprobe: 16 });
 */
export class IndexIVFFlat extends IndexIVF {
  /** With your own quantizer (`faiss.IndexIVFFlat(quantizer, d, nlist, metric)`); the metric defaults to the quantizer's. */
  constructor(quantizer: Index, d: number, nlist: number, metric?: MetricType);
  /** With its own flat quantizer of the same metric (inner product unless told otherwise). */
  constructor(d: number, nlist: number, metric?: MetricType);
  constructor(...args: unknown[]) {
    super(IndexIVF.createIvf(args, ([metric]) => ({ encoding: { kind: 'Flat' }, metric })));
  }

  static {
    this.register('IndexIVFFlat', () => IndexIVFFlat);
  }
}

/**
 * An inverted file over product-quantized vectors (`faiss.IndexIVFPQ`): each vector becomes
 * `M` codes of `nbits` bits (M * nbits / 8 bytes), for the largest collections.
 * @example
 * const index = new IndexIVFPQ(768, 1024, 96, 8); // 96 bytes a vector
 */
export class IndexIVFPQ extends IndexIVF {
  /** With your own quantizer (`faiss.IndexIVFPQ(quantizer, d, nlist, M, nbits, metric)`); the metric defaults to the quantizer's. */
  constructor(quantizer: Index, d: number, nlist: number, M: number, nbits: number, metric?: MetricType);
  /** With its own flat quantizer of the same metric (inner product unless told otherwise). */
  constructor(d: number, nlist: number, M: number, nbits: number, metric?: MetricType);
  constructor(...args: unknown[]) {
    super(
      IndexIVF.createIvf(args, ([M, nbits, metric], d) => {
        if (d % checkPositiveInt(M, 'M') !== 0) throw new RangeError(`M=${String(M)} must divide d=${d}`);
        if (checkPositiveInt(nbits, 'nbits') > 24) throw new RangeError(`nbits must be at most 24 (FAISS's limit); got ${String(nbits)}`);
        return { encoding: { kind: 'PQ', M: M as number, nbits: nbits as number }, metric };
      }),
    );
  }

  static {
    this.register('IndexIVFPQ', () => IndexIVFPQ);
  }

  /** Sub-quantizers per vector. */
  get M(): number {
    return (this.native.pqInfo as { M: number }).M;
  }

  /** Bits per sub-quantizer code. */
  get nbits(): number {
    return (this.native.pqInfo as { nbits: number }).nbits;
  }
}

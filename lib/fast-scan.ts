// FastScan (FAISS's IndexPQFastScan and IndexIVFPQFastScan): product quantization with 4-bit
// codes, laid out in blocks of bbs vectors so that a search looks their distances up 32 at a
// time in SIMD registers.
import { Index } from './faiss-index';
import { IndexIVF } from './ivf';
import { checkMetric, METRIC_L2, type MetricType } from './metric';
import { native, type NativeIndex } from './native';
import { checkPositiveInt } from './vectors';

/** Most vectors in a block (native/index_io.cc kMaxFastScanBlock). */
const MAX_BBS = 1024;

/** Checks M against d, nbits (4: FastScan's only width) and bbs (a multiple of 32). */
function checkFastScan(d: number, M: unknown, nbits: unknown, bbs: unknown): { M: number; nbits: number; bbs: number } {
  if (d % checkPositiveInt(M, 'M') !== 0) throw new RangeError(`M=${String(M)} must divide d=${d}`);
  if (nbits !== 4) throw new RangeError(`nbits must be 4 (FastScan's codes are 4 bits); got ${String(nbits)}`);
  if (checkPositiveInt(bbs, 'bbs') % 32 !== 0 || (bbs as number) > MAX_BBS) throw new RangeError(`bbs must be a multiple of 32, at most ${MAX_BBS}; got ${String(bbs)}`);
  return { M: M as number, nbits, bbs: bbs as number };
}

/** The shape of a FastScan index's codes (Python's fields of the same names). */
interface FastScanShape {
  /** Sub-quantizers per vector. */
  readonly M: number;
  /** Bits per sub-quantizer code (4). */
  readonly nbits: number;
  /** Vectors per block of codes. */
  readonly bbs: number;
}

/** FastScanShape's getters on a FastScan class's prototype (the two classes share no base class but Index). */
function defineShape(prototype: Index, nativeOf: (index: Index) => NativeIndex): void {
  for (const key of ['M', 'nbits', 'bbs'] as const) {
    Object.defineProperty(prototype, key, {
      get(this: Index) {
        return (nativeOf(this).pqInfo as unknown as FastScanShape)[key];
      },
    });
  }
}

/**
 * Product quantization with 4-bit codes searched exhaustively in SIMD registers (Python's
 * `faiss.IndexPQFastScan(d, M, nbits, metric, bbs)`): M / 2 bytes a vector. FAISS takes no
 * per-call parameters for it, so a filter is refused (use an IVF or re-rank).
 * @example
 * const index = new IndexPQFastScan(768, 96); // 48 bytes a vector
 */
export class IndexPQFastScan extends Index {
  constructor(d: number, M: number, nbits = 4, metric: MetricType = METRIC_L2, bbs = 32) {
    checkPositiveInt(d, 'd');
    const checked = checkFastScan(d, M, nbits, bbs);
    super(native.createPQFastScan(d, checked.M, checked.nbits, checkMetric(metric), checked.bbs));
  }

  static {
    this.register('IndexPQFastScan', () => IndexPQFastScan);
    defineShape(this.prototype, (index) => this.nativeOf(index));
  }
}

/**
 * An inverted file over FastScan codes (Python's `faiss.IndexIVFPQFastScan(quantizer, d, nlist,
 * M, nbits, metric, bbs)`): IVF-PQ with 4-bit codes scanned in SIMD registers.
 * @example
 * const index = new IndexIVFPQFastScan(768, 1024, 96); // inner product, 48 bytes a vector
 * await index.train(sample);
 * const { labels } = await index.search(questions, 10, { nprobe: 16 });
 */
export class IndexIVFPQFastScan extends IndexIVF {
  /** With your own quantizer; the metric defaults to the quantizer's. */
  constructor(quantizer: Index, d: number, nlist: number, M: number, nbits?: number, metric?: MetricType, bbs?: number);
  /** With its own flat quantizer of the same metric (inner product unless told otherwise). */
  constructor(d: number, nlist: number, M: number, nbits?: number, metric?: MetricType, bbs?: number);
  constructor(...args: unknown[]) {
    super(
      IndexIVF.createIvf(args, ([M, nbits = 4, metric, bbs = 32], d) => ({
        encoding: { kind: 'PQFastScan', ...checkFastScan(d, M, nbits, bbs) },
        metric,
      })),
    );
  }

  static {
    this.register('IndexIVFPQFastScan', () => IndexIVFPQFastScan);
    defineShape(this.prototype, (index) => this.nativeOf(index));
  }
}

export interface IndexPQFastScan extends FastScanShape {}
export interface IndexIVFPQFastScan extends FastScanShape {}

// Re-ranking (FAISS's IndexRefine and IndexRefineFlat): a compressed index finds k x kFactor
// candidates, a second index holding the vectors more exactly re-ranks them.
import { checkIndex, Index } from './faiss-index';
import { native } from './native';
import { checkKFactor } from './search-params';

/**
 * A base index's candidates re-ranked by a refine index (Python's `faiss.IndexRefine`): the
 * base index finds k x kFactor of them, the refine index's distances order them. Train and add
 * go to both. The refine index is copied in (it must match the base index's vectors: both empty,
 * usually); `refineIndex` is the copy inside.
 * @example
 * const index = new IndexRefine(new IndexIVFPQ(quantizer, 768, 1024, 64, 8), new IndexScalarQuantizer(768, 'QT_8bit'));
 * index.kFactor = 4;
 */
export class IndexRefine extends Index {
  constructor(baseIndex: Index, refineIndex: Index) {
    const base = Index.nativeOf(checkIndex(baseIndex, 'baseIndex'));
    // IndexRefineFlat makes its own flat refine index (and adds the base's vectors to it later).
    const flat = new.target === IndexRefineFlat;
    if (!flat) {
      const { d, metricType } = checkIndex(refineIndex, 'refineIndex');
      if (d !== base.d) throw new RangeError(`refineIndex has d=${d}; baseIndex has d=${base.d}`);
      if (metricType !== base.metricType) throw new RangeError(`refineIndex has metric ${metricType}; baseIndex has metric ${base.metricType}`);
    }
    const wanted = flat ? 0 : refineIndex.ntotal;
    if (base.ntotal !== wanted) {
      throw new RangeError(`baseIndex holds ${base.ntotal} vectors; ${flat ? 'it must be empty' : `refineIndex holds ${wanted}, and both must hold the same`}`);
    }
    super(flat ? native.createRefineFlat(base) : native.createRefine(base, Index.nativeOf(refineIndex)));
    this.related.set('base', baseIndex);
  }

  static {
    this.register('IndexRefine', () => IndexRefine);
  }

  /** The index whose candidates are re-ranked (Python's `base_index`). */
  get baseIndex(): Index {
    return this.relatedIndex('base', (nat) => nat.subIndex()) as Index;
  }

  /** The index whose distances re-rank them (Python's `refine_index`). */
  get refineIndex(): Index {
    return this.relatedIndex('refine', (nat) => nat.subIndex(true)) as Index;
  }

  /**
   * Candidates per result the base index finds (Python's `k_factor`, default 1); also per call
   * (`search(q, k, { kFactor })`). Setting it waits for running searches.
   */
  get kFactor(): number {
    return this.native.kFactor as number;
  }

  set kFactor(value: number) {
    this.native.kFactor = checkKFactor(value, 'kFactor');
  }
}

/**
 * IndexRefine whose refine index is flat, the vectors kept whole (Python's
 * `faiss.IndexRefineFlat`): exact distances for the base index's candidates.
 * @example
 * const index = new IndexRefineFlat(indexFactory(768, 'IVF1024,PQ32x4fs', METRIC_INNER_PRODUCT));
 * const { labels } = await index.search(questions, 10, { nprobe: 16, kFactor: 8 });
 */
export class IndexRefineFlat extends IndexRefine {
  constructor(baseIndex: Index) {
    super(baseIndex, baseIndex); // the second is not used: see IndexRefine's constructor
  }

  static {
    this.register('IndexRefineFlat', () => IndexRefineFlat);
  }
}

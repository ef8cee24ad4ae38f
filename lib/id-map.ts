// 64-bit user ids over any index (FAISS's IndexIDMap and IndexIDMap2).
import { checkIndex, Index } from './faiss-index';
import { native } from './native';

/**
 * Gives any index your own 64-bit ids: `addWithIds(x, ids)`, and searches return them.
 * The wrapped index must be empty.
 */
export class IndexIDMap extends Index {
  constructor(index: Index) {
    super(native.createIDMap(Index.nativeOf(checkIndex(index)), new.target === IndexIDMap2));
    this.related.set('index', index);
  }

  static {
    this.register('IndexIDMap', () => IndexIDMap);
  }

  /** The wrapped index. */
  get index(): Index {
    return this.relatedIndex('index', (nat) => nat.subIndex()) as Index;
  }
}

/** IndexIDMap that also keeps id-to-position for `reconstruct(id)` (costs memory per vector). */
export class IndexIDMap2 extends IndexIDMap {
  static {
    this.register('IndexIDMap2', () => IndexIDMap2);
  }
}

// Serving an index file that another process rebuilds ("Python builds it nightly, Node serves
// it"): a holder whose searches go to the current version while a new file is loaded, checked
// and swapped in, with no failed request and no restart.
import { fromCaller } from './errors';
import type { Index, RangeSearchOptions, RangeSearchResult, SearchOptions } from './faiss-index';
import { readIndex, type ReadIndexOptions } from './io';
import type { SearchResult, VectorsInput } from './vectors';

/**
 * An index that can be replaced while it serves. `reload(path)` reads the new file completely
 * and validates it off the event loop (a corrupt or truncated file is a FaissError and the
 * current version keeps serving), then swaps it in: later searches use it, searches already
 * running finish on the old version, whose memory is released once they have.
 *
 * @example
 * const served = await HotIndex.open('/data/passages.faiss');
 * const { labels } = await served.search(question, 10);
 * fs.watch('/data/passages.faiss', () => served.reload('/data/passages.faiss'));
 */
export class HotIndex {
  #current: Index;
  #queue: Promise<unknown> = Promise.resolve();
  #reloads = 0;

  /** Serves `index` (which the holder now owns: a reload disposes it). */
  constructor(index: Index) {
    this.#current = index;
  }

  /** Reads an index file and serves it. */
  static async open(path: string, options?: ReadIndexOptions): Promise<HotIndex> {
    return new HotIndex(await readIndex(path, options));
  }

  /** The version serving now. */
  get index(): Index {
    return this.#current;
  }

  /** How many reloads have been swapped in. */
  get reloads(): number {
    return this.#reloads;
  }

  /**
   * Loads `path` and swaps it in; resolves to the new version. Reloads run one at a time, in the
   * order they were asked for. The new index must have the current one's dimension (queries
   * would not fit otherwise): a RangeError, and the current version stays.
   */
  reload(path: string, options?: ReadIndexOptions): Promise<Index> {
    const next = this.#queue.then(async () => {
      const loaded = await readIndex(path, options);
      if (loaded.d !== this.#current.d) {
        loaded.dispose();
        throw new RangeError(`reloaded index ${path} has d=${loaded.d}; the index it replaces has d=${this.#current.d}`);
      }
      const old = this.#current;
      this.#current = loaded;
      this.#reloads++;
      old.dispose(); // running jobs hold the native index until they finish
      return loaded;
    });
    this.#queue = next.catch(() => undefined);
    // Its job ran from the queue, so its stack would end there rather than at this call.
    return fromCaller(next);
  }

  /** {@link Index.search} on the version serving now. */
  search(q: VectorsInput, k: number, options?: SearchOptions): Promise<SearchResult> {
    return this.#current.search(q, k, options);
  }

  /** {@link Index.searchSync} on the version serving now. */
  searchSync(q: VectorsInput, k: number, options?: SearchOptions): SearchResult {
    return this.#current.searchSync(q, k, options);
  }

  /** {@link Index.rangeSearch} on the version serving now. */
  rangeSearch(q: VectorsInput, radius: number, options?: RangeSearchOptions): Promise<RangeSearchResult> {
    return this.#current.rangeSearch(q, radius, options);
  }

  /** Disposes the version serving now. */
  dispose(): void {
    this.#current.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

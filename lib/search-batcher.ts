// Concurrent async one-query searches on one index become one FAISS call: while a call runs,
// the queries that arrive wait, then go together. No timer: an idle index searches at once.
// A batch stays under FAISS's BLAS threshold (20 queries), below which FAISS searches each
// query of a batch exactly as it searches it alone, so every result equals that of its own call.
// A search asked for before dispose() still runs, as it would have without coalescing.
import type { NativeIndex } from './native';
import type { NativeSearchParams } from './search-params';
import type { SearchResult } from './vectors';

/** Most queries in one coalesced call: at 20, FAISS computes flat distances with BLAS (other rounding). */
export const MAX_COALESCED = 19;

interface Pending {
  /** The index's native object when the search was asked for (dispose waits for it). */
  nat: NativeIndex;
  query: Float32Array;
  result: SearchResult;
  /** Without a filter (filtered searches are not coalesced). */
  params: NativeSearchParams | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class SearchBatcher {
  #running = false;
  #waiting: Pending[] = [];
  #idle: (() => void)[] = [];

  constructor(private readonly d: number) {}

  /** Searches one query into `result`, alone if nothing runs, else with those that arrive meanwhile. */
  search(nat: NativeIndex, query: Float32Array, result: SearchResult, params: NativeSearchParams | undefined): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.#waiting.push({ nat, query, result, params, resolve, reject }));
    if (!this.#running) void this.#drain();
    return done;
  }

  /** Calls `fn` once every search asked for so far has finished (at once if none waits). */
  whenIdle(fn: () => void): void {
    if (this.#running) this.#idle.push(fn);
    else fn();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    while (this.#waiting.length > 0) await this.#run(this.#take());
    this.#running = false;
    for (const fn of this.#idle.splice(0)) fn();
  }

  /** The oldest waiting query and those with the same k and parameters, up to MAX_COALESCED. */
  #take(): Pending[] {
    const [first] = this.#waiting;
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    for (const p of this.#waiting) {
      const same = p.result.k === first.result.k && sameParams(p.params, first.params);
      (same && batch.length < MAX_COALESCED ? batch : rest).push(p);
    }
    this.#waiting = rest;
    return batch;
  }

  async #run(batch: Pending[]): Promise<void> {
    if (batch.length === 1) return this.#alone(batch[0]);
    const { d } = this;
    const { k } = batch[0].result;
    const queries = new Float32Array(batch.length * d);
    batch.forEach((p, i) => queries.set(p.query, i * d));
    const distances = new Float32Array(batch.length * k);
    const labels = new BigInt64Array(batch.length * k);
    try {
      await batch[0].nat.search(queries, k, distances, labels, batch[0].params);
    } catch {
      // One bad query (a NaN) fails the whole call: each query goes again alone, so only
      // those at fault fail, each with its own error.
      for (const p of batch) await this.#alone(p);
      return;
    }
    batch.forEach((p, i) => {
      p.result.distances.set(distances.subarray(i * k, (i + 1) * k));
      p.result.labels.set(labels.subarray(i * k, (i + 1) * k));
      p.resolve();
    });
  }

  async #alone(p: Pending): Promise<void> {
    try {
      await p.nat.search(p.query, p.result.k, p.result.distances, p.result.labels, p.params);
      p.resolve();
    } catch (err) {
      p.reject(err);
    }
  }
}

function sameParams(a: NativeSearchParams | undefined, b: NativeSearchParams | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.nprobe === b.nprobe && a.maxCodes === b.maxCodes && a.efSearch === b.efSearch && a.kFactor === b.kFactor && a.qb === b.qb && a.plan === b.plan;
}

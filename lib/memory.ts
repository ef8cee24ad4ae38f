// The memory budget of one call: allocations sized by arguments are checked before they are
// made, so a k of 1e9 is a RangeError rather than the kernel's OOM killer ending the process.
// Result arrays allocated here are checked here; what FAISS allocates (an add's growth,
// training samples, an IVF's lists, range search results) natively, against the same limit.
import os from 'node:os';
import { native } from './native';

let limit = Math.floor(os.totalmem() / 4);
native.setMemoryLimit(limit);

/**
 * Sets how many bytes one call may allocate (by default a quarter of the machine's memory):
 * search and reconstructN results, the growth of an add, training's working memory, a new IVF
 * index's lists, range search results. A call that would need more throws a RangeError naming
 * the sizes, before allocating, with the index unchanged; a range search stops when its results
 * pass the limit. Each thread (main or worker) has its own limit.
 */
export function setMemoryLimit(bytes: number): void {
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw new RangeError(`bytes must be a positive safe integer; got ${String(bytes)}`);
  }
  limit = bytes;
  native.setMemoryLimit(bytes);
}

/** The bytes one call may allocate for its results ({@link setMemoryLimit}). */
export function getMemoryLimit(): number {
  return limit;
}

const MB = (b: number) => (b < 2 ** 20 ? `${b} bytes` : `${(b / 2 ** 20).toFixed(1)} MiB`);

/** Throws a RangeError when `bytes`, needed for `what`, exceeds the limit. */
export function checkAllocation(bytes: number, what: string): void {
  if (bytes > limit) {
    throw new RangeError(`${what} would allocate ${MB(bytes)}, over the memory limit of ${MB(limit)} (see setMemoryLimit)`);
  }
}

// The memory budget of one call: allocations sized by arguments (search results, reconstructN)
// are checked before they are made, so a k of 1e9 is a RangeError rather than the kernel's OOM
// killer ending the process.
import os from 'node:os';

let limit = Math.floor(os.totalmem() / 4);

/**
 * Sets how many bytes one call may allocate for its results (by default a quarter of the
 * machine's memory). A call that would need more throws a RangeError naming the sizes, before
 * anything is allocated and with the index unchanged.
 */
export function setMemoryLimit(bytes: number): void {
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw new RangeError(`bytes must be a positive safe integer; got ${String(bytes)}`);
  }
  limit = bytes;
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

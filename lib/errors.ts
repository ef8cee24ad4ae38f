// FaissError: what FAISS (or the native layer) refused, with FAISS's own message; and the
// caller's stack on rejected native jobs.

/** Why the native layer failed. */
export type FaissErrorCode = 'FAISS_ERROR' | 'CORRUPT_INDEX' | 'FILE_CHANGED' | 'IO_ERROR' | 'OUT_OF_MEMORY' | 'NATIVE_ERROR';

// One addon serves every copy of this package in a process (the .node file loads once), and it
// throws the FaissError class of the copy that loaded last; a shared brand keeps `instanceof`
// true in every copy.
const BRAND = Symbol.for('faiss-native.FaissError');

/**
 * Thrown (or rejected) when FAISS refuses an operation, e.g. adding to an untrained index.
 * Bad arguments are caught earlier and raise TypeError or RangeError instead.
 */
export class FaissError extends Error {
  /**
   * `FAISS_ERROR` for a FAISS exception; `CORRUPT_INDEX` for index bytes that do not hold a
   * consistent index (truncated, corrupted, sizes that overflow); `FILE_CHANGED` for a
   * memory-mapped file truncated or rewritten underneath; `IO_ERROR` for a file that cannot be
   * read or written (the message says why); `OUT_OF_MEMORY`; `NATIVE_ERROR` for any other C++
   * failure.
   */
  readonly code: FaissErrorCode;
  /**
   * When FAISS threw: its own message, with the FAISS function and source location (the
   * `message` leads with the cause instead).
   */
  declare readonly faissMessage?: string;

  constructor(message: string, code: FaissErrorCode = 'FAISS_ERROR') {
    super(message);
    this.name = 'FaissError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/**
 * Awaits a native job. A rejection created in a libuv callback has no JavaScript frames; this
 * gives it the stack of the await, which V8's async stack traces continue into the caller's
 * frames. Nothing is captured when the job succeeds.
 */
export async function fromCaller<T>(job: Promise<T>): Promise<T> {
  try {
    return await job;
  } catch (err) {
    if (err instanceof Error) Error.captureStackTrace(err, fromCaller);
    throw err;
  }
}

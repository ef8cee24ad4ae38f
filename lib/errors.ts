// FaissError: what FAISS (or the native layer) refused, with FAISS's own message.

/** Why the native layer failed. */
export type FaissErrorCode = 'FAISS_ERROR' | 'OUT_OF_MEMORY' | 'NATIVE_ERROR';

/**
 * Thrown (or rejected) when FAISS refuses an operation, e.g. adding to an untrained index.
 * Bad arguments are caught earlier and raise TypeError or RangeError instead.
 */
export class FaissError extends Error {
  /** `FAISS_ERROR` for a FAISS exception, `OUT_OF_MEMORY`, or `NATIVE_ERROR` for any other C++ failure. */
  readonly code: FaissErrorCode;

  constructor(message: string, code: FaissErrorCode = 'FAISS_ERROR') {
    super(message);
    this.name = 'FaissError';
    this.code = code;
  }
}

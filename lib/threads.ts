// FAISS's OpenMP thread count, for every later call on any thread (omp_set_num_threads).
import { native } from './native';
import { checkPositiveInt } from './vectors';

/** Sets how many threads FAISS uses per call (Python's `faiss.omp_set_num_threads`). */
export function setNumThreads(n: number): void {
  native.setNumThreads(checkPositiveInt(n, 'n'));
}

/** Threads FAISS uses per call (Python's `faiss.omp_get_max_threads`). */
export function getNumThreads(): number {
  return native.getNumThreads();
}

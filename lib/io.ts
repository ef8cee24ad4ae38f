// Index files and buffers in FAISS's own format: Python's faiss.read_index / write_index /
// serialize_index / deserialize_index read and write the same bytes.
import { fromCaller } from './errors';
import { checkIndex, Index } from './faiss-index';
import { native } from './native';
import { checkBytes, checkPath, describe } from './vectors';

/** Read only (FAISS's IO_FLAG_READ_ONLY), for memory-mapped inverted lists. */
export const IO_FLAG_READ_ONLY = 2;
/** Inverted lists as FAISS's OnDiskInvertedLists over the file (FAISS's IO_FLAG_MMAP). */
export const IO_FLAG_MMAP = 0x646f0008;
/**
 * Look for the data file of on-disk inverted lists beside the index file, whatever folder the
 * index file names (FAISS's IO_FLAG_ONDISK_SAME_DIR; FAISS prints the path it uses).
 */
export const IO_FLAG_ONDISK_SAME_DIR = 4;
/** Memory-map vector codes, of flat indexes and of IVF lists alike (FAISS's IO_FLAG_MMAP_IFC). */
export const IO_FLAG_MMAP_IFC = 1 << 9;

/** Options of {@link readIndex} and {@link deserializeIndex}. */
export interface LoadOptions {
  /**
   * The data comes from a source you trust (your own Python job, say): index types that
   * faiss-native does not yet check field by field (HNSW, PQ, IVF-PQ, ...) load as FAISS and
   * Python load them. Their base-class fields (dimension, counts, codes, inverted lists, IDMap
   * ids) are still checked, but a crafted file of such a type can crash the process. Without
   * it those types are refused with a FaissError. Default false.
   */
  trusted?: boolean;
}

/** Options of {@link readIndex}. */
export interface ReadIndexOptions extends LoadOptions {
  /**
   * Map the file's vector codes into memory instead of reading them (IO_FLAG_MMAP_IFC): the
   * pages load on demand and are shared between processes; the index cannot grow. If another
   * process truncates or rewrites the file in place, calls fail with FaissError `FILE_CHANGED`;
   * replace index files by renaming over them (as writeIndex does) to keep mapped readers going.
   */
  mmap?: boolean;
  /** Open memory-mapped data read-only (IO_FLAG_READ_ONLY). */
  readOnly?: boolean;
  /** Raw FAISS IO flags, OR-ed with the above. */
  ioFlags?: number;
}

function ioFlags(options: ReadIndexOptions): number {
  const { mmap = false, readOnly = false, ioFlags: raw = 0 } = options;
  if (!Number.isInteger(raw)) throw new RangeError(`options.ioFlags must be an integer; got ${String(raw)}`);
  return (mmap ? IO_FLAG_MMAP_IFC : 0) | (readOnly ? IO_FLAG_READ_ONLY : 0) | raw;
}

function trusted(options: LoadOptions): boolean {
  if (options.trusted !== undefined && typeof options.trusted !== 'boolean') {
    throw new TypeError(`options.trusted must be a boolean; got ${describe(options.trusted)}`);
  }
  return options.trusted ?? false;
}

/**
 * Reads an index file written by faiss-native or Python faiss, off the event loop. The result
 * is an instance of the matching class (IndexFlatIP, IndexIVFScalarQuantizer, ...).
 * Corrupt or truncated files give a FaissError `CORRUPT_INDEX`; types faiss-native does not
 * check yet need `trusted: true`.
 */
export async function readIndex(path: string, options: ReadIndexOptions = {}): Promise<Index> {
  return Index.fromNative(await fromCaller(native.readIndex(checkPath(path), ioFlags(options), trusted(options))));
}

/** {@link readIndex} on the calling thread. */
export function readIndexSync(path: string, options: ReadIndexOptions = {}): Index {
  return Index.fromNative(native.readIndexSync(checkPath(path), ioFlags(options), trusted(options)));
}

/** Writes an index atomically (temp file, then rename), off the event loop: `index.write(path)`. */
export async function writeIndex(index: Index, path: string): Promise<void> {
  await checkIndex(index).write(path);
}

/** {@link writeIndex} on the calling thread. */
export function writeIndexSync(index: Index, path: string): void {
  checkIndex(index).writeSync(path);
}

/** The index as a Buffer in FAISS's file format, off the event loop: `index.serialize()`. */
export async function serializeIndex(index: Index): Promise<Buffer> {
  return await checkIndex(index).serialize();
}

/** {@link serializeIndex} on the calling thread. */
export function serializeIndexSync(index: Index): Buffer {
  return checkIndex(index).serializeSync();
}

/**
 * Reads an index from bytes in FAISS's file format (no copy of the input), off the event loop.
 * Same checks and options as {@link readIndex}.
 */
export async function deserializeIndex(bytes: Uint8Array, options: LoadOptions = {}): Promise<Index> {
  return Index.fromNative(await fromCaller(native.deserializeIndex(checkBytes(bytes), trusted(options))));
}

/** {@link deserializeIndex} on the calling thread. */
export function deserializeIndexSync(bytes: Uint8Array, options: LoadOptions = {}): Index {
  return Index.fromNative(native.deserializeIndexSync(checkBytes(bytes), trusted(options)));
}


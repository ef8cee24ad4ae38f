// On-disk inverted lists: an IVF index's lists in a data file that FAISS maps, so an index
// serves from less memory than its size (the OS keeps the lists it reads in its page cache).
// Python's faiss reads and writes the same index and data files. Not on Windows, where FAISS
// has no on-disk lists.
import { checkIndex, type Index } from './faiss-index';
import { checkPath, checkPositiveInt } from './vectors';

/**
 * Inverted lists in the data file `filename` (FAISS's `OnDiskInvertedLists`), for
 * `index.replaceInvlists(new OnDiskInvertedLists(index.nlist, index.codeSize, 'lists.ivfdata'))`.
 * A relative filename is relative to the working directory, and the index file records it as
 * given: read with `ioFlags: IO_FLAG_ONDISK_SAME_DIR` to find it beside the index file instead.
 * The file is created (or emptied) when the lists take their first vector. Adding to on-disk
 * lists works but is slow (entries are written one at a time): build in memory, then move the
 * lists or merge shards to disk.
 */
export class OnDiskInvertedLists {
  readonly nlist: number;
  readonly codeSize: number;
  readonly filename: string;

  constructor(nlist: number, codeSize: number, filename: string) {
    this.nlist = checkPositiveInt(nlist, 'nlist');
    this.codeSize = checkPositiveInt(codeSize, 'codeSize');
    this.filename = checkPath(filename);
  }
}

/**
 * Python's `faiss.contrib.ondisk.merge_ondisk`: fills `trainedIndex` (trained, empty) with the
 * vectors of `shardFnames` (index files, each a copy of the trained index with its part added,
 * possibly built by other processes or machines, or by Python) in one data file of on-disk
 * lists, `ivfdataFname`; then `writeIndex(trainedIndex, 'populated.index')`. The shards are
 * read memory-mapped, so they may be larger than memory. Both files are byte for byte what
 * Python writes. `shiftIds` numbers each shard's vectors after the previous shards' (FAISS 1.12
 * shifts by the wrong sizes when shards differ in size; faiss-native by the right ones). Shards
 * built from another training are refused.
 */
export async function mergeOnDisk(trainedIndex: Index, shardFnames: readonly string[], ivfdataFname: string, shiftIds = false): Promise<void> {
  await checkIndex(trainedIndex, 'trainedIndex').mergeOnDisk(shardFnames, ivfdataFname, shiftIds);
}

/** {@link mergeOnDisk} on the calling thread. */
export function mergeOnDiskSync(trainedIndex: Index, shardFnames: readonly string[], ivfdataFname: string, shiftIds = false): void {
  checkIndex(trainedIndex, 'trainedIndex').mergeOnDiskSync(shardFnames, ivfdataFname, shiftIds);
}

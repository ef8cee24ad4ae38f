// Loads the compiled addon: the fastest SIMD variant this CPU runs, unless FAISS_OPT_LEVEL
// asks for a lower one; and declares the typed surface of the native layer.
import fs from 'node:fs';
import path from 'node:path';
import { FaissError } from './errors';
import { loadError, muslTooOld, noAddonError, platform, prebuiltDirs } from './load-error';
import type { IvfEncoding } from './ivf';
import type { NativeIdFilter, NativeSearchParams } from './search-params';

/** FAISS builds inside the package, slowest to fastest (arm64 has generic only: NEON is its baseline). */
export const SIMD_LEVELS = ['generic', 'avx2', 'avx512'] as const;
export type SimdLevel = (typeof SIMD_LEVELS)[number];

/**
 * The native index object (native/index_wrap.h). It trusts its arguments: lib/ validates
 * them. Async methods return Promises and run on the libuv pool; *Sync run on the caller.
 */
export interface NativeIndex {
  readonly d: number;
  readonly ntotal: number;
  readonly isTrained: boolean;
  readonly metricType: number;
  readonly className: string;
  readonly nlist: number | undefined;
  nprobe: number | undefined;
  efSearch: number | undefined;
  efConstruction: number | undefined;
  readonly hnswInfo: { M: number; maxLevel: number; entryPoint: number } | undefined;
  /** A product quantizer's shape (FastScan's block size too). */
  readonly pqInfo: { M: number; nbits: number; bbs?: number } | undefined;
  readonly qtype: number | undefined;
  readonly byResidual: boolean | undefined;
  /** An IndexRefine layer's k_factor. */
  kFactor: number | undefined;
  /** A RaBitQ layer's query bits. */
  qb: number | undefined;
  /** With `progress`, an IVF index's k-means writes [iterations done, iterations in all] into it. */
  train(x: Float32Array, progress?: Int32Array): Promise<void>;
  trainSync(x: Float32Array): void;
  add(x: Float32Array): Promise<void>;
  addSync(x: Float32Array): void;
  addWithIds(x: Float32Array, ids: BigInt64Array): Promise<void>;
  addWithIdsSync(x: Float32Array, ids: BigInt64Array): void;
  /** Resolves to the plan a filtered search ran (FILTER_PLANS' index), 0 without a filter. */
  search(x: Float32Array, k: number, distances: Float32Array, labels: BigInt64Array, params?: NativeSearchParams): Promise<number>;
  searchSync(x: Float32Array, k: number, distances: Float32Array, labels: BigInt64Array, params?: NativeSearchParams): number;
  rescore(x: Float32Array, candidates: BigInt64Array, kIn: number, k: number, distances: Float32Array, labels: BigInt64Array): Promise<void>;
  rescoreSync(x: Float32Array, candidates: BigInt64Array, kIn: number, k: number, distances: Float32Array, labels: BigInt64Array): void;
  rangeSearch(x: Float32Array, radius: number, params?: NativeSearchParams): Promise<NativeRangeResult>;
  rangeSearchSync(x: Float32Array, radius: number, params?: NativeSearchParams): NativeRangeResult;
  reconstruct(key: number | bigint, out: Float32Array): Promise<void>;
  reconstructSync(key: number | bigint, out: Float32Array): void;
  reconstructN(i0: number, n: number, out: Float32Array): Promise<void>;
  reconstructNSync(i0: number, n: number, out: Float32Array): void;
  removeIds(filter: NativeIdFilter): Promise<number>;
  removeIdsSync(filter: NativeIdFilter): number;
  reset(): Promise<void>;
  resetSync(): void;
  mergeFrom(other: NativeIndex, addId: number): Promise<void>;
  mergeFromSync(other: NativeIndex, addId: number): void;
  /** Moves the IVF layer's lists into on-disk lists in the data file at `path`. */
  replaceInvlists(path: string): Promise<void>;
  replaceInvlistsSync(path: string): void;
  mergeOnDisk(shardPaths: string[], path: string, shiftIds: boolean): Promise<void>;
  mergeOnDiskSync(shardPaths: string[], path: string, shiftIds: boolean): void;
  readonly codeSize: number | undefined;
  readonly onDisk: { filename: string; bytes: number; readOnly: boolean } | undefined;
  prefetchThreads: number | undefined;
  serialize(): Promise<Buffer>;
  serializeSync(): Buffer;
  write(path: string): Promise<void>;
  writeSync(path: string): void;
  makeDirectMap(): void;
  quantizer(): NativeIndex | undefined;
  /** An IDMap's index, a refinement's base index, or with `refine` its refine index. */
  subIndex(refine?: boolean): NativeIndex | undefined;
  dispose(): void;
}

/** The native binary index object (native/binary_index.cc): codes are d/8 bytes, distances Int32. */
export interface NativeBinaryIndex {
  readonly d: number;
  readonly ntotal: number;
  readonly isTrained: boolean;
  readonly className: string;
  readonly nlist: number | undefined;
  nprobe: number | undefined;
  efSearch: number | undefined;
  efConstruction: number | undefined;
  train(x: Uint8Array): Promise<void>;
  trainSync(x: Uint8Array): void;
  add(x: Uint8Array): Promise<void>;
  addSync(x: Uint8Array): void;
  addWithIds(x: Uint8Array, ids: BigInt64Array): Promise<void>;
  addWithIdsSync(x: Uint8Array, ids: BigInt64Array): void;
  search(x: Uint8Array, k: number, distances: Int32Array, labels: BigInt64Array, params?: NativeSearchParams): Promise<number>;
  searchSync(x: Uint8Array, k: number, distances: Int32Array, labels: BigInt64Array, params?: NativeSearchParams): number;
  reconstruct(key: number | bigint, out: Uint8Array): Promise<void>;
  reconstructSync(key: number | bigint, out: Uint8Array): void;
  removeIds(filter: NativeIdFilter): Promise<number>;
  removeIdsSync(filter: NativeIdFilter): number;
  reset(): Promise<void>;
  resetSync(): void;
  serialize(): Promise<Buffer>;
  serializeSync(): Buffer;
  write(path: string): Promise<void>;
  writeSync(path: string): void;
  makeDirectMap(): void;
  dispose(): void;
}

export interface NativeRangeResult {
  lims: Uint32Array;
  distances: Float32Array;
  labels: BigInt64Array;
}

export interface NativeBinding {
  createFactory(d: number, description: string, metric: number): NativeIndex;
  createScalarQuantizer(d: number, qtype: number, metric: number): NativeIndex;
  createIVF(quantizer: NativeIndex | null, d: number, nlist: number, metric: number, encoding: IvfEncoding): NativeIndex;
  createHNSWFlat(d: number, M: number, metric: number): NativeIndex;
  createRaBitQ(d: number, metric: number): NativeIndex;
  createPQFastScan(d: number, M: number, nbits: number, metric: number, bbs: number): NativeIndex;
  createIDMap(index: NativeIndex, two: boolean): NativeIndex;
  createRefineFlat(base: NativeIndex): NativeIndex;
  createRefine(base: NativeIndex, refine: NativeIndex): NativeIndex;
  readIndex(path: string, ioFlags: number, trusted: boolean): Promise<NativeIndex>;
  readIndexSync(path: string, ioFlags: number, trusted: boolean): NativeIndex;
  deserializeIndex(bytes: Uint8Array, trusted: boolean): Promise<NativeIndex>;
  deserializeIndexSync(bytes: Uint8Array, trusted: boolean): NativeIndex;
  normalizeL2(x: Float32Array, d: number): Float32Array;
  /** Each query's k best of the shards' results (shard s: labels shifted by offsets[s]), into out. */
  mergeResults(
    distances: Float32Array[],
    labels: BigInt64Array[],
    ks: number[],
    offsets: number[],
    nq: number,
    k: number,
    ip: boolean,
    outDistances: Float32Array,
    outLabels: BigInt64Array,
  ): void;
  createBinaryFlat(d: number): NativeBinaryIndex;
  createBinaryHNSW(d: number, M: number): NativeBinaryIndex;
  createBinaryIVF(quantizer: NativeBinaryIndex, d: number, nlist: number): NativeBinaryIndex;
  createBinaryIDMap(index: NativeBinaryIndex, two: boolean): NativeBinaryIndex;
  binaryFactory(d: number, description: string): NativeBinaryIndex;
  readIndexBinary(path: string): Promise<NativeBinaryIndex>;
  readIndexBinarySync(path: string): NativeBinaryIndex;
  deserializeIndexBinary(bytes: Uint8Array): Promise<NativeBinaryIndex>;
  deserializeIndexBinarySync(bytes: Uint8Array): NativeBinaryIndex;
  /** A bit per value of x (d floats a row), 1 above 0 or its threshold, packed 8 to a byte, first in the high bit. */
  binarize(x: Float32Array, d: number, thresholds?: Float32Array): Uint8Array;
  /** A filter's PreparedFilter (native/search_params.h), for lib's IdFilter class. */
  prepareFilter(filter: NativeIdFilter): unknown;
  setMemoryLimit(bytes: number): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  /** Flat and IVF-SQ searches of a few queries that ran on every thread (native/split_search.h), for the specs. */
  flatSplitSearches(): number;
  ivfSplitSearches(): number;
  /** Whether flat scans of this metric and d use native/flat_kernel.h's four-at-a-time kernel, for the specs. */
  flatKernelApplies(metric: number, d: number): boolean;
  /** IVF-SQ scanners of native/ivf_sq_scan.h made (four codes at a time, FAISS's arithmetic), for the specs. */
  ivfSqScanners(): number;
  /** Filtered searches over the allowed rows alone, and widened ones (native/filtered_search.h), for the specs. */
  allowedRowSearches(): number;
  widenedSearches(): number;
  setErrorClass(cls: typeof FaissError): void;
  readonly faissVersion: string;
  readonly compileOptions: string;
  /** OpenBLAS's kernels in use (e.g. "SkylakeX"), or "" when the BLAS is not OpenBLAS. */
  openblasCore(): string;
  /** The SIMD features of the CPU that the variants need, as /proc/cpuinfo names them. */
  cpuFlags(): string[];
}

// CPU flags each level's code uses (FAISS's CMake: -mavx2 -mfma -mf16c -mpopcnt, plus AVX-512 F/CD/VL/DQ/BW).
const REQUIRED_FLAGS: Record<SimdLevel, string[]> = {
  generic: [],
  avx2: ['avx2', 'fma', 'f16c', 'popcnt'],
  avx512: ['avx2', 'fma', 'f16c', 'popcnt', 'avx512f', 'avx512cd', 'avx512vl', 'avx512dq', 'avx512bw'],
};

/** The fastest level a CPU with these flags (as in /proc/cpuinfo) can run. */
export function bestLevelFor(flags: ReadonlySet<string>): SimdLevel {
  return [...SIMD_LEVELS].reverse().find((level) => REQUIRED_FLAGS[level].every((f) => flags.has(f))) ?? 'generic';
}

/**
 * The OpenBLAS kernels for a CPU whose best level is this one. OpenBLAS picks its kernels from
 * the CPU's model number, and falls back to its slowest x86-64 kernels ("Prescott", SSE3) on a
 * model it does not know, as virtual machines often report: there the matrix products of batch
 * searches ran 2.5-4x slower (scripts/bench/env-ab.mjs). The flags say what the CPU runs.
 */
export function openblasCoreFor(level: SimdLevel): string | undefined {
  return { generic: undefined, avx2: 'Haswell', avx512: 'SkylakeX' }[level];
}

/**
 * The CPU's flags: /proc/cpuinfo's on Linux; elsewhere (Windows) what the generic variant's own
 * check finds, which loads it first.
 */
function cpuFlags(): Set<string> {
  if (process.arch !== 'x64') return new Set();
  try {
    if (process.platform !== 'linux') return new Set(loadLevel('generic').binding.cpuFlags());
    const line = /^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    return new Set(line ? line[1].trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

/**
 * The level to load: the CPU's best, or FAISS_OPT_LEVEL when it names a lower one.
 * A level above what the CPU runs is refused with a warning, never loaded.
 */
export function chooseLevel(cpuBest: SimdLevel, requested: string | undefined): SimdLevel {
  if (!requested) return cpuBest;
  const level = requested.toLowerCase() as SimdLevel;
  if (!SIMD_LEVELS.includes(level)) {
    throw new RangeError(`FAISS_OPT_LEVEL must be one of ${SIMD_LEVELS.join(', ')}; got "${requested}"`);
  }
  if (SIMD_LEVELS.indexOf(level) > SIMD_LEVELS.indexOf(cpuBest)) {
    process.emitWarning(`FAISS_OPT_LEVEL=${requested} is not supported by this CPU; using ${cpuBest}`, 'FaissNativeWarning');
    return cpuBest;
  }
  return level;
}

const packageRoot = path.join(__dirname, '..');

/**
 * The folders an addon may be in, in order: a local build (made for this machine), the binary
 * package of this platform, prebuilds/ (a checkout after `npm run prebuild`).
 */
function addonDirs(): string[] {
  return [path.join(packageRoot, 'build', 'Release'), ...prebuiltDirs(packageRoot)];
}

const candidates = (dirs: string[], level: SimdLevel) => dirs.map((d) => path.join(d, `faiss_native_${level}.node`));

/**
 * Settings OpenBLAS reads once, when it loads with the addon, for this CPU and platform; a
 * variable you set yourself wins. OPENBLAS_CORETYPE: see openblasCoreFor. OPENBLAS_NUM_THREADS=1
 * on musl: the musl binaries ship the pthread OpenBLAS of faiss-cpu's musllinux wheel, whose
 * threads and FAISS's OpenMP threads fought over the cores (batch searches at 0.33-0.43 of the
 * glibc build's speed in scripts/bench/bench.mjs) and which warned it "may hang" when FAISS
 * called it inside an OpenMP region; single-threaded it does neither.
 */
export function openblasLoadEnv(cpuBest: SimdLevel, where: string = platform): Record<string, string> {
  const env: Record<string, string> = {};
  // On Windows the C runtime reads its environment once, at startup: nothing set now is seen.
  if (where.startsWith('win32-')) return env;
  const core = openblasCoreFor(cpuBest);
  if (core && process.env.OPENBLAS_CORETYPE === undefined) env.OPENBLAS_CORETYPE = core;
  if (where.endsWith('-musl') && process.env.OPENBLAS_NUM_THREADS === undefined) env.OPENBLAS_NUM_THREADS = '1';
  return env;
}

function load(): { binding: NativeBinding; level: SimdLevel; file: string } {
  const cpuBest = bestLevelFor(cpuFlags());
  const wanted = chooseLevel(cpuBest, process.env.FAISS_OPT_LEVEL);
  // Set only while loading, so that child processes get the environment you gave.
  const env = openblasLoadEnv(cpuBest);
  Object.assign(process.env, env);
  try {
    return loadLevel(wanted);
  } finally {
    for (const key of Object.keys(env)) delete process.env[key];
  }
}

function loadLevel(wanted: SimdLevel): { binding: NativeBinding; level: SimdLevel; file: string } {
  const dirs = addonDirs();
  // Fall back to lower levels when a variant was not built (e.g. your own FAISS has only one).
  for (let i = SIMD_LEVELS.indexOf(wanted); i >= 0; i--) {
    const level = SIMD_LEVELS[i];
    const file = candidates(dirs, level).find((f) => fs.existsSync(f));
    if (file) {
      const localBuild = path.dirname(file) === path.join(packageRoot, 'build', 'Release');
      const tooOld = localBuild ? undefined : muslTooOld(file);
      if (tooOld) throw tooOld;
      let binding: NativeBinding;
      try {
        binding = require(file) as NativeBinding;
      } catch (cause) {
        throw loadError(file, cause);
      }
      binding.setErrorClass(FaissError);
      return { binding, level, file };
    }
  }
  throw noAddonError(candidates(dirs, wanted));
}

const loaded = load();

/** The loaded native module. */
export const native: NativeBinding = loaded.binding;
/** The SIMD variant in use. */
export const simdLevel: SimdLevel = loaded.level;
/** Path of the loaded .node file. */
export const nativePath: string = loaded.file;

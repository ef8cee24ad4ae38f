// Per-call search parameters (Python's faiss.SearchParametersIVF / SearchParametersHNSW and
// their `sel`): checked here against the index, then handed to native/search_params.cc in one
// plain form, where they become FAISS's SearchParameters for the index's structure.
import { native, type NativeIndex } from './native';
import { checkCount, checkPositiveInt, describe, toIds, type IdsInput } from './vectors';

/**
 * Which ids a search may return (or `removeIds` removes): a set of ids (FAISS's
 * `IDSelectorBatch`), a bitmap where bit `id % 8` of byte `id >> 3` marks an id
 * (`IDSelectorBitmap`), or a half-open range `[min, max)` (`IDSelectorRange`). With
 * `not: true`, every id but those (`IDSelectorNot`). Ids are the user's ids under an IDMap.
 * Or an `IdFilter` made from one of those before.
 */
export type IdFilterLike = IdFilter | IdFilterForm;
/** The forms a call's own filter takes (see IdFilterLike). */
export type IdFilterForm =
  | BigInt64Array
  | Uint8Array
  | { ids: IdsInput; not?: boolean }
  | { bitmap: Uint8Array; not?: boolean }
  | { range: readonly [number | bigint, number | bigint]; not?: boolean };

/** What native/search_params.cc made of each IdFilter (its PreparedFilter). */
const prepared = new WeakMap<IdFilter, unknown>();

/**
 * A filter made once for many searches, as Python's `faiss.IDSelectorBatch(ids)` (and
 * `IDSelectorBitmap`, `IDSelectorRange`, `IDSelectorNot`) objects are. It copies its ids when
 * made, so later changes to the arrays given do not reach it; FAISS's selector is built then
 * (a set of ids made a bitmap, or hashed, once instead of on every call); and for each IVF index
 * it searches (the last 8), it keeps where its allowed codes lie, and a copy of them from its
 * second search on, until the index changes. Give one to the searches that share a filter (a
 * tenant's, a category's), above all a set of many ids searched one query a call.
 */
export class IdFilter {
  constructor(filter: IdFilterLike) {
    prepared.set(
      this,
      filter instanceof IdFilter ? prepared.get(filter) : native.prepareFilter(toNativeFilter(filter, 'new IdFilter(filter)')),
    );
  }
}

/**
 * How a filtered search runs: `'index'` is FAISS's own filtered search with the parameters given;
 * `'widened'` meets about as many allowed vectors as the unfiltered search meets vectors (IVF:
 * the allowed codes of the nearest lists; HNSW: efSearch divided by the fourth root of the share
 * allowed); `'exact'` computes every allowed vector's distance (flat indexes always; HNSW over its
 * stored vectors; IVF scores every allowed code).
 */
export type FilterPlan = 'index' | 'widened' | 'exact';

/** The plans by native/filtered_search.h's numbers (0: no filter). */
export const FILTER_PLANS = [undefined, 'index', 'widened', 'exact'] as const;

/** Parameters of one search, as Python's `faiss.SearchParameters*` (`params=`). */
export interface SearchParams {
  /** Inverted lists to visit (IVF indexes); the index's own nprobe is unchanged. */
  nprobe?: number;
  /** Most codes to scan per query, 0 for no limit (IVF indexes; FAISS's `max_codes`). */
  maxCodes?: number;
  /** Candidate list size of the graph search (HNSW indexes). */
  efSearch?: number;
  /**
   * Candidates the base index of an IndexRefine finds per result, re-ranked by its refine index
   * (Python's `IndexRefineSearchParameters(k_factor=...)`): k x kFactor, at least 1.
   */
  kFactor?: number;
  /**
   * Bits each query is quantized to (RaBitQ indexes; Python's `RaBitQSearchParameters(qb=...)`,
   * `IVFRaBitQSearchParameters`): 0 to 8; the index's own `qb` is unchanged.
   */
  qb?: number;
  /** Only these ids are searched. */
  filter?: IdFilterLike;
  /**
   * The plan of a filtered search (ignored without a filter): `'auto'` (default) chooses from the
   * share of ids allowed (HNSW: exact below 20% allowed or while the allowed vectors number at
   * most efSearch / share^(1/4) times the graph's level-0 degree, else widened, but exact for the
   * queries around which clearly fewer ids are allowed than at random, or whose k-th allowed
   * result ranks clearly farther out; IVF: widened, exact once the walk over the allowed codes
   * reaches every list holding any), or forces one. The
   * result's `plan` says which ran.
   */
  plan?: 'auto' | FilterPlan;
}

/** The plain form native/search_params.cc reads. */
export interface NativeIdFilter {
  /** An IdFilter's PreparedFilter (native/search_params.h). */
  prepared?: unknown;
  ids?: BigInt64Array;
  bitmap?: Uint8Array;
  min?: bigint;
  max?: bigint;
  not: boolean;
}

/** The plain form native/search_params.cc reads; 0 (-1 for maxCodes) means the index's own. */
export interface NativeSearchParams {
  nprobe: number;
  maxCodes: number;
  efSearch: number;
  /** 0: the index's own. */
  kFactor: number;
  /** -1: the index's own. */
  qb: number;
  filter?: NativeIdFilter;
  /** FILTER_PLANS' index of a forced plan, 0 to choose. */
  plan: number;
}

/** The layers whose parameters a call or an accessor can set. */
export type Layer = 'IVF' | 'HNSW' | 'IndexRefine' | 'RaBitQ';
const LAYER_OF: Record<keyof SearchParams, Layer | undefined> = {
  nprobe: 'IVF',
  maxCodes: 'IVF',
  efSearch: 'HNSW',
  kFactor: 'IndexRefine',
  qb: 'RaBitQ',
  filter: undefined,
  plan: undefined,
};

/** What a search's options are checked against: an index's layers (a binary index has no kFactor or qb). */
type Layered = Pick<NativeIndex, 'className' | 'nlist' | 'efSearch'> & Partial<Pick<NativeIndex, 'kFactor' | 'qb'>>;

export function hasLayer(nat: Layered, layer: Layer): boolean {
  if (layer === 'IndexRefine') return nat.kFactor !== undefined;
  if (layer === 'RaBitQ') return nat.qb !== undefined;
  return layer === 'IVF' ? nat.nlist !== undefined : nat.efSearch !== undefined;
}

/**
 * Checks a call's parameters against the index: unknown keys and keys for a layer the index
 * lacks are TypeErrors naming the key and the index type. Undefined when there are none.
 * `extra` names keys the caller handles itself (search's `out`).
 */
export function toNativeParams(params: object | undefined, nat: Layered, call: string, extra: readonly string[] = []): NativeSearchParams | undefined {
  if (params === undefined) return undefined;
  if (params === null || typeof params !== 'object') throw new TypeError(`${call}: options must be an object; got ${describe(params)}`);
  const given = params as Record<string, unknown>;
  let any = false;
  // Range searches have no plans: they return every allowed vector within the radius that FAISS meets.
  const known = call === 'search' ? Object.keys(LAYER_OF) : Object.keys(LAYER_OF).filter((key) => key !== 'plan');
  for (const key of Object.keys(given)) {
    if (given[key] === undefined || extra.includes(key)) continue;
    if (!known.includes(key)) {
      throw new TypeError(`${call}: unknown option '${key}' (known: ${[...known, ...extra].join(', ')})`);
    }
    const layer = LAYER_OF[key as keyof SearchParams];
    if (layer !== undefined && !hasLayer(nat, layer)) {
      throw new TypeError(`${call}: option '${key}' applies to indexes with ${layer === 'RaBitQ' ? 'a' : 'an'} ${layer} layer; this index is ${nat.className}`);
    }
    any = true;
  }
  if (!any) return undefined;
  const { nprobe, maxCodes, efSearch, kFactor, qb, filter, plan } = given as SearchParams;
  return {
    nprobe: nprobe === undefined ? 0 : checkPositiveInt(nprobe, 'options.nprobe'),
    maxCodes: maxCodes === undefined ? -1 : checkCount(maxCodes, 'options.maxCodes'),
    efSearch: efSearch === undefined ? 0 : checkEf(efSearch, 'options.efSearch'),
    kFactor: kFactor === undefined ? 0 : checkKFactor(kFactor, 'options.kFactor'),
    qb: qb === undefined ? -1 : checkQb(qb, 'options.qb'),
    filter: filter === undefined ? undefined : toNativeFilter(filter, 'options.filter'),
    plan: checkPlan(plan),
  };
}

function checkPlan(plan: unknown): number {
  if (plan === undefined || plan === 'auto') return 0;
  const at = FILTER_PLANS.indexOf(plan as FilterPlan);
  if (at < 1) throw new TypeError(`options.plan must be 'auto', 'index', 'widened' or 'exact'; got ${typeof plan === 'string' ? `'${plan}'` : describe(plan)}`);
  return at;
}

/** Most candidates an HNSW search or add keeps (each sizes a heap; native/index_io.cc refuses files beyond it too). */
export const MAX_EF = 1 << 20;

/** Checks efSearch or efConstruction. */
export function checkEf(value: unknown, name: string): number {
  if (checkPositiveInt(value, name) > MAX_EF) throw new RangeError(`${name} must be at most ${MAX_EF}; got ${String(value)}`);
  return value as number;
}

/** Most candidates per result an IndexRefine asks its base index for (native/index_io.cc refuses files beyond it too). */
export const MAX_K_FACTOR = 65536;

/** Checks an IndexRefine's k_factor: a finite number from 1 to MAX_K_FACTOR. */
export function checkKFactor(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number; got ${describe(value)}`);
  if (!(value >= 1 && value <= MAX_K_FACTOR)) throw new RangeError(`${name} must be from 1 to ${MAX_K_FACTOR}; got ${String(value)}`);
  return value;
}

/** Most bits a RaBitQ query is quantized to (native/index_io.cc kMaxQueryBits). */
export const MAX_QB = 8;

/** Checks RaBitQ's query bits: an integer from 0 to MAX_QB. */
export function checkQb(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${name} must be an integer; got ${describe(value)}`);
  if (value < 0 || value > MAX_QB) throw new RangeError(`${name} must be from 0 to ${MAX_QB}; got ${value}`);
  return value;
}

/** Checks a filter and returns native/search_params.cc's form of it. */
export function toNativeFilter(filter: unknown, name: string): NativeIdFilter {
  if (filter instanceof IdFilter) return { prepared: prepared.get(filter), not: false };
  if (filter instanceof BigInt64Array) return { ids: filter, not: false };
  if (filter instanceof Uint8Array) return { bitmap: filter, not: false };
  if (filter === null || typeof filter !== 'object' || ArrayBuffer.isView(filter) || Array.isArray(filter)) {
    const got = Array.isArray(filter) ? 'an array (wrap ids as { ids })' : describe(filter);
    throw new TypeError(`${name} must be an IdFilter, a BigInt64Array of ids, a Uint8Array bitmap, or { ids | bitmap | range, not? }; got ${got}`);
  }
  const { ids, bitmap, range, not = false, ...rest } = filter as { ids?: unknown; bitmap?: unknown; range?: unknown; not?: unknown };
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new TypeError(`${name}: unknown key '${unknown[0]}' (known: ids, bitmap, range, not)`);
  if (typeof not !== 'boolean') throw new TypeError(`${name}.not must be a boolean; got ${describe(not)}`);
  const forms = [ids, bitmap, range].filter((f) => f !== undefined).length;
  if (forms !== 1) throw new TypeError(`${name} must have exactly one of ids, bitmap or range; got ${forms}`);
  if (ids !== undefined) return { ids: toIds(ids, undefined, `${name}.ids`), not };
  if (bitmap !== undefined) {
    if (!(bitmap instanceof Uint8Array)) throw new TypeError(`${name}.bitmap must be a Uint8Array; got ${describe(bitmap)}`);
    return { bitmap, not };
  }
  if (!Array.isArray(range) || range.length !== 2) throw new TypeError(`${name}.range must be [min, max]; got ${describe(range)}`);
  const [min, max] = range.map((v, i) => toId(v, `${name}.range[${i}]`));
  if (min > max) throw new RangeError(`${name}.range must have min <= max; got [${min}, ${max}]`);
  return { min, max, not };
}

function toId(value: unknown, name: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'bigint' && value >= -(2n ** 63n) && value < 2n ** 63n) return value;
  throw new TypeError(`${name} must be a safe integer or a 64-bit bigint; got ${typeof value === 'number' ? value : describe(value)}`);
}

/** removeIds's argument: a list of ids (numbers allowed), or any filter. */
export function toRemoval(ids: unknown): NativeIdFilter {
  return Array.isArray(ids) ? { ids: toIds(ids), not: false } : toNativeFilter(ids, 'ids');
}

/** Records the plan of a filtered search (native/filtered_search.h's number) in its result. */
export function withPlan(result: { plan?: FilterPlan }, plan: number): void {
  const name = FILTER_PLANS[plan];
  if (name !== undefined) result.plan = name;
}

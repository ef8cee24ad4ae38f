// Metadata filters of the LangChain store (lib/langchain.ts), with Python LangChain FAISS's
// operators, and the index of metadata values that lets equality and $in find their documents
// without a pass over every document.

/** A metadata value a filter can test. */
type Scalar = string | number | boolean | null;

/** Conditions on one metadata field, as Python LangChain's FAISS store takes them. */
export interface FieldOperators {
  $eq?: Scalar;
  $neq?: Scalar;
  $gt?: string | number;
  $gte?: string | number;
  $lt?: string | number;
  $lte?: string | number;
  $in?: readonly Scalar[];
  $nin?: readonly Scalar[];
}

/**
 * A filter on document metadata, as Python LangChain's FAISS store takes it: `{ field: value }`
 * (equality), `{ field: [a, b] }` (one of), `{ field: { $gt: 3, $lte: 9 } }` (every operator
 * holds), and `$and` / `$or` (lists of filters) and `$not` (a filter). Values compare as
 * JavaScript's `===` does (NaN equal to NaN); an ordering between a number and a string, or with
 * a missing field, is false.
 */
export type MetadataFilter = {
  $and?: readonly MetadataFilter[];
  $or?: readonly MetadataFilter[];
  $not?: MetadataFilter;
} & { [field: string]: Scalar | readonly Scalar[] | FieldOperators | readonly MetadataFilter[] | MetadataFilter | undefined };

/** Metadata of one document. */
export type Metadata = Record<string, unknown>;

const COMPARE: Record<string, (a: unknown, b: unknown) => boolean> = {
  $eq: (a, b) => same(a, b),
  $neq: (a, b) => !same(a, b),
  $gt: (a, b) => ordered(a, b) && (a as number) > (b as number),
  $gte: (a, b) => ordered(a, b) && (a as number) >= (b as number),
  $lt: (a, b) => ordered(a, b) && (a as number) < (b as number),
  $lte: (a, b) => ordered(a, b) && (a as number) <= (b as number),
  $in: (a, b) => (b as unknown[]).some((v) => same(a, v)),
  $nin: (a, b) => !(b as unknown[]).some((v) => same(a, v)),
};

/** A field's value; a missing field is null, as Python's `metadata.get(field)` gives None. */
function valueOf(metadata: Metadata, field: string): unknown {
  return metadata[field] ?? null;
}

/** Map keys' equality (SameValueZero), which the value index uses too. */
function same(a: unknown, b: unknown): boolean {
  return a === b || (a !== a && b !== b);
}

function ordered(a: unknown, b: unknown): boolean {
  return (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
}

/**
 * A filter ready to run: `test` says whether a document's metadata matches, and `candidates`,
 * where the value index can answer, lists a superset of the matches (every match among them)
 * without looking at other documents; undefined means every document must be tested.
 */
interface Compiled {
  test(metadata: Metadata): boolean;
  candidates(index: MetadataIndex): ReadonlySet<number> | undefined;
}

/** Checks a filter and compiles it; a TypeError names what is wrong. */
export function compileFilter(filter: unknown, name = 'filter'): Compiled {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw new TypeError(`${name} must be an object of metadata conditions or a function; got ${filter === null ? 'null' : Array.isArray(filter) ? 'an array' : typeof filter}`);
  }
  const parts: Compiled[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    const at = `${name}.${key}`;
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value)) throw new TypeError(`${at} must be an array of filters`);
      const subs = value.map((f, i) => compileFilter(f, `${at}[${i}]`));
      parts.push(key === '$and' ? allOf(subs) : anyOf(subs));
    } else if (key === '$not') {
      const sub = compileFilter(value, at);
      parts.push({ test: (m) => !sub.test(m), candidates: () => undefined });
    } else if (key.startsWith('$')) {
      throw new TypeError(`${name}: unsupported operator '${key}' (known: $and, $or, $not, and per field ${Object.keys(COMPARE).join(', ')})`);
    } else {
      parts.push(fieldCondition(key, value, at));
    }
  }
  return allOf(parts);
}

function fieldCondition(field: string, condition: unknown, name: string): Compiled {
  if (Array.isArray(condition)) return fieldCondition(field, { $in: condition }, name);
  if (condition === null || typeof condition !== 'object') {
    checkScalar(condition, name);
    return {
      test: (m) => same(valueOf(m, field), condition),
      candidates: (index) => index.matching(field, [condition]),
    };
  }
  const ops = Object.entries(condition).filter(([, v]) => v !== undefined);
  for (const [op, value] of ops) {
    if (!Object.hasOwn(COMPARE, op)) throw new TypeError(`${name}: unsupported operator '${op}' (known: ${Object.keys(COMPARE).join(', ')})`);
    if (op === '$in' || op === '$nin') {
      if (!Array.isArray(value)) throw new TypeError(`${name}.${op} must be an array; got ${typeof value}`);
      value.forEach((v, i) => checkScalar(v, `${name}.${op}[${i}]`));
    } else {
      checkScalar(value, `${name}.${op}`);
    }
  }
  const tests = ops.map(([op, value]) => (m: Metadata) => COMPARE[op](valueOf(m, field), value));
  // Equality and $in name their values, so the value index has their documents.
  const named = ops.filter(([op]) => op === '$eq' || op === '$in').map(([op, value]) => (op === '$in' ? (value as Scalar[]) : [value as Scalar]));
  return {
    test: (m) => tests.every((t) => t(m)),
    candidates: (index) => intersect(named.map((values) => index.matching(field, values)).filter((s) => s !== undefined)),
  };
}

function checkScalar(value: unknown, name: string): void {
  if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
    throw new TypeError(`${name} must be a string, number, boolean or null; got ${typeof value}`);
  }
}

function allOf(parts: Compiled[]): Compiled {
  if (parts.length === 1) return parts[0];
  return {
    test: (m) => parts.every((p) => p.test(m)),
    candidates: (index) => intersect(parts.map((p) => p.candidates(index)).filter((s) => s !== undefined)),
  };
}

function anyOf(parts: Compiled[]): Compiled {
  return {
    test: (m) => parts.some((p) => p.test(m)),
    candidates: (index) => {
      const union = new Set<number>();
      for (const p of parts) {
        const set = p.candidates(index);
        if (set === undefined) return undefined;
        for (const id of set) union.add(id);
      }
      return union;
    },
  };
}

/** The smallest set, cut down by the others; undefined when there are none. */
function intersect(sets: ReadonlySet<number>[]): ReadonlySet<number> | undefined {
  if (sets.length <= 1) return sets[0];
  const [smallest, ...rest] = [...sets].sort((a, b) => a.size - b.size);
  const out = new Set<number>();
  for (const id of smallest) if (rest.every((s) => s.has(id))) out.add(id);
  return out;
}

/**
 * Which documents hold each scalar metadata value, field by field, so that equality and $in
 * cost what their matches cost. Documents are numbered by the store (its FAISS labels).
 */
export class MetadataIndex {
  readonly #fields = new Map<string, Map<unknown, Set<number>>>();
  static readonly #NONE: ReadonlySet<number> = new Set();

  add(id: number, metadata: Metadata): void {
    for (const [field, value] of Object.entries(metadata)) {
      if (value === null || !isScalar(value)) continue;
      let values = this.#fields.get(field);
      if (values === undefined) this.#fields.set(field, (values = new Map()));
      let ids = values.get(value);
      if (ids === undefined) values.set(value, (ids = new Set()));
      ids.add(id);
    }
  }

  remove(id: number, metadata: Metadata): void {
    for (const [field, value] of Object.entries(metadata)) {
      const values = this.#fields.get(field);
      const ids = values?.get(value);
      if (ids === undefined) continue;
      ids.delete(id);
      if (ids.size === 0) values!.delete(value);
    }
  }

  /** The documents whose field holds one of the values; undefined for null (missing fields match it too). */
  matching(field: string, values: readonly unknown[]): ReadonlySet<number> | undefined {
    if (values.includes(null)) return undefined;
    const byValue = this.#fields.get(field);
    if (byValue === undefined) return MetadataIndex.#NONE;
    const sets = values.map((v) => byValue.get(v)).filter((s) => s !== undefined);
    if (sets.length === 1) return sets[0];
    const union = new Set<number>();
    for (const s of sets) for (const id of s) union.add(id);
    return union;
  }
}

function isScalar(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

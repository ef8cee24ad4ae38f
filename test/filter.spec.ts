// Filtered search (options.filter) and filtered removal: ids, bitmaps, ranges and their
// inverse, checked against exact search over the allowed subset (flat: identical; IVF at
// nprobe = nlist: identical to the unfiltered ranking with the others left out).
import { describe, expect, it } from 'vitest';
import {
  indexFactory,
  Index,
  IndexFlatIP,
  IndexFlatL2,
  IndexIDMap,
  IndexIDMap2,
  IndexIVFScalarQuantizer,
  METRIC_INNER_PRODUCT,
  METRIC_L2,
  IdFilter,
  type IdFilterLike,
} from '../lib';
import { native } from '../lib/native';
import { expectExact } from './helpers/expect-exact';
import { randomVectors } from './helpers/data';

const D = 24;
const FLT_MAX = 3.4028234663852886e38;
const N = 3000;
const K = 10;
const base = randomVectors(N, D, 1);
const queries = randomVectors(12, D, 2);

/** Every form of a filter over the same allowed ids, with the allowed set itself. */
function filterForms(allowed: (id: number) => boolean, ids: number[]): { name: string; filter: IdFilterLike }[] {
  const chosen = ids.filter(allowed);
  const rejected = ids.filter((id) => !allowed(id));
  const bitmap = new Uint8Array(Math.ceil((Math.max(...ids) + 1) / 8));
  for (const id of chosen) bitmap[id >> 3] |= 1 << (id & 7);
  const forms = [
    { name: 'BigInt64Array', filter: BigInt64Array.from(chosen, BigInt) as IdFilterLike },
    { name: 'ids (numbers)', filter: { ids: chosen } },
    { name: 'bitmap', filter: bitmap },
    { name: 'not ids', filter: { ids: rejected, not: true } },
  ];
  return [...forms, ...forms.map(({ name, filter }) => ({ name: `IdFilter(${name})`, filter: new IdFilter(filter) }))];
}

/** The subset's vectors and ids, the ids as the index numbers them. */
function subset(allowed: (id: number) => boolean, ids: number[]) {
  const keep = ids.map((id, i) => [id, i] as const).filter(([id]) => allowed(id));
  const x = new Float32Array(keep.length * D);
  keep.forEach(([, i], j) => x.set(base.subarray(i * D, (i + 1) * D), j * D));
  return { x, ids: BigInt64Array.from(keep, ([id]) => BigInt(id)) };
}

/** Exact search over the subset alone (checked against brute force), labels mapped to the original ids. */
function searchSubset(metric: 0 | 1, allowed: (id: number) => boolean, ids: number[], q: Float32Array) {
  const { x, ids: subIds } = subset(allowed, ids);
  const flat = metric === METRIC_INNER_PRODUCT ? new IndexFlatIP(D) : new IndexFlatL2(D);
  flat.addSync(x);
  const result = flat.searchSync(q, K);
  flat.dispose();
  expectExact(metric === METRIC_INNER_PRODUCT ? 'ip' : 'l2', result, x, q, D);
  result.labels = result.labels.map((l) => (l < 0n ? l : subIds[Number(l)]));
  return { result };
}

const positions = Array.from({ length: N }, (_, i) => i);
const SELECTIVITY = [
  ['1%', (id: number) => id % 100 === 7],
  ['10%', (id: number) => id % 10 === 3],
  ['50%', (id: number) => id % 2 === 0],
] as const;

describe('filtered search on flat indexes', () => {
  for (const [metric, Flat] of [[METRIC_INNER_PRODUCT, IndexFlatIP], [METRIC_L2, IndexFlatL2]] as const) {
    for (const [share, allowed] of SELECTIVITY) {
      it(`${Flat.name}, ${share} allowed: every filter form equals exact search over the subset`, async () => {
        const index = new Flat(D);
        index.addSync(base);
        const { result: want } = searchSubset(metric, allowed, positions, queries);
        for (const { name, filter } of filterForms(allowed, positions)) {
          const got = index.searchSync(queries, K, { filter });
          expect(Array.from(got.labels), name).toEqual(Array.from(want.labels));
          expect(got.distances, name).toEqual(want.distances);
          const one = await index.search(queries.subarray(0, D), K, { filter });
          expect(Array.from(one.labels), `${name}, async`).toEqual(Array.from(want.labels.subarray(0, K)));
        }
        index.dispose();
      });
    }
  }

  // 20 queries and more: the allowed rows alone, with BLAS (native/filtered_search.h), as a flat
  // index holding just those rows answers them.
  const batch = randomVectors(40, D, 5);
  for (const [metric, Flat] of [[METRIC_INNER_PRODUCT, IndexFlatIP], [METRIC_L2, IndexFlatL2]] as const) {
    it(`${Flat.name}, batches of 40: every form and selectivity, a run of ids, through an IDMap, equal exact search over the subset`, () => {
      const index = new Flat(D);
      index.addSync(base);
      const before = native.allowedRowSearches();
      let searches = 0;
      const run = (from: number, to: number) => (id: number) => id >= from && id < to;
      for (const allowed of [...SELECTIVITY.map(([, a]) => a), run(100, 900)]) {
        const { result: want } = searchSubset(metric, allowed, positions, batch);
        for (const { name, filter } of filterForms(allowed, positions)) {
          const got = index.searchSync(batch, K, { filter });
          expect(Array.from(got.labels), name).toEqual(Array.from(want.labels));
          expect(got.distances, name).toEqual(want.distances);
          searches++;
        }
      }
      // Nothing allowed: every row empty, as exact search over no vectors gives.
      const empty = index.searchSync(batch, K, { filter: new BigInt64Array(0) });
      expect(empty.labels.every((l) => l === -1n)).toBe(true);
      expect(empty.distances.every((v) => v === (metric === METRIC_INNER_PRODUCT ? -FLT_MAX : FLT_MAX))).toBe(true);
      expect(native.allowedRowSearches() - before).toBe(searches + 1);
      const userIds = positions.map((i) => 5_000 + i * 3);
      const mapped = new IndexIDMap2(new Flat(D));
      mapped.addWithIdsSync(base, BigInt64Array.from(userIds, BigInt));
      const allowed = (id: number) => id % 4 === 1;
      const { result: want } = searchSubset(metric, allowed, userIds, batch);
      for (const { name, filter } of filterForms(allowed, userIds)) {
        expect(Array.from(mapped.searchSync(batch, K, { filter }).labels), `IDMap2, ${name}`).toEqual(Array.from(want.labels));
      }
      index.dispose();
      mapped.dispose();
    });
  }

  it('a range [min, max) and its inverse', () => {
    const index = new IndexFlatL2(D);
    index.addSync(base);
    const inRange = (id: number) => id >= 500 && id < 1500;
    const { result: want } = searchSubset(METRIC_L2, inRange, positions, queries);
    expect(index.searchSync(queries, K, { filter: { range: [500, 1500] } }).labels).toEqual(want.labels);
    expect(index.searchSync(queries, K, { filter: { range: [500n, 1500n] } }).labels).toEqual(want.labels);
    const { result: outside } = searchSubset(METRIC_L2, (id) => !inRange(id), positions, queries);
    expect(index.searchSync(queries, K, { filter: { range: [500, 1500], not: true } }).labels).toEqual(outside.labels);
    index.dispose();
  });

  it('fewer allowed than k: the rest of the row is empty (-1)', () => {
    const index = new IndexFlatIP(D);
    index.addSync(base);
    const got = index.searchSync(queries.subarray(0, D), K, { filter: BigInt64Array.of(5n, 9n, 123456n) });
    expect(Array.from(got.labels.subarray(2))).toEqual(Array(K - 2).fill(-1n));
    expect(new Set(Array.from(got.labels.subarray(0, 2)))).toEqual(new Set([5n, 9n]));
    expect(Array.from(index.searchSync(queries.subarray(0, D), 3, { filter: new BigInt64Array(0) }).labels)).toEqual([-1n, -1n, -1n]);
    index.dispose();
  });

  it('range search keeps only the allowed ids', () => {
    const index = new IndexFlatL2(D);
    index.addSync(base);
    const radius = index.searchSync(queries.subarray(0, D), 60).distances[59]; // about 60 results a query
    const all = index.rangeSearchSync(queries, radius);
    const got = index.rangeSearchSync(queries, radius, { filter: { range: [0, 1000] } });
    for (let q = 0; q < queries.length / D; q++) {
      const want = Array.from(all.labels.subarray(all.lims[q], all.lims[q + 1])).filter((id) => id < 1000n);
      expect(new Set(got.labels.subarray(got.lims[q], got.lims[q + 1]))).toEqual(new Set(want));
    }
    expect(all.lims[all.nq]).toBeGreaterThan(got.lims[got.nq]);
    expect(got.lims[got.nq]).toBeGreaterThan(0);
    index.dispose();
  });
});

describe('filtered search through IDMap (user ids) and on IVF', () => {
  const userIds = positions.map((i) => 1_000_000 + i * 7);

  for (const Map of [IndexIDMap, IndexIDMap2]) {
    it(`${Map.name}: filters name the user's ids`, () => {
      const index = new Map(new IndexFlatIP(D));
      index.addWithIdsSync(base, BigInt64Array.from(userIds, BigInt));
      const allowed = (id: number) => id % 3 === 0;
      const { result: want } = searchSubset(METRIC_INNER_PRODUCT, allowed, userIds, queries);
      for (const { name, filter } of filterForms(allowed, userIds)) {
        expect(index.searchSync(queries, K, { filter }).labels, name).toEqual(want.labels);
      }
      index.dispose();
    });
  }

  // A set of dense ids is searched as a bitmap (native/search_params.cc); negative or far-apart
  // ids keep FAISS's hash set. Both must select exactly the set's members.
  it('a set of negative and far-apart user ids (kept as a hash set) selects exactly them, as a dense set does', () => {
    const spread = positions.map((i) => (i % 2 === 0 ? -2 - i : 2 ** 52 + i * 1_000_003));
    const index = new IndexIDMap(new IndexFlatIP(D));
    index.addWithIdsSync(base, BigInt64Array.from(spread, BigInt));
    const allowed = (id: number) => Math.abs(id) % 5 === 1;
    const { result: want } = searchSubset(METRIC_INNER_PRODUCT, allowed, spread, queries);
    expect(index.searchSync(queries, K, { filter: BigInt64Array.from(spread.filter(allowed), BigInt) }).labels).toEqual(want.labels);
    index.dispose();
  });

  /** At nprobe = nlist an IVF index scans every code: filtered = unfiltered ranking with the others left out. */
  function expectPostFiltered(index: Index, allowed: (id: bigint) => boolean, filter: IdFilterLike, nlist: number) {
    const full = index.searchSync(queries, index.ntotal, { nprobe: nlist });
    const got = index.searchSync(queries, K, { nprobe: nlist, filter });
    for (let q = 0; q < queries.length / D; q++) {
      const row = Array.from(full.labels.subarray(q * index.ntotal, (q + 1) * index.ntotal)).map((l, r) => [l, full.distances[q * index.ntotal + r]] as const);
      const kept = row.filter(([l]) => allowed(l)).slice(0, K);
      expect(Array.from(got.labels.subarray(q * K, (q + 1) * K))).toEqual(kept.map(([l]) => l));
      expect(Array.from(got.distances.subarray(q * K, (q + 1) * K))).toEqual(kept.map(([, s]) => s));
    }
  }

  for (const [metric, qtype] of [[METRIC_INNER_PRODUCT, 'QT_8bit'], [METRIC_L2, 'QT_4bit']] as const) {
    it(`IVF-SQ (${qtype}) at nprobe = nlist: the unfiltered ranking without the others, for every form`, () => {
      const index = new IndexIVFScalarQuantizer(D, 16, qtype, metric);
      index.trainSync(base);
      index.addSync(base);
      const allowed = (id: number) => id % 10 === 3;
      for (const { name, filter } of [...filterForms(allowed, positions), { name: 'range', filter: { range: [300, 1300] } as IdFilterLike }]) {
        const test = name === 'range' ? (id: bigint) => id >= 300n && id < 1300n : (id: bigint) => allowed(Number(id));
        expectPostFiltered(index, test, filter, 16);
      }
      index.dispose();
    });
  }

  it('IDMap over IVF-Flat (factory): user ids, per-call nprobe and filter together', () => {
    const index = indexFactory(D, 'IDMap2,IVF8,Flat', METRIC_L2);
    index.trainSync(base);
    index.addWithIdsSync(base, BigInt64Array.from(userIds, BigInt));
    const allowed = (id: number) => id % 4 === 1;
    const { result: want } = searchSubset(METRIC_L2, allowed, userIds, queries);
    const { filter } = filterForms(allowed, userIds)[0];
    // IVF-Flat stores the vectors exactly; all 8 lists visited = exact search over the subset.
    expect(index.searchSync(queries, K, { nprobe: 8, filter }).labels).toEqual(want.labels);
    index.dispose();
  });

  // 1% and 0.2% allowed: exact search over the allowed rows (native/filtered_search.h), where
  // FAISS's filtered walk finds few of them.
  for (const [metric, name] of [[METRIC_INNER_PRODUCT, 'IP'], [METRIC_L2, 'L2']] as const) {
    it(`HNSW (${name}), 1% and 0.2% allowed, also through an IDMap: equal exact search over the subset`, () => {
      const index = indexFactory(D, 'HNSW16', metric);
      index.addSync(base);
      const mapped = new IndexIDMap(indexFactory(D, 'HNSW16', metric));
      const userIds = positions.map((i) => 70_000 + i * 11);
      mapped.addWithIdsSync(base, BigInt64Array.from(userIds, BigInt));
      const before = native.allowedRowSearches();
      for (const [ix, ids] of [[index, positions], [mapped, userIds]] as const) {
        for (const allowed of [(id: number) => id % 100 === 7, (id: number) => id % 500 === 3]) {
          const { result: want } = searchSubset(metric, allowed, ids, queries);
          const got = ix.searchSync(queries, K, { filter: { ids: ids.filter(allowed) } });
          expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
          expect(got.distances).toEqual(want.distances);
        }
      }
      expect(native.allowedRowSearches() - before).toBe(4);
      index.dispose();
      mapped.dispose();
    });
  }

  it('HNSW (factory), 20% allowed, FAISS\'s filtered walk (plan \'index\'): only allowed ids, and recall against exact search over the subset', () => {
    const index = indexFactory(D, 'HNSW16', METRIC_L2);
    index.addSync(base);
    const before = native.allowedRowSearches();
    const allowed = (id: number) => id % 5 === 2;
    const { result: want } = searchSubset(METRIC_L2, allowed, positions, queries);
    const got = index.searchSync(queries, K, { efSearch: 256, filter: { ids: positions.filter(allowed) }, plan: 'index' });
    expect(Array.from(got.labels).every((l) => allowed(Number(l)))).toBe(true);
    const hits = Array.from(got.labels).filter((l, i) => Array.from(want.labels.subarray(Math.floor(i / K) * K, Math.floor(i / K) * K + K)).includes(l));
    expect(hits.length / got.labels.length).toBeGreaterThanOrEqual(0.95);
    expect(native.allowedRowSearches()).toBe(before);
    index.dispose();
  });
});

describe('the plan of a filtered search', () => {
  const allowedShare = (share: number) => positions.filter((id) => (id * 7919) % 1000 < share * 1000);

  it('flat: always exact; HNSW: exact while the allowed rows cost less than the widened walk; IVF: widened, exact once every list is probed', () => {
    const flat = new IndexFlatL2(D);
    flat.addSync(base);
    expect(flat.searchSync(queries, K, { filter: { ids: allowedShare(0.5) } }).plan).toBe('exact');
    expect(flat.searchSync(queries, K).plan).toBeUndefined();

    const hnsw = indexFactory(D, 'HNSW16', METRIC_L2);
    hnsw.addSync(base);
    const widenedBefore = native.widenedSearches();
    // 3000 vectors, level-0 degree 32, a walk costing 1.4 rows a candidate and slot: under 20%
    // allowed, exact however many rows. At efSearch 64, 30% allowed = 900 rows against a walk of
    // 64 / 0.3^(1/4) = 87 candidates x 32 x 1.4 (3898): exact. At efSearch 16 (k 10) and 50%:
    // 1500 rows against 20 x 32 x 1.4 (896): widened; at efSearch 1 (k 10) and 50%, against
    // 12 x 32 x 1.4 (538): widened.
    expect(hnsw.searchSync(queries, K, { filter: { ids: allowedShare(0.01) } }).plan).toBe('exact');
    expect(hnsw.searchSync(queries, K, { efSearch: 1, filter: { ids: allowedShare(0.15) } }).plan).toBe('exact');
    expect(hnsw.searchSync(queries, K, { efSearch: 64, filter: { ids: allowedShare(0.3) } }).plan).toBe('exact');
    expect(hnsw.searchSync(queries, K, { efSearch: 16, filter: { ids: allowedShare(0.5) } }).plan).toBe('widened');
    expect(hnsw.searchSync(queries, K, { efSearch: 1, filter: { ids: allowedShare(0.5) } }).plan).toBe('widened');
    expect(hnsw.searchSync(queries, K, { filter: { ids: allowedShare(0.3) }, plan: 'index' }).plan).toBe('index');
    expect(hnsw.searchSync(queries, K, { filter: { ids: allowedShare(0.3) }, plan: 'widened' }).plan).toBe('widened');
    expect(native.widenedSearches() - widenedBefore).toBe(3);

    const ivf = new IndexIVFScalarQuantizer(D, 32, 'QT_8bit', METRIC_L2);
    ivf.trainSync(base);
    ivf.addSync(base);
    expect(ivf.searchSync(queries, K, { nprobe: 4, filter: { ids: allowedShare(0.5) } }).plan).toBe('widened');
    expect(ivf.searchSync(queries, K, { nprobe: 4, filter: { ids: allowedShare(0.05) } }).plan).toBe('exact');
    expect(ivf.searchSync(queries, K, { nprobe: 32, filter: { ids: allowedShare(0.5) } }).plan).toBe('exact');
    for (const ix of [flat, hnsw, ivf]) ix.dispose();
  });

  it('HNSW: a query whose neighbourhood the filter leaves out is searched exactly, in a batch too', () => {
    const hnsw = indexFactory(D, 'HNSW16', METRIC_L2);
    hnsw.addSync(base);
    // The 30% of ids farthest from the first query: FAISS's walk from its neighbourhood misses them.
    const q = queries.subarray(0, D);
    const distance = positions.map((i) => base.subarray(i * D, (i + 1) * D).reduce((sum, v, j) => sum + (v - q[j]) ** 2, 0));
    // 1200 of 3000 (40%): at efSearch 16, more rows than a walk of 16 / 0.4^(1/4) = 21 candidates
    // x 32 x 1.4 (940), so the plan walks where it can.
    const far = [...positions].sort((a, b) => distance[b] - distance[a]).slice(0, 1200);
    const allowed = new Set(far);
    const { result: want } = searchSubset(METRIC_L2, (id) => allowed.has(id), positions, q);
    const alone = hnsw.searchSync(q, K, { efSearch: 16, filter: { ids: far } });
    expect(alone.plan).toBe('exact');
    expect(Array.from(alone.labels)).toEqual(Array.from(want.labels));
    expect(alone.distances).toEqual(want.distances);
    // With a query among the allowed vectors (itself one), the batch splits: the first query
    // exactly, the second by the walk. The walk is approximate and the parallel build varies from
    // run to run, so the query is the allowed vector nearest the rest (the walk found it in 400 of
    // 400 builds), not the farthest one (missed in 2 of 60).
    const own = far[far.length - 1];
    const inside = base.subarray(own * D, (own + 1) * D);
    const both = hnsw.searchSync(Float32Array.from([...q, ...inside]), K, { efSearch: 16, filter: { ids: far } });
    expect(both.plan).toBe('widened');
    expect(Array.from(both.labels.subarray(0, K))).toEqual(Array.from(want.labels));
    expect(both.distances.subarray(0, K)).toEqual(want.distances);
    expect(both.labels[K]).toBe(BigInt(own));
    expect(Array.from(both.labels.subarray(K)).every((l) => allowed.has(Number(l)))).toBe(true);
    hnsw.dispose();
  });

  it("plan 'exact' on HNSW and IVF equals exact search over the allowed ids (IVF: over its codes, as at nprobe = nlist)", async () => {
    const allowed = (id: number) => id % 3 === 0;
    const { result: want } = searchSubset(METRIC_L2, allowed, positions, queries);
    const hnsw = indexFactory(D, 'HNSW16', METRIC_L2);
    hnsw.addSync(base);
    const got = await hnsw.search(queries, K, { filter: { ids: positions.filter(allowed) }, plan: 'exact' });
    expect([got.plan, Array.from(got.labels)]).toEqual(['exact', Array.from(want.labels)]);
    // HNSW over codes: the exact plan scans every allowed code.
    const sq = indexFactory(D, 'HNSW16,SQ8', METRIC_L2);
    sq.trainSync(base);
    sq.addSync(base);
    const viaStorage = sq.searchSync(queries, K, { filter: { ids: positions.filter(allowed) }, plan: 'exact' });
    const codes = indexFactory(D, 'SQ8', METRIC_L2);
    codes.trainSync(base);
    codes.addSync(base);
    expect(viaStorage.labels).toEqual(codes.searchSync(queries, K, { filter: { ids: positions.filter(allowed) } }).labels);
    const ivf = new IndexIVFScalarQuantizer(D, 16, 'QT_8bit', METRIC_L2);
    ivf.trainSync(base);
    ivf.addSync(base);
    expect(ivf.searchSync(queries, K, { nprobe: 2, filter: { ids: positions.filter(allowed) }, plan: 'exact' }).labels).toEqual(
      ivf.searchSync(queries, K, { nprobe: 16, filter: { ids: positions.filter(allowed) }, plan: 'index' }).labels,
    );
    for (const ix of [hnsw, sq, codes, ivf]) ix.dispose();
  });

  it('IVF: a selective filter scores just the allowed codes, found through a map of where each id lies, as probing every list scores them', () => {
    for (const [factory, metric] of [['IVF16,SQ8', METRIC_INNER_PRODUCT], ['IVF16,PQ8', METRIC_L2], ['IVF16,Flat', METRIC_L2]] as const) {
      const index = indexFactory(D, factory, metric);
      index.trainSync(base);
      index.addSync(base);
      const filter = { ids: allowedShare(0.01) };
      const everyList = index.searchSync(queries, K, { nprobe: 16, filter, plan: 'index' });
      const sameAsEveryList = (got: { labels: BigInt64Array; distances: Float32Array }) => {
        expect(Array.from(got.labels), factory).toEqual(Array.from(everyList.labels));
        // The coarse distance is computed here, not by the quantizer's search: equal up to rounding.
        got.distances.forEach((v, i) => expect(Math.abs(v - everyList.distances[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
      };
      const before = native.allowedRowSearches();
      const walked = index.searchSync(queries, K, { nprobe: 2, filter });
      expect([walked.plan, native.allowedRowSearches() - before]).toEqual(['exact', 1]);
      sameAsEveryList(walked);
      // The same filter again, then once more: its allowed codes are then read from the copy
      // kept for it, with the same arithmetic.
      for (let again = 0; again < 2; again++) {
        const repeated = index.searchSync(queries, K, { nprobe: 2, filter });
        expect(Array.from(repeated.labels), factory).toEqual(Array.from(walked.labels));
        expect(Array.from(repeated.distances), factory).toEqual(Array.from(walked.distances));
      }
      index.makeDirectMap(); // FAISS's own map changes nothing here
      sameAsEveryList(index.searchSync(queries, K, { nprobe: 2, filter }));
      // A range and a bitmap list their ids too; a loose filter at a low nprobe is widened.
      expect(index.searchSync(queries, K, { nprobe: 2, filter: { range: [100, 130] } }).labels.every((l) => l >= 100n && l < 130n)).toBe(true);
      expect(index.searchSync(queries, K, { nprobe: 2, filter: { ids: allowedShare(0.5) } }).plan).toBe('widened');
      index.dispose();
    }
  });

  it('IVF: filters walked testing each id of the lists visited (an inverse set, a new bitmap each call, through an IDMap) equal probing every list when exact', () => {
    const ivf = new IndexIVFScalarQuantizer(D, 16, 'QT_8bit', METRIC_INNER_PRODUCT);
    ivf.trainSync(base);
    ivf.addSync(base);
    const mapped = new IndexIDMap(new IndexIVFScalarQuantizer(D, 16, 'QT_8bit', METRIC_INNER_PRODUCT));
    mapped.trainSync(base);
    mapped.addWithIdsSync(base, BigInt64Array.from(positions, (i) => BigInt(i * 5 + 2)));
    const bitmapOf = (ids: number[]) => {
      const bitmap = new Uint8Array(Math.ceil((Math.max(...ids) + 1) / 8));
      for (const id of ids) bitmap[id >> 3] |= 1 << (id & 7);
      return bitmap;
    };
    for (const [index, idOf] of [[ivf, (i: number) => i], [mapped, (i: number) => i * 5 + 2]] as const) {
      for (const share of [0.3, 0.7]) {
        const kept = allowedShare(share).map(idOf);
        const dropped = positions.map(idOf).filter((id) => !kept.includes(id));
        for (const filter of [{ ids: dropped, not: true }, bitmapOf(kept), bitmapOf([...kept])]) {
          const want = index.searchSync(queries, K, { nprobe: 16, filter, plan: 'index' });
          const exact = index.searchSync(queries, K, { nprobe: 2, filter, plan: 'exact' });
          expect(exact.plan).toBe('exact');
          expect(Array.from(exact.labels)).toEqual(Array.from(want.labels));
          exact.distances.forEach((v, i) => expect(Math.abs(v - want.distances[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
          // Auto at nprobe 2: allowed ids only, as many found as asked.
          const auto = index.searchSync(queries, K, { nprobe: 2, filter });
          expect(Array.from(auto.labels).every((l) => kept.includes(Number(l)))).toBe(true);
        }
      }
    }
    ivf.dispose();
    mapped.dispose();
  });

  it('IVF: the map of where each id lies follows adds and removals, through an IDMap too; where an id is stored twice the walk tests ids instead', () => {
    const allowed = allowedShare(0.02);
    // The same bitmap object each time: its allowed codes are kept between searches until the index changes.
    const bitmap = new Uint8Array(N / 8);
    for (const id of allowed) bitmap[id >> 3] |= 1 << (id & 7);
    // The walk over every allowed code (plan 'exact') against FAISS probing every list.
    const agree = (index: Index) => {
      let got;
      for (const filter of [{ ids: allowed }, bitmap, bitmap]) {
        const want = index.searchSync(queries, K, { nprobe: 16, filter, plan: 'index' });
        got = index.searchSync(queries, K, { nprobe: 2, filter, plan: 'exact' });
        expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
      }
      return got!;
    };
    const first = base.subarray(0, 2000 * D);
    const rest = base.subarray(2000 * D);
    const ivf = new IndexIVFScalarQuantizer(D, 16, 'QT_8bit', METRIC_L2);
    ivf.trainSync(base);
    ivf.addSync(first);
    expect(Array.from(agree(ivf).labels).every((l) => l < 2000n)).toBe(true);
    ivf.addSync(rest); // new ids the first map lacks
    expect(Array.from(agree(ivf).labels).some((l) => l >= 2000n)).toBe(true);
    const gone = allowed.filter((_, i) => i % 2 === 0);
    ivf.removeIdsSync(BigInt64Array.from(gone, BigInt)); // FAISS moves each list's last code into the hole
    expect(Array.from(agree(ivf).labels).some((l) => gone.includes(Number(l)))).toBe(false);

    const mapped = new IndexIDMap(new IndexIVFScalarQuantizer(D, 16, 'QT_8bit', METRIC_L2));
    mapped.trainSync(base);
    mapped.addWithIdsSync(base, BigInt64Array.from(positions, (i) => BigInt(i * 3 + 1)));
    const userFilter = { ids: allowed.map((i) => i * 3 + 1) };
    const want = mapped.searchSync(queries, K, { nprobe: 16, filter: userFilter, plan: 'index' });
    const got = mapped.searchSync(queries, K, { nprobe: 2, filter: userFilter, plan: 'exact' });
    expect(Array.from(got.labels)).toEqual(Array.from(want.labels));

    // The same ids twice: no map (it would keep one copy); the walk that tests ids finds both.
    const twice = new IndexIVFScalarQuantizer(D, 16, 'QT_8bit', METRIC_L2);
    twice.trainSync(base);
    const ids = BigInt64Array.from(positions.slice(0, 1000), BigInt);
    twice.addWithIdsSync(base.subarray(0, 1000 * D), ids);
    twice.addWithIdsSync(base.subarray(0, 1000 * D), ids);
    const doubled = agree(twice);
    expect(doubled.labels[0]).toBe(doubled.labels[1]);
    for (const ix of [ivf, mapped, twice]) ix.dispose();
  });

  it('IVF: an IdFilter keeps its allowed codes per index until that index changes; it copies its ids when made', () => {
    const allowed = allowedShare(0.02);
    const bitmap = new Uint8Array(N / 8);
    for (const id of allowed) bitmap[id >> 3] |= 1 << (id & 7);
    const prepared = new IdFilter(bitmap);
    const made = (factory: string) => {
      const index = indexFactory(D, factory, METRIC_L2);
      index.trainSync(base);
      index.addSync(base.subarray(0, 2000 * D));
      return index;
    };
    const [sq, flat] = [made('IVF16,SQ8'), made('IVF16,Flat')];
    // FAISS probing every list, with a call's own filter of the same ids.
    const agree = (index: Index) => {
      const want = index.searchSync(queries, K, { nprobe: 16, filter: { ids: allowed }, plan: 'index' });
      for (let again = 0; again < 3; again++) {
        const got = index.searchSync(queries, K, { nprobe: 2, filter: prepared, plan: 'exact' });
        expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
        got.distances.forEach((v, i) => expect(Math.abs(v - want.distances[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
      }
      return want;
    };
    // One IdFilter on two indexes in turn: each keeps its own listing.
    for (const index of [sq, flat, sq, flat]) agree(index);
    bitmap.fill(0); // made before: unchanged
    sq.addSync(base.subarray(2000 * D)); // ids the kept listing lacks
    expect(Array.from(agree(sq).labels).some((l) => l >= 2000n)).toBe(true);
    const gone = allowed.filter((_, i) => i % 2 === 0);
    sq.removeIdsSync(new IdFilter(BigInt64Array.from(gone, BigInt)));
    expect(Array.from(agree(sq).labels).some((l) => gone.includes(Number(l)))).toBe(false);
    agree(flat);
    expect(new IdFilter(prepared) instanceof IdFilter).toBe(true);
    sq.dispose();
    flat.dispose();
  });

  it('plans that do not exist, or not for this index, are errors naming the problem', () => {
    const index = indexFactory(D, 'PCA8,Flat', METRIC_L2);
    index.trainSync(base);
    index.addSync(base);
    const filter = { range: [0, 100] } as IdFilterLike;
    expect(index.searchSync(queries, K, { filter }).plan).toBe('index');
    expect(() => index.searchSync(queries, K, { filter, plan: 'exact' })).toThrow(
      new RangeError("plan 'exact' is not available for IndexPreTransform (flat, HNSW and IVF indexes, alone or under an IDMap)"),
    );
    expect(index.searchSync(queries, K, { filter, plan: 'widened' }).plan).toBe('index'); // nothing to widen
    expect(() => index.searchSync(queries, K, { filter, plan: 'fast' as never })).toThrow(new TypeError("options.plan must be 'auto', 'index', 'widened' or 'exact'; got 'fast'"));
    index.dispose();
  });
});

describe('removeIds with a filter', () => {
  it('a range, a bitmap and an inverse set, on a flat index and on an IDMap', () => {
    const flat = new IndexFlatL2(D);
    flat.addSync(base.subarray(0, 100 * D));
    expect(flat.removeIdsSync({ range: [10, 30] })).toBe(20);
    expect(flat.ntotal).toBe(80);
    const bitmap = new Uint8Array(10);
    bitmap[0] = 0b101; // ids 0 and 2
    expect(flat.removeIdsSync(bitmap)).toBe(2);
    // Flat indexes renumber after a removal: what was 3 is now 1.
    expect(flat.reconstructSync(1)).toEqual(base.subarray(3 * D, 4 * D));
    flat.dispose();

    const idmap = new IndexIDMap2(new IndexFlatL2(D));
    const ids = BigInt64Array.from({ length: 50 }, (_, i) => BigInt(500 + i));
    idmap.addWithIdsSync(base.subarray(0, 50 * D), ids);
    expect(idmap.removeIdsSync({ ids: [510n, 520n, 530n], not: true })).toBe(47);
    expect(idmap.ntotal).toBe(3);
    expect(idmap.reconstructSync(520n)).toEqual(base.subarray(20 * D, 21 * D));
    idmap.dispose();
  });

  it('async, on an IVF index', async () => {
    const index = new IndexIVFScalarQuantizer(D, 8, 'QT_8bit');
    index.trainSync(base);
    index.addSync(base);
    expect(await index.removeIds({ range: [0, 1000], not: true })).toBe(N - 1000);
    const { labels } = index.searchSync(queries, K, { nprobe: 8 });
    expect(Array.from(labels).every((l) => l >= 0n && l < 1000n)).toBe(true);
    index.dispose();
  });
});

describe('filters that are wrong', () => {
  const index = new IndexFlatIP(4);
  index.addSync(randomVectors(10, 4, 3));
  const q = new Float32Array(4).fill(0.5);

  it.each([
    [[1, 2] as unknown as IdFilterLike, TypeError, 'options.filter must be an IdFilter, a BigInt64Array of ids, a Uint8Array bitmap, or { ids | bitmap | range, not? }; got an array (wrap ids as { ids })'],
    [new Int32Array(3) as unknown as IdFilterLike, TypeError, 'options.filter must be an IdFilter, a BigInt64Array'],
    [{ ids: [1], range: [0, 2] } as unknown as IdFilterLike, TypeError, 'options.filter must have exactly one of ids, bitmap or range; got 2'],
    [{ idz: [1] } as unknown as IdFilterLike, TypeError, "options.filter: unknown key 'idz' (known: ids, bitmap, range, not)"],
    [{ range: [5, 2] }, RangeError, 'options.filter.range must have min <= max; got [5, 2]'],
    [{ range: [0.5, 2] }, TypeError, 'options.filter.range[0] must be a safe integer or a 64-bit bigint; got 0.5'],
    [{ bitmap: [1] } as unknown as IdFilterLike, TypeError, 'options.filter.bitmap must be a Uint8Array'],
    [{ ids: [1], not: 'yes' } as unknown as IdFilterLike, TypeError, 'options.filter.not must be a boolean'],
  ])('%o', (filter, Err, message) => {
    expect(() => index.searchSync(q, 1, { filter })).toThrow(Err);
    expect(() => index.searchSync(q, 1, { filter })).toThrow(message);
  });

  it('new IdFilter: the same checks, named filter', () => {
    expect(() => new IdFilter([1, 2] as unknown as IdFilterLike)).toThrow(
      new TypeError('new IdFilter(filter) must be an IdFilter, a BigInt64Array of ids, a Uint8Array bitmap, or { ids | bitmap | range, not? }; got an array (wrap ids as { ids })'),
    );
    expect(() => new IdFilter({ range: [5, 2] })).toThrow(new RangeError('new IdFilter(filter).range must have min <= max; got [5, 2]'));
  });

  it('removeIds: the same checks, named ids', () => {
    expect(() => index.removeIdsSync({ range: [3, 1] })).toThrow(new RangeError('ids.range must have min <= max; got [3, 1]'));
    expect(() => index.removeIdsSync('7' as unknown as bigint[])).toThrow(TypeError);
    expect(index.ntotal).toBe(10);
  });
});

// Many indexes as one: mergeResults (scatter-gather across processes or hosts) and IndexShards
// give what one index over all the vectors gives, ties included; checked against a flat index
// over duplicated vectors, where every distance is tied several times across shards. (One
// exception, FAISS's own: which ids of a tie group cut by k an inner-product flat scan keeps.)
import { describe, expect, it } from 'vitest';
import {
  indexFactory,
  IndexFlatIP,
  IndexFlatL2,
  IndexIDMap,
  IndexShards,
  METRIC_INNER_PRODUCT,
  METRIC_L2,
  mergeResults,
  type Index,
  type MetricType,
  type SearchResult,
} from '../lib';
import { randomVectors } from './helpers/data';

const d = 8;
// 200 distinct vectors, each stored 5 times: ids 0..999, copy c of vector v at id c * 200 + v,
// so the copies of one vector interleave with other vectors' ids and land in different shards.
const distinct = randomVectors(200, d, 21);
const n = 1000;
const all = new Float32Array(n * d);
for (let id = 0; id < n; id++) all.set(distinct.subarray((id % 200) * d, (id % 200 + 1) * d), id * d);
const queries = (nq: number) => randomVectors(nq, d, 22).subarray(0, nq * d);

const flat = (metric: MetricType): Index => (metric === METRIC_L2 ? new IndexFlatL2(d) : new IndexFlatIP(d));

function expectSame(a: SearchResult, b: SearchResult): void {
  expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
  expect(Array.from(a.distances)).toEqual(Array.from(b.distances));
}

/** Shards holding the ids with id % shards == s, with their global ids (an IDMap over a flat index). */
function interleaved(metric: MetricType, shards: number): Index[] {
  return Array.from({ length: shards }, (_, s) => {
    const shard = new IndexIDMap(flat(metric));
    const ids = Array.from({ length: Math.ceil((n - s) / shards) }, (_, j) => s + j * shards);
    const x = new Float32Array(ids.length * d);
    ids.forEach((id, j) => x.set(all.subarray(id * d, (id + 1) * d), j * d));
    shard.addWithIdsSync(x, BigInt64Array.from(ids, BigInt));
    return shard;
  });
}

describe.each([
  ['inner product', METRIC_INNER_PRODUCT],
  ['L2', METRIC_L2],
] as const)('%s', (_, metric) => {
  const one = flat(metric);
  one.addSync(all);

  // nq 5 runs FAISS's per-query scan; nq 40 its BLAS path (20 or more queries).
  it.each([
    [5, 12],
    [40, 12],
    [40, 3],
    [5, 300],
  ])('mergeResults of 3 interleaved shards equals one index (nq %i, k %i), ties included', (nq, k) => {
    const q = queries(nq);
    const perShard = interleaved(metric, 3).map((s) => s.searchSync(q, k));
    const expected = one.searchSync(q, k);
    // Every tie group is 5 ids long and k cuts one: the test means something only with ties.
    expect(new Set(expected.distances).size).toBeLessThan(expected.distances.length);
    const merged = mergeResults(perShard, k, metric);
    if (metric === METRIC_L2) {
      expectSame(merged, expected);
      return;
    }
    // FAISS's flat inner-product scan keeps a scan-order-dependent part of the tie group that
    // k cuts (its heap admits the lowest ids of a tie first but evicts them first), in one index
    // and in each shard alike: mergeResults keeps the lowest ids the shards returned, listed as
    // FAISS lists ties (descending ids). Everything else is identical.
    expect(Array.from(merged.distances)).toEqual(Array.from(expected.distances));
    for (let i = 0; i < nq; i++) {
      const cut = expected.distances[i * k + k - 1];
      const row = (r: SearchResult) => Array.from(r.labels.subarray(i * k, i * k + k));
      const before = (r: SearchResult) => row(r).filter((_, j) => expected.distances[i * k + j] !== cut);
      expect(before(merged)).toEqual(before(expected));
      const group = row(merged).filter((_, j) => expected.distances[i * k + j] === cut);
      const members = Array.from({ length: 5 }, (_, c) => BigInt(c * 200 + Number(group[0] % 200n)));
      expect(group.every((id) => members.includes(id))).toBe(true);
      expect(group).toEqual([...group].sort((a, b) => Number(b - a)));
    }
  });

  it('pads with -1 where the shards hold fewer than k, as one index does', () => {
    const small = flat(metric);
    small.addSync(all.subarray(0, 3 * d));
    const other = new IndexIDMap(flat(metric));
    other.addWithIdsSync(all.subarray(3 * d, 5 * d), BigInt64Array.from([3n, 4n]));
    const q = queries(4);
    const both = flat(metric);
    both.addSync(all.subarray(0, 5 * d));
    expectSame(mergeResults([small.searchSync(q, 8), other.searchSync(q, 8)], 8, metric), both.searchSync(q, 8));
  });

  it.each([true, false])('IndexShards (threaded %s, successive ids) equals one index', async (threaded) => {
    const shards = new IndexShards(d, threaded);
    for (let s = 0; s < 4; s++) shards.addShard(flat(metric));
    await shards.add(all);
    expect(shards.ntotal).toBe(n);
    expect(shards.shards.map((s) => s.ntotal)).toEqual([250, 250, 250, 250]);
    const q = queries(30);
    expectSame(await shards.search(q, 20), one.searchSync(q, 20));
    expectSame(shards.searchSync(q, 20), one.searchSync(q, 20));
  });
});

describe('IndexShards', () => {
  it('with ids kept apart, over IVF shards of one trained index, equals the one IVF index', async () => {
    const x = randomVectors(4000, 16, 31);
    const trained = indexFactory(16, 'IVF32,Flat', METRIC_INNER_PRODUCT);
    trained.trainSync(x);
    const one = trained; // fills after the shards are copied from it empty
    const bytes = one.serializeSync();
    const { deserializeIndexSync } = await import('../lib');
    const shards = new IndexShards(16, true, false);
    for (let s = 0; s < 3; s++) shards.addShard(deserializeIndexSync(bytes));
    const ids = BigInt64Array.from({ length: 4000 }, (_, i) => BigInt(i * 7 + 3));
    await shards.add(x, ids);
    one.addWithIdsSync(x, ids);
    const q = randomVectors(25, 16, 32);
    expectSame(await shards.search(q, 10, { nprobe: 4 }), one.searchSync(q, 10, { nprobe: 4 }));
  });

  it('bad input gets TypeError or RangeError', () => {
    const shards = new IndexShards(d);
    expect(() => shards.searchSync(queries(1), 1)).toThrow(/no shards/);
    shards.addShard(new IndexFlatIP(d));
    expect(() => shards.addShard(new IndexFlatIP(d + 1))).toThrow(RangeError);
    expect(() => shards.addShard(new IndexFlatL2(d))).toThrow(/metric/);
    expect(() => shards.addSync(all, [1n])).toThrow(TypeError);
    expect(() => mergeResults([], 1)).toThrow(TypeError);
    const r = new IndexFlatIP(d).searchSync(queries(2), 3);
    expect(() => mergeResults([r, new IndexFlatIP(d).searchSync(queries(3), 3)], 3)).toThrow(/nq=3/);
    expect(() => mergeResults([r], 0)).toThrow(RangeError);
    expect(() => mergeResults([{ labels: [], distances: [] } as never], 1)).toThrow(TypeError);
  });
});

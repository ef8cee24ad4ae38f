// Filtered search stays right at every selectivity: recall@10 >= 0.95 against exact search over
// the allowed ids, for filters keeping 0.1% to 50% of the ids, chosen at random or among the
// vectors farthest from the queries, on the SIFT sample and on clustered synthetic data, for
// every index family, alone and under IDMaps. The truth is brute force in float64 over the
// vectors each index stores (its decoded codes, for compressed ones), computed here.
import { describe, expect, it } from 'vitest';
import { indexFactory, IndexIDMap, METRIC_L2, type Index, type IdFilterLike } from '../lib';
import { rng, sift } from './helpers/data';

const K = 10;
const NQ = 20;
const SHARES = [0.001, 0.01, 0.05, 0.2, 0.5];

interface Dataset {
  name: string;
  d: number;
  base: Float32Array;
  queries: Float32Array;
}

function siftSet(): Dataset {
  const { d, base, queries } = sift();
  return { name: 'SIFT', d, base, queries: queries.subarray(0, NQ * d) };
}

/** 10,000 vectors of d=64 around 50 centres, and queries drawn the same way. */
function clustered(): Dataset {
  const d = 64;
  const next = rng(7);
  const normal = () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  const centres = Float32Array.from({ length: 50 * d }, () => normal() * 4);
  const draw = (n: number) => {
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(next() * 50);
      for (let j = 0; j < d; j++) out[i * d + j] = centres[c * d + j] + normal();
    }
    return out;
  };
  return { name: 'clustered', d, base: draw(10_000), queries: draw(NQ) };
}

interface Family {
  name: string;
  factory: string;
  /** Search parameters of the unfiltered operating point (recall@10 >= 0.95 without a filter). */
  params: { nprobe?: number; efSearch?: number };
  /** Ids under an IDMap: 10 + 7i. */
  ids?: boolean;
}

const FAMILIES: Family[] = [
  { name: 'Flat', factory: 'Flat', params: {} },
  { name: 'SQ8', factory: 'SQ8', params: {} },
  { name: 'IVF-Flat', factory: 'IVF64,Flat', params: { nprobe: 16 } },
  { name: 'IVF-SQ8', factory: 'IVF64,SQ8', params: { nprobe: 16 } },
  { name: 'IVF-PQ', factory: 'IVF64,PQ16', params: { nprobe: 16 } },
  { name: 'HNSW', factory: 'HNSW32', params: { efSearch: 64 } },
  { name: 'IDMap(Flat)', factory: 'IDMap,Flat', params: {}, ids: true },
  { name: 'IDMap2(HNSW)', factory: 'IDMap2,HNSW32', params: { efSearch: 64 }, ids: true },
  { name: 'IDMap(IVF-SQ8)', factory: 'IDMap,IVF64,SQ8', params: { nprobe: 16 }, ids: true },
];

const idOf = (family: Family, i: number) => (family.ids ? 10 + 7 * i : i);

/** The vectors the index stores, decoded, by position. */
function stored(index: Index, family: Family, data: Dataset): Float32Array {
  const n = data.base.length / data.d;
  if (/^(IDMap2?,)?(Flat|HNSW32)$/.test(family.factory)) return data.base;
  if (!family.factory.includes('IVF')) return index.reconstructNSync(0, n);
  // An IDMap's inner index numbers its vectors by position.
  const ivf = index instanceof IndexIDMap ? index.index : index;
  ivf.makeDirectMap();
  const out = new Float32Array(n * data.d);
  for (let i = 0; i < n; i++) out.set(ivf.reconstructSync(i), i * data.d);
  return out;
}

/** Squared L2 distances, query by row, in float64. */
function allDistances(vectors: Float32Array, data: Dataset): Float64Array[] {
  const { d } = data;
  const n = vectors.length / d;
  return Array.from({ length: NQ }, (_, q) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = data.queries[q * d + j] - vectors[i * d + j];
        s += t * t;
      }
      out[i] = s;
    }
    return out;
  });
}

/** Allowed positions: a random share, or the share farthest from the queries' mean. */
function allowedPositions(data: Dataset, share: number, adversarial: boolean): number[] {
  const { d } = data;
  const n = data.base.length / d;
  const m = Math.max(1, Math.round(n * share));
  if (!adversarial) {
    const next = rng(Math.round(share * 1e6) + 11);
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order.slice(0, m);
  }
  const mean = new Float64Array(d);
  for (let q = 0; q < NQ; q++) for (let j = 0; j < d; j++) mean[j] += data.queries[q * d + j] / NQ;
  const far = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (data.base[i * d + j] - mean[j]) ** 2;
    return { i, s };
  });
  return far.sort((a, b) => b.s - a.s).slice(0, m).map((e) => e.i);
}

/** Mean recall@K of the results against brute force over the allowed positions. */
function recall(labels: BigInt64Array, distances: Float64Array[], allowed: number[], family: Family): number {
  let found = 0;
  let wanted = 0;
  for (let q = 0; q < NQ; q++) {
    const truth = [...allowed].sort((a, b) => distances[q][a] - distances[q][b] || a - b).slice(0, K);
    // Ties at the K-th distance: any of them is right.
    const kth = distances[q][truth[truth.length - 1]];
    const right = new Set(allowed.filter((i) => distances[q][i] <= kth).map((i) => idOf(family, i)));
    const got = Array.from(labels.subarray(q * K, (q + 1) * K), Number).filter((l) => l >= 0);
    found += Math.min(truth.length, got.filter((l) => right.has(l)).length);
    wanted += truth.length;
  }
  return found / wanted;
}

describe.each([
  { name: 'SIFT', load: siftSet },
  { name: 'clustered', load: clustered },
])('filtered recall@10 >= 0.95 at every selectivity ($name)', ({ load }) => {
  const data = load();
  const n = data.base.length / data.d;
  const rows: string[] = [];

  it.each(FAMILIES)('$name', async (family) => {
    const index = indexFactory(data.d, family.factory, METRIC_L2);
    await index.train(data.base);
    if (family.ids) await index.addWithIds(data.base, BigInt64Array.from({ length: n }, (_, i) => BigInt(idOf(family, i))));
    else await index.add(data.base);
    const distances = allDistances(stored(index, family, data), data);
    const line: string[] = [];
    for (const adversarial of [false, true]) {
      for (const share of SHARES) {
        const allowed = allowedPositions(data, share, adversarial);
        const filter: IdFilterLike = BigInt64Array.from(allowed, (i) => BigInt(idOf(family, i)));
        const result = await index.search(data.queries, K, { ...family.params, filter });
        const r = recall(result.labels, distances, allowed, family);
        line.push(`${r.toFixed(3)} ${result.plan}`);
        expect(r, `${family.name}, ${share * 100}% ${adversarial ? 'farthest' : 'random'} (${result.plan})`).toBeGreaterThanOrEqual(0.95);
      }
    }
    rows.push(`${family.name}: ${line.join(' | ')}`);
    index.dispose();
  });

  it('table', () => {
    console.log(`filter-recall on ${data.name} (random ${SHARES.join('/')}, then farthest):\n${rows.join('\n')}`);
  });
});

// Binary indexes (IndexBinaryFlat, IVF, HNSW, IDMap, IDMap2), binarize and Index.rescore:
// results against a brute-force Hamming search written here, filters on every type, ids,
// removal, files, bad input, and load-time checks of corrupted files. Python parity is in
// test/parity/binary.spec.ts.
import { describe, expect, it } from 'vitest';
import {
  binarize,
  deserializeIndexBinarySync,
  FaissError,
  IdFilter,
  IndexBinary,
  indexBinaryFactory,
  IndexBinaryFlat,
  IndexBinaryHNSW,
  IndexBinaryIDMap,
  IndexBinaryIDMap2,
  IndexBinaryIVF,
  IndexFlatIP,
  IndexFlatL2,
  IndexIVFFlat,
  IndexScalarQuantizer,
  METRIC_L2,
  readIndexBinary,
} from '../lib';
import { randomVectors, rng } from './helpers/data';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const d = 128;
const cs = d / 8;
const n = 3000;
const nq = 40;
const K = 10;

/** Random codes with structure: 30 centres, each code a centre with ~12% of its bits flipped. */
function codes(count: number, seed: number): Uint8Array {
  const r = rng(seed);
  const centres = Array.from({ length: 30 }, () => Uint8Array.from({ length: cs }, () => Math.floor(r() * 256)));
  const out = new Uint8Array(count * cs);
  for (let i = 0; i < count; i++) {
    const c = centres[Math.floor(r() * centres.length)];
    for (let j = 0; j < cs; j++) {
      let flip = 0;
      for (let b = 0; b < 8; b++) if (r() < 0.12) flip |= 1 << b;
      out[i * cs + j] = c[j] ^ flip;
    }
  }
  return out;
}

const popcount = (b: number) => {
  let c = 0;
  for (; b; b &= b - 1) c++;
  return c;
};

/** The k smallest Hamming distances of each query among the allowed positions (brute force). */
function bruteForce(base: Uint8Array, queries: Uint8Array, k: number, allowed: (i: number) => boolean = () => true): number[][] {
  const out: number[][] = [];
  for (let q = 0; q < queries.length / cs; q++) {
    const dist: number[] = [];
    for (let i = 0; i < base.length / cs; i++) {
      if (!allowed(i)) continue;
      let h = 0;
      for (let j = 0; j < cs; j++) h += popcount(base[i * cs + j] ^ queries[q * cs + j]);
      dist.push(h);
    }
    out.push(dist.sort((a, b) => a - b).slice(0, k));
  }
  return out;
}

/** Share of results within the true k-th distance of their query (ties count), and whether every label is allowed. */
function recall(result: { distances: Int32Array; labels: BigInt64Array }, truth: number[][], allowed: (id: bigint) => boolean = () => true) {
  let hits = 0;
  let allAllowed = true;
  truth.forEach((row, q) => {
    for (let j = 0; j < K; j++) {
      if (result.labels[q * K + j] >= 0n && result.distances[q * K + j] <= row[K - 1]) hits++;
      if (!allowed(result.labels[q * K + j])) allAllowed = false;
    }
  });
  return { recall: hits / (truth.length * K), allAllowed };
}

const base = codes(n, 1);
const queries = codes(nq, 2);
const truth = bruteForce(base, queries, K);

function filled<T extends IndexBinary>(index: T): T {
  if (!index.isTrained) index.trainSync(base);
  index.addSync(base);
  return index;
}

describe('binary indexes: results against brute force', () => {
  it('IndexBinaryFlat: the exact Hamming distances, nearest first; k beyond ntotal pads with -1', async () => {
    const index = filled(new IndexBinaryFlat(d));
    expect([index.d, index.codeSize, index.ntotal, index.isTrained]).toEqual([d, cs, n, true]);
    const r = await index.search(queries, K);
    expect(Array.from(r.distances)).toEqual(truth.flat());
    const small = new IndexBinaryFlat(d);
    small.addSync(base.subarray(0, 3 * cs));
    const padded = small.searchSync(queries.subarray(0, cs), 5);
    expect(Array.from(padded.labels.subarray(3))).toEqual([-1n, -1n]);
    expect(Array.from(padded.distances.subarray(3))).toEqual([2 ** 31 - 1, 2 ** 31 - 1]);
  });

  it('IndexBinaryIVF: exact with every list probed, nprobe per call or on the index, maxCodes', () => {
    const index = filled(new IndexBinaryIVF(new IndexBinaryFlat(d), d, 32));
    expect([index.nlist, index.nprobe]).toEqual([32, 1]);
    expect(Array.from(index.searchSync(queries, K, { nprobe: 32 }).distances)).toEqual(truth.flat());
    const one = recall(index.searchSync(queries, K), truth).recall;
    index.nprobe = 8;
    const eight = recall(index.searchSync(queries, K), truth).recall;
    expect(eight).toBeGreaterThanOrEqual(one);
    expect(eight).toBeGreaterThan(0.9);
    // maxCodes stops the scan early: fewer codes seen, no better results.
    expect(recall(index.searchSync(queries, K, { nprobe: 32, maxCodes: 50 }), truth).recall).toBeLessThan(1);
  });

  it('IndexBinaryHNSW: recall near 1 with a wide efSearch (per call or on the index); efConstruction', () => {
    const index = new IndexBinaryHNSW(d, 16);
    expect([index.efSearch, index.efConstruction]).toEqual([16, 40]);
    index.efConstruction = 80;
    filled(index);
    expect(recall(index.searchSync(queries, K, { efSearch: 256 }), truth).recall).toBeGreaterThan(0.98);
    index.efSearch = 256;
    expect(recall(index.searchSync(queries, K), truth).recall).toBeGreaterThan(0.98);
  });

  it("indexBinaryFactory: Python's descriptions, each searching like its typed class", () => {
    expect(indexBinaryFactory(d, 'BFlat')).toBeInstanceOf(IndexBinaryFlat);
    expect(indexBinaryFactory(d, 'BHNSW8')).toBeInstanceOf(IndexBinaryHNSW);
    const ivf = filled(indexBinaryFactory(d, 'BIVF16_HNSW8'));
    expect(ivf).toBeInstanceOf(IndexBinaryIVF);
    expect(recall(ivf.searchSync(queries, K, { nprobe: 16 }), truth).recall).toBeGreaterThan(0.95);
    expect(() => indexBinaryFactory(d, 'BHash8')).toThrow(/does not load faiss::IndexBinaryHash/);
    expect(() => indexBinaryFactory(d, 'nonsense')).toThrow(/cannot parse binary factory string 'nonsense'/);
  });
});

describe('binary indexes: filters, ids, removal', () => {
  const keep = (i: number) => i % 10 === 3;
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  for (let i = 0; i < n; i++) if (keep(i)) bitmap[i >> 3] |= 1 << (i & 7);
  const filteredTruth = bruteForce(base, queries, K, keep);
  const allowed = (id: bigint) => id < 0n || keep(Number(id));

  it.each([
    ['IndexBinaryFlat', () => filled(new IndexBinaryFlat(d)), {}, 'index'],
    ['IndexBinaryIVF nprobe 2', () => filled(new IndexBinaryIVF(new IndexBinaryFlat(d), d, 32)), { nprobe: 2 }, 'widened'],
    ['IndexBinaryHNSW', () => filled(new IndexBinaryHNSW(d, 16)), {}, 'exact'],
  ] as const)('%s: 10%% allowed, only allowed ids, recall against the filtered brute force', (_, make, options, plan) => {
    const index = make();
    for (const filter of [{ bitmap }, new IdFilter({ bitmap }), { ids: Array.from({ length: n }, (_, i) => i).filter(keep) }]) {
      const r = index.searchSync(queries, K, { ...options, filter });
      expect(r.plan).toBe(plan);
      const { recall: got, allAllowed } = recall(r, filteredTruth, allowed);
      expect(allAllowed).toBe(true);
      expect(got).toBeGreaterThan(0.95);
    }
  });

  it('IndexBinaryHNSW with most ids allowed walks the graph, widened, and keeps recall', () => {
    const index = filled(new IndexBinaryHNSW(d, 16));
    const most = (i: number) => i % 10 !== 3;
    const r = index.searchSync(queries, K, { efSearch: 64, filter: { range: [0, n], not: false } });
    expect(r.plan).toBe('exact'); // 3000 allowed: fewer than the codes a walk is worth
    // Bits of low-rank floats (SimHash of 8-d points): codes with the locality a graph needs.
    const lowRank = (count: number, seed: number) => {
      const mix = randomVectors(d, 8, 77);
      const z = randomVectors(count, 8, seed);
      const x = new Float32Array(count * d);
      for (let i = 0; i < count; i++) for (let k = 0; k < d; k++) for (let j = 0; j < 8; j++) x[i * d + k] += mix[k * 8 + j] * z[i * 8 + j];
      return binarize(x, d);
    };
    const many = lowRank(80000, 3);
    const asked = lowRank(nq, 4);
    const big = new IndexBinaryHNSW(d, 16);
    big.addSync(many);
    const bits = new Uint8Array(Math.ceil(80000 / 8));
    for (let i = 0; i < 80000; i++) if (most(i)) bits[i >> 3] |= 1 << (i & 7);
    const walked = big.searchSync(asked, K, { efSearch: 64, filter: { bitmap: bits } });
    expect(walked.plan).toBe('widened');
    const { recall: got, allAllowed } = recall(walked, bruteForce(many, asked, K, most), (id) => id < 0n || most(Number(id)));
    expect(allAllowed).toBe(true);
    expect(got).toBeGreaterThan(0.95);
    big.dispose();
  });

  it('IDMap and IDMap2: your ids in results and filters; IDMap2 reconstructs by id; the sub-index changes only through them', () => {
    const ids = BigInt64Array.from({ length: n }, (_, i) => 2n ** 60n + BigInt(i) * 7n);
    const sub = new IndexBinaryHNSW(d, 16);
    const index = new IndexBinaryIDMap2(sub);
    index.addWithIdsSync(base, ids);
    expect(index.ntotal).toBe(n);
    expect(Array.from(index.reconstructSync(ids[5]))).toEqual(Array.from(base.subarray(5 * cs, 6 * cs)));
    const r = index.searchSync(queries, K, { efSearch: 200, filter: { ids: Array.from(ids).filter((_, i) => keep(i)) } });
    const { recall: got, allAllowed } = recall(r, filteredTruth, (id) => id < 0n || keep(Number((id - 2n ** 60n) / 7n)));
    expect(allAllowed).toBe(true);
    expect(got).toBeGreaterThan(0.95);
    expect(() => sub.addSync(base)).toThrow(/part of another/);
    const flatMap = new IndexBinaryIDMap(new IndexBinaryFlat(d));
    flatMap.addWithIdsSync(base, ids);
    expect(flatMap.removeIdsSync([ids[0], ids[1]])).toBe(2);
    expect(flatMap.ntotal).toBe(n - 2);
    expect(() => flatMap.reconstructSync(ids[3])).toThrow(FaissError);
  });

  it('removeIds: flat renumbers, IVF by id, HNSW refuses; reset keeps training', () => {
    const flat = filled(new IndexBinaryFlat(d));
    expect(flat.removeIdsSync({ range: [0, 100] })).toBe(100);
    expect(Array.from(flat.reconstructSync(0))).toEqual(Array.from(base.subarray(100 * cs, 101 * cs)));
    const ivf = filled(new IndexBinaryIVF(new IndexBinaryFlat(d), d, 16));
    expect(ivf.removeIdsSync([5n, 6n, 7n])).toBe(3);
    expect(ivf.searchSync(queries, n, { nprobe: 16 }).labels.includes(6n)).toBe(false);
    ivf.resetSync();
    expect([ivf.ntotal, ivf.isTrained]).toEqual([0, true]);
    expect(() => ivf.reconstructSync(0)).toThrow(FaissError);
    ivf.addSync(base);
    ivf.makeDirectMap();
    expect(Array.from(ivf.reconstructSync(9))).toEqual(Array.from(base.subarray(9 * cs, 10 * cs)));
    expect(() => filled(new IndexBinaryHNSW(d, 8)).removeIdsSync([1])).toThrow(FaissError);
  });
});

describe('binary indexes: bad input', () => {
  it('dimensions, codes, k, untrained indexes, options and disposed indexes give clear errors', async () => {
    expect(() => new IndexBinaryFlat(12)).toThrow(/multiple of 8/);
    expect(() => new IndexBinaryFlat(0)).toThrow(RangeError);
    const flat = new IndexBinaryFlat(d);
    expect(() => flat.addSync(new Uint8Array(cs + 1))).toThrow(/multiple of d\/8=16 bytes/);
    expect(() => flat.addSync(new Float32Array(cs) as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => flat.addSync([[1, 2, 3]])).toThrow(/array of d\/8=16 bytes/);
    expect(() => flat.addSync([Array(cs).fill(256)])).toThrow(/integers 0\.\.255/);
    flat.addSync(base);
    expect(() => flat.searchSync(queries, 0)).toThrow(/k must be an integer of at least 1/);
    expect(() => flat.searchSync(queries, K, { nprobe: 4 })).toThrow(/option 'nprobe' applies to indexes with an IVF layer/);
    expect(() => flat.searchSync(queries, K, { kFactor: 2 } as never)).toThrow(TypeError);
    expect(() => flat.searchSync(queries, K, { plan: 'exact' } as never)).toThrow(/choose their filtered plan/);
    expect(() => flat.nprobe).toThrow(/no IVF layer/);
    expect(() => flat.searchSync(queries, K, { out: { distances: new Float32Array(nq * K), labels: new BigInt64Array(nq * K) } as never })).toThrow(
      /Int32Array/,
    );
    const ivf = new IndexBinaryIVF(new IndexBinaryFlat(d), d, 16);
    expect(() => ivf.addSync(base)).toThrow(/untrained IndexBinaryIVF: call train\(\) first/);
    expect(() => ivf.trainSync(base.subarray(0, 8 * cs))).toThrow(/at least nlist=16/);
    expect(() => new IndexBinaryIVF(new IndexBinaryFlat(64), d, 16)).toThrow(/quantizer has d=64 bits/);
    expect(() => new IndexBinaryIVF(new IndexFlatL2(d) as never, d, 16)).toThrow(/must be a faiss-native IndexBinary/);
    expect(() => flat.reconstructSync(n)).toThrow(/outside 0\.\.3000/);
    flat.dispose();
    expect(() => flat.ntotal).toThrow(/disposed/);
    await expect(flat.search(queries, K)).rejects.toThrow(/disposed/);
  });
});

describe('binary files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-binary-'));

  it.each([
    ['IndexBinaryFlat', () => filled(new IndexBinaryFlat(d)), {}],
    ['IndexBinaryIVF', () => filled(new IndexBinaryIVF(new IndexBinaryFlat(d), d, 16)), { nprobe: 4 }],
    ['IndexBinaryHNSW', () => filled(new IndexBinaryHNSW(d, 8)), { efSearch: 32 }],
    ['IndexBinaryIDMap2', () => {
      const index = new IndexBinaryIDMap2(new IndexBinaryFlat(d));
      index.addWithIdsSync(base, BigInt64Array.from({ length: n }, (_, i) => BigInt(i * 3)));
      return index;
    }, {}],
  ] as const)('%s: write/read and serialize/deserialize give the same class and results', async (name, make, options) => {
    const index = make();
    const file = path.join(dir, `${name}.bindex`);
    await index.write(file);
    const read = await readIndexBinary(file);
    const bytes = await index.serialize();
    const back = deserializeIndexBinarySync(bytes);
    for (const copy of [read, back]) {
      expect(copy.constructor.name).toBe(name);
      expect(copy.searchSync(queries, K, options)).toEqual(index.searchSync(queries, K, options));
    }
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('truncated and corrupted files are a FaissError CORRUPT_INDEX, never a crash; float files are refused', async () => {
    const good = filled(new IndexBinaryHNSW(d, 8)).serializeSync();
    for (const cut of [0, 3, 4, 20, 60, good.length >> 1, good.length - 1]) {
      expect(() => deserializeIndexBinarySync(good.subarray(0, cut)), `cut ${cut}`).toThrow(FaissError);
    }
    // The graph's fields before its storage ("IBxF"): the last link, then entry point, max level,
    // efConstruction, efSearch and a spare int. A link or an entry point past ntotal is refused.
    const storage = good.indexOf('IBxF');
    for (const [at, what] of [[storage - 24, /HNSW link points outside the index/], [storage - 20, /HNSW entry point outside the index/]] as const) {
      const bad = Buffer.from(good);
      bad.writeInt32LE(n + 5, at);
      expect(() => deserializeIndexBinarySync(bad)).toThrow(what);
      try {
        deserializeIndexBinarySync(bad);
      } catch (e) {
        expect((e as FaissError).code).toBe('CORRUPT_INDEX');
      }
    }
    const ivfBytes = filled(new IndexBinaryIVF(new IndexBinaryFlat(d), d, 16)).serializeSync();
    const wrongD = Buffer.from(ivfBytes);
    wrongD.writeInt32LE(100, 4); // d = 100 bits: not whole bytes
    expect(() => deserializeIndexBinarySync(wrongD)).toThrow(/a positive multiple of 8/);
    const floatIndex = new IndexFlatIP(d);
    expect(() => deserializeIndexBinarySync(floatIndex.serializeSync())).toThrow(/not recognized/);
    await expect(readIndexBinary(path.join(dir, 'missing.bindex'))).rejects.toMatchObject({ code: 'IO_ERROR' });
  });
});

describe('binarize', () => {
  it("numpy's packbits(x > 0, axis=-1): first dimension in the high bit; NaN is 0; rows of d not a multiple of 8 end in zeros", () => {
    const x = new Float32Array([1, -1, 0, 2, NaN, 3, -3, 0.1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(binarize(x, 8))).toEqual([0b10010101, 0xff]);
    expect(Array.from(binarize(new Float32Array([1, 1, 1, 1, 1, 1, 1, 1, 1, -1, 1, 1, 1, 1, 1, 1, 1, 1]), 9))).toEqual([0xff, 0x80, 0x7f, 0x80]);
    expect(Array.from(binarize(new Float32Array([5, 5, 0, 9, 1, 1, 1, 1]), 8, new Float32Array([4, 6, 0, 8, 0, 2, 0, 2])))).toEqual([0b10011010]);
    expect(() => binarize(x, 7)).toThrow(/multiple of d=7/);
    expect(() => binarize(x, 8, new Float32Array(3))).toThrow(/thresholds must be a Float32Array of d=8/);
  });
});

describe('Index.rescore', () => {
  const fd = 32;
  const floats = randomVectors(2000, fd, 5);
  const fq = randomVectors(20, fd, 6);

  it("re-ranks candidates by the index's own distances: the same as a search restricted to them", () => {
    for (const index of [new IndexFlatL2(fd), new IndexFlatIP(fd)]) {
      index.addSync(floats);
      const kIn = 50;
      const candidates = { labels: new BigInt64Array(20 * kIn), k: kIn };
      const r = rng(9);
      for (let q = 0; q < 20; q++) {
        const picked = new Set<bigint>();
        while (picked.size < kIn - 1) picked.add(BigInt(Math.floor(r() * 2000)));
        candidates.labels.set([...picked, -1n], q * kIn);
      }
      const got = index.rescoreSync(fq, candidates, K);
      for (let q = 0; q < 20; q++) {
        const row = candidates.labels.subarray(q * kIn, (q + 1) * kIn).filter((l) => l >= 0n);
        const want = index.searchSync(fq.subarray(q * fd, (q + 1) * fd), K, { filter: { ids: row } });
        expect(Array.from(got.labels.subarray(q * K, (q + 1) * K))).toEqual(Array.from(want.labels));
        expect(Array.from(got.distances.subarray(q * K, (q + 1) * K))).toEqual(Array.from(want.distances));
      }
    }
  });

  it('binary first pass, SQ8 re-rank: recall above the binary pass alone', async () => {
    const bits = binarize(floats, fd);
    const binary = new IndexBinaryFlat(fd);
    binary.addSync(bits);
    const sq8 = new IndexScalarQuantizer(fd, 'QT_8bit', METRIC_L2);
    sq8.trainSync(floats);
    sq8.addSync(floats);
    const exact = new IndexFlatL2(fd);
    exact.addSync(floats);
    const want = exact.searchSync(fq, K).labels;
    const hit = (labels: BigInt64Array) => labels.filter((l, i) => want.subarray(Math.floor(i / K) * K, Math.floor(i / K) * K + K).includes(l)).length / want.length;
    const alone = binary.searchSync(binarize(fq, fd), K);
    const first = binary.searchSync(binarize(fq, fd), K * 20);
    const reranked = await sq8.rescore(fq, first, K);
    expect(hit(reranked.labels)).toBeGreaterThan(hit(alone.labels) + 0.2);
  });

  it('refuses candidates outside the index, malformed candidates, and indexes whose ids are not positions', () => {
    const index = new IndexFlatL2(fd);
    index.addSync(floats);
    expect(() => index.rescoreSync(fq, { labels: new BigInt64Array(20 * 3).fill(2000n), k: 3 }, 2)).toThrow(/is outside 0\.\.2000/);
    expect(() => index.rescoreSync(fq, { labels: new BigInt64Array(7), k: 3 }, 2)).toThrow(/k=3 labels for each of the 20 queries/);
    expect(() => index.rescoreSync(fq, [] as never, 2)).toThrow(TypeError);
    const ivf = new IndexIVFFlat(new IndexFlatL2(fd), fd, 4);
    ivf.trainSync(floats);
    ivf.addSync(floats);
    expect(() => ivf.rescoreSync(fq, { labels: new BigInt64Array(20), k: 1 }, 1)).toThrow(/rescore needs an index whose ids are positions/);
  });
});

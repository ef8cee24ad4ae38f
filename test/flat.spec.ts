// IndexFlatIP / IndexFlatL2 against a brute force computed in the test, on random and real data.
import { describe, expect, it } from 'vitest';
import { buildInfo, getNumThreads, IndexFlatIP, IndexFlatL2, METRIC_INNER_PRODUCT, METRIC_L2, setNumThreads } from '../lib';
import { native } from '../lib/native';
import { bruteForce, score } from './helpers/brute-force';
import { randomVectors, rng, sift } from './helpers/data';
import { expectExact } from './helpers/expect-exact';

describe.each([
  ['ip', IndexFlatIP, METRIC_INNER_PRODUCT],
  ['l2', IndexFlatL2, METRIC_L2],
] as const)('IndexFlat %s', (metric, IndexClass, metricType) => {
  it('reports d, ntotal, isTrained and metricType', () => {
    const index = new IndexClass(16);
    expect(index.d).toBe(16);
    expect(index.ntotal).toBe(0);
    expect(index.isTrained).toBe(true);
    expect(index.metricType).toBe(metricType);
    index.addSync(randomVectors(10, 16, 1));
    expect(index.ntotal).toBe(10);
    index.dispose();
  });

  // nq below and above 20 take FAISS's two code paths (direct scan, then BLAS).
  it.each([
    [8, 500, 1, 1],
    [32, 1000, 10, 5],
    [64, 2000, 5, 40],
    [100, 300, 17, 25],
  ])('d=%i n=%i k=%i nq=%i equals brute force (sync)', (d, n, k, nq) => {
    const base = randomVectors(n, d, d * 7 + n);
    const queries = randomVectors(nq, d, d * 13 + nq);
    const index = new IndexClass(d);
    index.addSync(base);
    const result = index.searchSync(queries, k);
    expect(result.nq).toBe(nq);
    expect(result.k).toBe(k);
    expect(result.distances).toHaveLength(nq * k);
    expect(result.labels).toHaveLength(nq * k);
    expectExact(metric, result, base, queries, d);
  });

  it('async add and search equal brute force', async () => {
    const d = 24;
    const base = randomVectors(800, d, 5);
    const queries = randomVectors(30, d, 6);
    const index = new IndexClass(d);
    await index.add(base.subarray(0, 400 * d));
    await index.add(base.subarray(400 * d));
    expect(index.ntotal).toBe(800);
    expectExact(metric, await index.search(queries, 7), base, queries, d);
  });

  it('pads with label -1 when k > ntotal, as FAISS does', async () => {
    const d = 8;
    const base = randomVectors(3, d, 9);
    const queries = randomVectors(4, d, 10);
    const index = new IndexClass(d);
    index.addSync(base);
    const result = await index.search(queries, 5);
    for (let q = 0; q < 4; q++) {
      expect(Array.from(result.labels.subarray(q * 5 + 3, q * 5 + 5))).toEqual([-1n, -1n]);
    }
    expectExact(metric, result, base, queries, d);
  });
});

describe('vector views and inputs', () => {
  it('honours the byteOffset of a Float32Array view', () => {
    const d = 4;
    const backing = new Float32Array(100);
    const base = backing.subarray(3, 3 + 5 * d); // starts 12 bytes into the buffer
    base.set(randomVectors(5, d, 11));
    const index = new IndexFlatL2(d);
    index.addSync(base);
    const result = index.searchSync(base.subarray(2 * d, 3 * d), 1);
    expect(result.labels[0]).toBe(2n);
    expect(result.distances[0]).toBe(0);
  });

  it('accepts number[][] as a convenience', () => {
    const index = new IndexFlatIP(3);
    index.addSync([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const { labels, distances } = index.searchSync([[0, 2, 1]], 3);
    expect(Array.from(labels)).toEqual([1n, 2n, 0n]);
    expect(Array.from(distances)).toEqual([2, 1, 0]);
  });

  it('writes into caller-supplied result arrays, viewed to nq * k', () => {
    const index = new IndexFlatIP(2);
    index.addSync(new Float32Array([1, 0, 0, 1]));
    const out = { distances: new Float32Array(10), labels: new BigInt64Array(10) };
    const result = index.searchSync(new Float32Array([3, 1]), 2, { out });
    expect(result.distances.buffer).toBe(out.distances.buffer);
    expect(result.labels.buffer).toBe(out.labels.buffer);
    expect(Array.from(out.labels.subarray(0, 2))).toEqual([0n, 1n]);
    expect(Array.from(out.distances.subarray(0, 2))).toEqual([3, 1]);
  });
});

describe('real data: SIFT sample', () => {
  it.each(['ip', 'l2'] as const)('%s search of 100 held-out queries equals brute force at k=10', (metric) => {
    const { d, base, queries } = sift();
    const q = queries.subarray(0, 100 * d);
    const index = metric === 'ip' ? new IndexFlatIP(d) : new IndexFlatL2(d);
    index.addSync(base);
    expectExact(metric, index.searchSync(q, 10), base, q, d);
  });
});

it(`runs the SIMD variant the environment asks for (FAISS_OPT_LEVEL=${process.env.FAISS_OPT_LEVEL ?? 'unset'})`, () => {
  const requested = process.env.FAISS_OPT_LEVEL;
  if (requested) expect(buildInfo.simdLevel).toBe(requested);
  const marker = { generic: /^(?!.*AVX)/, avx2: /AVX2/, avx512: /AVX512/ }[buildInfo.simdLevel];
  expect(buildInfo.compileOptions).toMatch(marker);
});

// A few queries over a flat index run on every thread (native/split_search.cc): threads compute
// slices of the distances with FAISS's kernels and FAISS's result handlers take them in id
// order, so results must equal FAISS's one-thread scan bit for bit, ties included.
describe('one query (or a few) on every thread', () => {
  const d = 64;
  const n = 20_000; // 1.28M floats, above the 4 MB the split needs
  const next = rng(5);
  // Values in {0, 1, 2}: many vectors tie on every distance.
  const base = Float32Array.from({ length: n * d }, () => Math.floor(next() * 3));
  const queries = Float32Array.from({ length: 20 * d }, () => Math.floor(next() * 3));
  const each = (index: IndexFlatIP | IndexFlatL2, k: number) =>
    Array.from({ length: 20 }, (_, q) => index.searchSync(queries.subarray(q * d, (q + 1) * d), k));

  it.each([
    ['ip', IndexFlatIP],
    ['l2', IndexFlatL2],
  ] as const)('%s: the same distances and labels as the one-thread scan for k = 1, 10, 99; k = 100 stays on one thread', (metric, IndexClass) => {
    const index = new IndexClass(d);
    index.addSync(base);
    const threads = getNumThreads();
    const truth = Array.from({ length: 20 }, (_, q) => bruteForce(metric, base, queries.subarray(q * d, (q + 1) * d), d, 100).scores[0]);
    let ties = 0;
    try {
      for (const k of [1, 10, 99, 100]) {
        setNumThreads(1);
        const serial = each(index, k);
        setNumThreads(2);
        const before = native.flatSplitSearches();
        const split = each(index, k);
        expect(native.flatSplitSearches() - before, `k=${k}`).toBe(k < 100 ? 20 : 0);
        expect(split, `k=${k}`).toEqual(serial);
        // Batches under FAISS's BLAS threshold (nq < 20) take the same kernel, each vector read once.
        for (const nq of [5, 19]) {
          setNumThreads(1);
          const serialBatch = index.searchSync(queries.subarray(0, nq * d), k);
          setNumThreads(2);
          const at = native.flatSplitSearches();
          expect(index.searchSync(queries.subarray(0, nq * d), k), `k=${k} nq=${nq}`).toEqual(serialBatch);
          expect(native.flatSplitSearches() - at).toBe(k < 100 ? 1 : 0);
        }
        for (let q = 0; q < 20; q++) {
          const { distances, labels } = split[q];
          // Independently: each label's true distance is the one reported, and they are the best.
          expect(Array.from(distances)).toEqual(Array.from(truth[q].subarray(0, k)));
          labels.forEach((label, r) => expect(score(metric, queries, q, base, Number(label), d)).toBe(distances[r]));
          for (let r = 1; r < k; r++) if (distances[r] === distances[r - 1]) ties++;
        }
      }
    } finally {
      setNumThreads(threads);
    }
    expect(ties).toBeGreaterThan(100); // the data did exercise the tie rules
    index.dispose();
  });
});

// The four-vectors-at-a-time kernel (native/flat_kernel.h) must give FAISS's fvec_inner_product
// and fvec_L2sqr bits; random floats (not small integers, whose sums are exact in any order).
describe('flat distances four vectors at a time', () => {
  const d = 768;
  const n = 2_003; // 1.5M floats, above the 4 MB the split needs; not a multiple of 4
  const base = randomVectors(n, d, 21);
  const queries = randomVectors(19, d, 22);

  it.each([
    ['ip', IndexFlatIP, METRIC_INNER_PRODUCT],
    ['l2', IndexFlatL2, METRIC_L2],
  ] as const)('%s: every thread with the kernel equals FAISS\'s one-thread scan bit for bit, one query and 19', (metric, IndexClass, code) => {
    // The kernel checks itself against FAISS's functions when first used; with FAISS's AVX2
    // build that check must pass, or the speed is lost without anyone noticing.
    expect(native.flatKernelApplies(code, d)).toBe(native.compileOptions.includes('AVX2'));
    expect(native.flatKernelApplies(code, d + 4)).toBe(false);
    const index = new IndexClass(d);
    index.addSync(base);
    const threads = getNumThreads();
    try {
      for (const nq of [1, 19]) {
        const x = queries.subarray(0, nq * d);
        setNumThreads(1);
        const serial = index.searchSync(x, 10);
        setNumThreads(2);
        const before = native.flatSplitSearches();
        const split = index.searchSync(x, 10);
        expect(native.flatSplitSearches() - before).toBe(1);
        expect(split.labels).toEqual(serial.labels);
        expect(split.distances).toEqual(serial.distances);
        // Independently: the best label's distance, in float64, is the reported one to float precision.
        const best = Number(split.labels[0]);
        expect(score(metric, queries, 0, base, best, d)).toBeCloseTo(split.distances[0], 2);
      }
    } finally {
      setNumThreads(threads);
    }
    index.dispose();
  });
});

// Adds of 4 MB and more copy and check on every thread (native/flat_add.cc).
describe('large adds on every thread', () => {
  const d = 64;
  const n = 20_000; // 5.12 MB
  const data = randomVectors(2 * n, d, 17);
  // Byte for byte (toEqual walks millions of elements slowly), naming the first difference.
  const expectSameFloats = (actual: Float32Array, expected: Float32Array) => {
    expect(actual.length).toBe(expected.length);
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    if (!bytes(actual).equals(bytes(expected))) {
      const i = actual.findIndex((v, j) => !Object.is(v, expected[j]));
      expect(actual[i], `element ${i}`).toBe(expected[i]);
    }
  };

  it('store exactly the vectors given, in order, over several adds, as FAISS\'s own add does', async () => {
    const index = new IndexFlatL2(d);
    index.addSync(data.subarray(0, n * d));
    await index.add(data.subarray(n * d));
    expect(index.ntotal).toBe(2 * n);
    expectSameFloats(index.reconstructNSync(0, 2 * n), data);
    // Against adds under 4 MB (FAISS's IndexFlat::add), 1000 vectors at a time.
    const small = new IndexFlatL2(d);
    for (let i = 0; i < 2 * n; i += 1000) small.addSync(data.subarray(i * d, (i + 1000) * d));
    expect(index.searchSync(data.subarray(0, 50 * d), 5)).toEqual(small.searchSync(data.subarray(0, 50 * d), 5));
    index.dispose();
    small.dispose();
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('refuse %s anywhere, naming where, and leave the index as it was', async (name, value) => {
    const index = new IndexFlatIP(d);
    index.addSync(data.subarray(0, n * d));
    const bad = data.slice(n * d);
    bad[(n - 3) * d + 7] = value; // near the end: after most chunks were copied
    const message = `x must hold finite numbers; got ${name} at vector ${n - 3}, component 7`;
    expect(() => index.addSync(bad)).toThrow(new RangeError(message));
    await expect(index.add(bad)).rejects.toThrow(new RangeError(message));
    expect(index.ntotal).toBe(n);
    expectSameFloats(index.reconstructNSync(0, n), data.subarray(0, n * d));
    await index.add(data.subarray(n * d)); // and it goes on growing from where it was
    expectSameFloats(index.reconstructNSync(0, 2 * n), data);
    index.dispose();
  });
});

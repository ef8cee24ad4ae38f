// IndexIVFScalarQuantizer and IndexScalarQuantizer on the real SIFT sample: exactness over
// the same codes, recall against exact search, nprobe, training rules.
import { afterEach, describe, expect, it } from 'vitest';
import {
  FaissError,
  getNumThreads,
  indexFactory,
  IndexFlatIP,
  IndexFlatL2,
  IndexIVFScalarQuantizer,
  IndexScalarQuantizer,
  METRIC_INNER_PRODUCT,
  METRIC_L2,
  ScalarQuantizer,
  setNumThreads,
  type QuantizerType,
} from '../lib';
import { native } from '../lib/native';
import { randomVectors, recallAt, rng, sift } from './helpers/data';
import { expectExact } from './helpers/expect-exact';

const NLIST = 32;

// QT_8bit_direct_signed stores integers -128..127; SIFT's values are 0..191, so shift them.
function dataFor(qtype: QuantizerType) {
  const { d, base, queries } = sift();
  if (qtype !== 'QT_8bit_direct_signed') return { d, base, queries: queries.subarray(0, 50 * d) };
  return { d, base: base.map((v) => v - 64), queries: queries.subarray(0, 50 * d).map((v) => v - 64) };
}

// The factory strings FAISS knows for each type; the uniform ones exist only as constructors.
const FACTORY: Partial<Record<QuantizerType, string>> = {
  QT_8bit: 'SQ8',
  QT_4bit: 'SQ4',
  QT_6bit: 'SQ6',
  QT_fp16: 'SQfp16',
  QT_bf16: 'SQbf16',
  QT_8bit_direct: 'SQ8_direct',
  QT_8bit_direct_signed: 'SQ8_direct_signed',
};

describe('IndexIVFScalarQuantizer on SIFT', () => {
  const qtypes = Object.values(ScalarQuantizer);

  it('knows every quantizer type of FAISS 1.12', () => {
    expect(qtypes).toEqual([
      'QT_8bit', 'QT_4bit', 'QT_8bit_uniform', 'QT_4bit_uniform', 'QT_fp16', 'QT_8bit_direct', 'QT_6bit', 'QT_bf16',
      'QT_8bit_direct_signed',
    ]);
  });

  it.each(qtypes)('%s without residual at nprobe = nlist equals IndexScalarQuantizer over the same codes', (qtype) => {
    const { d, base, queries } = dataFor(qtype);
    const ivf = new IndexIVFScalarQuantizer(d, NLIST, qtype, METRIC_INNER_PRODUCT, false);
    ivf.trainSync(base);
    ivf.addSync(base);
    ivf.nprobe = NLIST;
    const flat = FACTORY[qtype] ? indexFactory(d, FACTORY[qtype], METRIC_INNER_PRODUCT) : new IndexScalarQuantizer(d, qtype, METRIC_INNER_PRODUCT);
    expect(flat).toBeInstanceOf(IndexScalarQuantizer);
    flat.trainSync(base);
    flat.addSync(base);
    const a = ivf.searchSync(queries, 10);
    const b = flat.searchSync(queries, 10);
    // Same scores rank by rank; labels equal wherever the score is not tied with another.
    for (let i = 0; i < a.distances.length; i++) {
      expect(Math.abs(a.distances[i] - b.distances[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(b.distances[i])));
      const tied = (j: number) => j >= 0 && j < b.distances.length && Math.floor(j / 10) === Math.floor(i / 10) && b.distances[j] === b.distances[i];
      if (!tied(i - 1) && !tied(i + 1)) expect(a.labels[i]).toBe(b.labels[i]);
    }
    // And both equal a brute force over the decoded vectors.
    expectExact('ip', a, flat.reconstructNSync(0, flat.ntotal), queries, d, 1e-4);
  });

  it.each(qtypes)('%s by residual at nprobe = nlist equals brute force over its decoded vectors', (qtype) => {
    const { d, base, queries } = dataFor(qtype);
    const ivf = new IndexIVFScalarQuantizer(d, NLIST, qtype);
    expect(ivf.byResidual).toBe(true);
    ivf.trainSync(base);
    ivf.addSync(base);
    const decoded = ivf.reconstructNSync(0, ivf.ntotal);
    expectExact('ip', ivf.searchSync(queries, 10, { nprobe: NLIST }), decoded, queries, d, 1e-4);
  });

  it('SQ8 recall@10 against exact search is at least 0.95 at full nprobe, and rises with nprobe', async () => {
    const { d, base, queries, nq, groundTruthIp } = sift();
    const index = new IndexIVFScalarQuantizer(d, NLIST, 'QT_8bit');
    await index.train(base);
    await index.add(base);
    const recalls: number[] = [];
    for (let nprobe = 1; nprobe <= NLIST; nprobe *= 2) {
      const { labels } = await index.search(queries, 10, { nprobe });
      recalls.push(recallAt(10, labels, 10, groundTruthIp, 100));
    }
    expect(nq).toBe(500);
    expect(recalls.at(-1)).toBeGreaterThanOrEqual(0.95);
    expect(recalls[0]).toBeLessThan(recalls.at(-1)! - 0.1);
    for (let i = 1; i < recalls.length; i++) expect(recalls[i]).toBeGreaterThanOrEqual(recalls[i - 1] - 0.005);
  });

  it('per-call nprobe gives the results of the property, and leaves the property alone', () => {
    const { d, base, queries } = sift();
    const index = new IndexIVFScalarQuantizer(d, NLIST, 'QT_fp16');
    index.trainSync(base);
    index.addSync(base);
    expect(index.nprobe).toBe(1);
    const perCall = index.searchSync(queries, 5, { nprobe: 4 });
    expect(index.nprobe).toBe(1);
    index.nprobe = 4;
    const property = index.searchSync(queries, 5);
    expect(Array.from(perCall.labels)).toEqual(Array.from(property.labels));
    expect(Array.from(perCall.distances)).toEqual(Array.from(property.distances));
  });
});

describe('IndexIVFScalarQuantizer construction and training', () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  afterEach(() => {
    process.off('warning', onWarning);
    warnings.length = 0;
  });

  it('builds its own quantizer of its metric, or uses yours with your metric', () => {
    const own = new IndexIVFScalarQuantizer(16, 8, 'QT_8bit');
    expect(own.metricType).toBe(METRIC_INNER_PRODUCT);
    expect(own.nlist).toBe(8);
    expect(own.qtype).toBe('QT_8bit');
    expect(own.isTrained).toBe(false);
    expect(own.quantizer).toBeInstanceOf(IndexFlatIP);
    expect(own.quantizer).toBe(own.quantizer);

    const quantizer = new IndexFlatL2(16);
    const ivf = new IndexIVFScalarQuantizer(quantizer, 16, 8, ScalarQuantizer.QT_4bit);
    expect(ivf.metricType).toBe(METRIC_L2); // the quantizer's, avoiding FAISS's L2 default trap
    expect(ivf.quantizer).toBe(quantizer);
    ivf.trainSync(randomVectors(8 * 39, 16, 3));
    expect(quantizer.ntotal).toBe(8); // the centroids
    expect(ivf.isTrained).toBe(true);
  });

  it('rejects bad arguments with the argument named', () => {
    expect(() => new IndexIVFScalarQuantizer(16, 0, 'QT_8bit')).toThrow(new RangeError('nlist must be a positive integer; got 0'));
    expect(() => new IndexIVFScalarQuantizer(16, 8, 'QT_7bit' as QuantizerType)).toThrow(/qtype must be one of QT_8bit, QT_4bit, .*; got QT_7bit/);
    expect(() => new IndexIVFScalarQuantizer(16, 8, 'QT_8bit', 7 as 0)).toThrow('metric must be METRIC_INNER_PRODUCT (0) or METRIC_L2 (1); got 7');
    expect(() => new IndexIVFScalarQuantizer(new IndexFlatIP(8), 16, 8, 'QT_8bit')).toThrow(new RangeError('quantizer dimension 8 differs from d=16'));
  });

  it('refuses fewer training vectors than nlist and warns below 39 per centroid', async () => {
    process.on('warning', onWarning);
    const index = new IndexIVFScalarQuantizer(8, 16, 'QT_8bit');
    expect(() => index.trainSync(randomVectors(15, 8, 1))).toThrow(new RangeError('x must hold at least nlist=16 training vectors; got 15'));
    await index.train(randomVectors(100, 8, 2));
    await new Promise((r) => setImmediate(r));
    expect(warnings).toContain('training nlist=16 centroids on 100 vectors; FAISS recommends at least 624');
    expect(index.isTrained).toBe(true);
  });

  it('refuses to add to an untrained index, saying what to do', async () => {
    const index = new IndexIVFScalarQuantizer(8, 4, 'QT_8bit');
    await expect(index.add(randomVectors(10, 8, 1))).rejects.toSatisfy(
      (e: unknown) => e instanceof FaissError && e.code === 'FAISS_ERROR' && e.message === 'cannot add to an untrained IndexIVFScalarQuantizer: call train() first',
    );
    expect(() => index.addSync(randomVectors(10, 8, 1))).toThrow(FaissError);
    expect(index.ntotal).toBe(0);
  });

  it('has no nprobe where there is no IVF layer', () => {
    const flat = new IndexFlatIP(4);
    expect(() => flat.nprobe).toThrow(new TypeError('nprobe: this index (IndexFlat) has no IVF layer'));
    expect(() => (flat.nprobe = 3)).toThrow(TypeError);
    expect(() => flat.searchSync(new Float32Array(4), 1, { nprobe: 2 })).toThrow(new TypeError("search: option 'nprobe' applies to indexes with an IVF layer; this index is IndexFlat"));
    const ivf = new IndexIVFScalarQuantizer(4, 2, 'QT_8bit');
    expect(() => (ivf.nprobe = 0)).toThrow(new RangeError('nprobe must be a positive integer; got 0'));
  });
});

// A query with fewer queries than threads runs on every thread (native/split_search.cc):
// threads take the probed lists, one thread feeds their distances to FAISS's heap in probe
// order, and a large enough flat quantizer splits its coarse search the same way.
describe('IndexIVFScalarQuantizer: one query on every thread', () => {
  const d = 64;
  const n = 20_000;
  const next = rng(9);
  // 2000 vectors, each 10 times: copies share a list and a code, so their distances tie.
  const distinct = Float32Array.from({ length: 2000 * d }, () => Math.floor(next() * 3));
  const base = Float32Array.from({ length: n * d }, (_, i) => distinct[i % distinct.length]);
  const queries = Float32Array.from({ length: 20 * d }, () => Math.floor(next() * 3));

  function build(metric: number, nlist: number, qtype: QuantizerType) {
    // Centroids picked from the data (k-means on these integer vectors adds nothing to the test).
    const quantizer = metric === METRIC_L2 ? new IndexFlatL2(d) : new IndexFlatIP(d);
    const pick = rng(3);
    const centroids = new Float32Array(nlist * d);
    for (let c = 0; c < nlist; c++) {
      const row = Math.floor(pick() * n);
      centroids.set(base.subarray(row * d, (row + 1) * d), c * d);
    }
    quantizer.addSync(centroids.map((v, i) => v + ((i * 7919) % 13) / 100)); // distinct centroids
    const index = new IndexIVFScalarQuantizer(quantizer, d, nlist, qtype, metric);
    index.trainSync(base.subarray(0, 5000 * d));
    index.addSync(base);
    return index;
  }

  // nlist 16: the lists split, the 16 x 64 quantizer does not; nlist 4096 (1 MB of centroids): both split.
  it.each([
    ['ip', METRIC_INNER_PRODUCT, 16, 'QT_8bit'],
    ['l2 (by residual)', METRIC_L2, 16, 'QT_4bit'],
    ['ip', METRIC_INNER_PRODUCT, 4096, 'QT_8bit'],
    ['l2 (by residual)', METRIC_L2, 4096, 'QT_fp16'],
  ] as const)('%s (metric %i), nlist %i, %s: the results of FAISS\'s one-thread search, ties included', async (_, metric, nlist, qtype) => {
    const index = build(metric, nlist, qtype);
    const threads = getNumThreads();
    const each = (k: number, nprobe: number) =>
      Array.from({ length: 20 }, (_, q) => index.searchSync(queries.subarray(q * d, (q + 1) * d), k, { nprobe }));
    let ties = 0;
    let split = 0;
    try {
      for (const k of [1, 10, 50]) {
        for (const nprobe of [1, 4, 16, nlist]) {
          setNumThreads(1);
          const serial = each(k, nprobe);
          setNumThreads(2);
          const before = native.ivfSplitSearches();
          expect(each(k, nprobe), `k=${k} nprobe=${nprobe}`).toEqual(serial);
          split += native.ivfSplitSearches() - before;
          for (const { distances } of serial) for (let r = 1; r < k; r++) if (distances[r] === distances[r - 1]) ties++;
        }
      }
      // The index's own nprobe (no per-call parameters) and the async path take it too.
      index.nprobe = 8;
      setNumThreads(1);
      const serial = await index.search(queries.subarray(0, d), 10);
      setNumThreads(2);
      const before = native.ivfSplitSearches();
      expect(await index.search(queries.subarray(0, d), 10)).toEqual(serial);
      expect(native.ivfSplitSearches() - before).toBe(1);
    } finally {
      setNumThreads(threads);
    }
    // nlist 16: nprobe 1 stays serial (too few codes); nlist 4096: the coarse search always splits.
    expect(split).toBe(nlist === 16 ? 3 * 3 * 20 : 3 * 4 * 20);
    expect(ties).toBeGreaterThan(200); // the data did exercise the tie rules
    index.dispose();
  });

  it('batches of as many queries as threads stay in FAISS (it splits them by query)', () => {
    const index = build(METRIC_INNER_PRODUCT, 16, 'QT_8bit');
    const threads = getNumThreads();
    try {
      setNumThreads(2);
      const before = native.ivfSplitSearches();
      index.searchSync(queries.subarray(0, 2 * d), 10, { nprobe: 8 });
      expect(native.ivfSplitSearches() - before).toBe(0);
    } finally {
      setNumThreads(threads);
    }
    index.dispose();
  });
});

// IVF-SQ scans four codes at a time (native/ivf_sq_scan.h): every result equals FAISS's own
// scan bit for bit. FAISS's own scan is reached through maxCodes: a limit no list reaches
// leaves FAISS's search unchanged, and the binding then hands the whole search to FAISS.
import { afterEach, describe, expect, it } from 'vitest';
import { getNumThreads, IndexIVFScalarQuantizer, METRIC_INNER_PRODUCT, METRIC_L2, setNumThreads, type QuantizerType } from '../lib';
import { native } from '../lib/native';
import { randomVectors } from './helpers/data';

const N = 3000;
const NLIST = 16;
const K = 10;
const FAISS_OWN = { maxCodes: Number.MAX_SAFE_INTEGER };
// FAISS's AVX2 build picks its 8-wide scanner for these types when d % 8 == 0; the binding's
// replaces it there and nowhere else.
const REPLACED: QuantizerType[] = ['QT_8bit', 'QT_8bit_uniform', 'QT_4bit', 'QT_4bit_uniform', 'QT_fp16'];
const avx2 = native.compileOptions.includes('AVX2');

function built(d: number, qtype: QuantizerType, metric: 0 | 1, byResidual: boolean) {
  const base = randomVectors(N, d, 1);
  const ivf = new IndexIVFScalarQuantizer(d, NLIST, qtype, metric, byResidual);
  ivf.trainSync(base);
  ivf.addSync(base);
  return ivf;
}

/** A search, and whether it made one of the binding's scanners. */
function search(ivf: IndexIVFScalarQuantizer, x: Float32Array, options: { nprobe: number; maxCodes?: number }) {
  const before = native.ivfSqScanners();
  const result = ivf.searchSync(x, K, options);
  return { result, replaced: native.ivfSqScanners() > before };
}

function expectSame(got: { distances: Float32Array; labels: BigInt64Array }, want: { distances: Float32Array; labels: BigInt64Array }) {
  expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
  // toEqual on the arrays: the same float32 bits (no tolerance), NaN and -0 included.
  expect(got.distances).toEqual(want.distances);
}

describe('IVF-SQ scans, four codes at a time', () => {
  const threads = getNumThreads();
  afterEach(() => setNumThreads(threads));

  const cases = REPLACED.flatMap((qtype) =>
    [METRIC_INNER_PRODUCT, METRIC_L2].flatMap((metric) => [true, false].map((byResidual) => ({ qtype, metric, byResidual }))),
  );
  it.each(cases)('$qtype, metric $metric, byResidual $byResidual: a batch and one query equal FAISS\'s own scan', ({ qtype, metric, byResidual }) => {
    for (const d of [24, 128]) {
      const ivf = built(d, qtype, metric, byResidual);
      const queries = randomVectors(64, d, 2);
      for (const nq of [64, 3, 1]) {
        const x = queries.subarray(0, nq * d);
        const ours = search(ivf, x, { nprobe: 5 });
        const faiss = search(ivf, x, { nprobe: 5, ...FAISS_OWN });
        expect(ours.replaced).toBe(avx2);
        expect(faiss.replaced).toBe(false);
        expectSame(ours.result, faiss.result);
        // Real neighbours: each query's best is a vector of the index, in order.
        expect(ours.result.labels[0]).toBeGreaterThanOrEqual(0n);
      }
      ivf.dispose();
    }
  });

  it('on one thread, asynchronously, and at nprobe = nlist: still FAISS\'s results', async () => {
    const d = 32;
    const ivf = built(d, 'QT_8bit', METRIC_INNER_PRODUCT, true);
    const x = randomVectors(40, d, 3);
    const want = ivf.searchSync(x, K, { nprobe: NLIST, ...FAISS_OWN });
    expectSame(ivf.searchSync(x, K, { nprobe: NLIST }), want);
    expectSame(await ivf.search(x, K, { nprobe: NLIST }), want);
    // One thread: one slice, one coarse search of all 40 queries, whose BLAS tiles differ from
    // two slices' (FAISS's own results change in the last bits too), so compared at one thread.
    setNumThreads(1);
    expectSame(ivf.searchSync(x, K, { nprobe: NLIST }), ivf.searchSync(x, K, { nprobe: NLIST, ...FAISS_OWN }));
    ivf.dispose();
  });

  it('where FAISS would not pick its 8-wide scanner (d % 8 != 0, bf16, direct codes), and for 6-bit codes, FAISS\'s own runs', () => {
    for (const [d, qtype] of [[20, 'QT_8bit'], [24, 'QT_bf16'], [24, 'QT_8bit_direct'], [24, 'QT_6bit']] as const) {
      const ivf = built(d, qtype, METRIC_L2, true);
      const x = randomVectors(16, d, 4);
      const ours = search(ivf, x, { nprobe: 4 });
      expect(ours.replaced).toBe(false);
      expectSame(ours.result, ivf.searchSync(x, K, { nprobe: 4, ...FAISS_OWN }));
      ivf.dispose();
    }
  });

  it('a list shorter than four codes, and k beyond the codes scanned: padded as FAISS pads', () => {
    const d = 16;
    const base = randomVectors(40, d, 5);
    const ivf = new IndexIVFScalarQuantizer(d, 4, 'QT_8bit', METRIC_L2);
    ivf.trainSync(randomVectors(400, d, 6));
    ivf.addSync(base.subarray(0, 7 * d)); // 7 codes over 4 lists
    const x = randomVectors(5, d, 7);
    const ours = ivf.searchSync(x, 12, { nprobe: 2 });
    expectSame(ours, ivf.searchSync(x, 12, { nprobe: 2, ...FAISS_OWN }));
    expect(ours.labels.filter((l) => l === -1n).length).toBeGreaterThan(0);
    ivf.dispose();
  });
});

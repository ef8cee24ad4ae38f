// Progress of long jobs: add in chunks of 16 MB, and the k-means iterations of an IVF index's
// training (counted on FAISS's own clustering, so the trained index is the one train() without
// progress makes).
import { describe, expect, it } from 'vitest';
import {
  indexFactory,
  IndexFlatL2,
  IndexIDMap,
  IndexIVFFlat,
  IndexIVFPQ,
  IndexIVFScalarQuantizer,
  IndexScalarQuantizer,
  METRIC_L2,
  ScalarQuantizer,
  type Index,
} from '../lib';
import { randomVectors, sift } from './helpers/data';

const { d, base } = sift();

/** Trains `index` with onProgress, returning every report. */
async function reports(index: Index, x: Float32Array): Promise<[number, number][]> {
  const seen: [number, number][] = [];
  await index.train(x, { onProgress: (done, total) => seen.push([done, total]) });
  return seen;
}

describe('add with onProgress', () => {
  it('adds in chunks of 16 MB (2^22 floats), reporting the vectors added after each', async () => {
    const dim = 128;
    const n = 70_000; // 32,768 vectors a chunk at d = 128
    const x = randomVectors(n, dim, 5);
    const index = new IndexFlatL2(dim);
    const seen: [number, number][] = [];
    await index.add(x, { onProgress: (added, total) => seen.push([added, total]) });
    expect(seen).toEqual([[32_768, n], [65_536, n], [n, n]]);
    const plain = new IndexFlatL2(dim);
    plain.addSync(x);
    expect(index.serializeSync().equals(plain.serializeSync())).toBe(true);
    index.dispose();
    plain.dispose();
  });
});

describe('train with onProgress', () => {
  it('counts the 10 k-means iterations of IVF training (FAISS sets cp.niter = 10), and trains the same index', async () => {
    const make: [string, () => Index][] = [
      ['IVF-Flat, inner product', () => new IndexIVFFlat(d, 32)],
      ['IVF-SQ8, L2', () => new IndexIVFScalarQuantizer(new IndexFlatL2(d), d, 32, ScalarQuantizer.QT_8bit, METRIC_L2)],
      ['IVF-PQ', () => new IndexIVFPQ(new IndexFlatL2(d), d, 16, 8, 6)],
      ['IDMap over IVF-Flat', () => new IndexIDMap(new IndexIVFFlat(new IndexFlatL2(d), d, 32, METRIC_L2))],
    ];
    for (const [name, create] of make) {
      const counted = create();
      const seen = await reports(counted, base);
      expect(seen.at(-1), name).toEqual([10, 10]);
      for (let i = 1; i < seen.length; i++) expect(seen[i][0], name).toBeGreaterThan(seen[i - 1][0]);
      const plain = create();
      plain.trainSync(base);
      expect(counted.isTrained, name).toBe(true);
      expect(counted.serializeSync().equals(plain.serializeSync()), name).toBe(true);
      counted.dispose();
      plain.dispose();
    }
  });

  it('reports while k-means runs, the event loop free', async () => {
    // 40,000 x 64 into 1,024 cells: about 2.6 GFLOP an iteration, well over the 100 ms poll.
    const x = randomVectors(40_000, 64, 9);
    const index = new IndexIVFFlat(new IndexFlatL2(64), 64, 1024, METRIC_L2);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const seen = await reports(index, x);
    clearInterval(timer);
    expect(seen.some(([done]) => done < 10)).toBe(true);
    expect(seen.at(-1)).toEqual([10, 10]);
    expect(ticks).toBeGreaterThan(5);
    index.dispose();
  });

  it('reports (1, 1) at the end where there is no k-means of its own to count', async () => {
    const sq = new IndexScalarQuantizer(d, ScalarQuantizer.QT_8bit);
    expect(await reports(sq, base)).toEqual([[1, 1]]);
    // FAISS trains an HNSW coarse quantizer apart (quantizer_trains_alone = 2): not counted, and
    // trained as train() without progress trains it.
    const hnswCoarse = indexFactory(d, 'IVF16_HNSW8,Flat');
    const plain = indexFactory(d, 'IVF16_HNSW8,Flat');
    expect(await reports(hnswCoarse, base)).toEqual([[1, 1]]);
    plain.trainSync(base);
    expect(hnswCoarse.serializeSync().equals(plain.serializeSync())).toBe(true);
    for (const index of [sq, hnswCoarse, plain]) index.dispose();
  });

  it('a throwing onProgress rejects once training has ended; a non-function is a TypeError', async () => {
    const index = new IndexIVFFlat(new IndexFlatL2(d), d, 16, METRIC_L2);
    const boom = new Error('stop');
    await expect(index.train(base, { onProgress: () => { throw boom; } })).rejects.toBe(boom);
    expect(index.isTrained).toBe(true);
    await expect(index.train(base, { onProgress: 3 as unknown as () => void })).rejects.toThrow(new TypeError('options.onProgress must be a function; got number'));
    await expect(index.add(base, null as unknown as object)).rejects.toThrow(new TypeError('options must be an object; got null'));
    index.dispose();
  });
});

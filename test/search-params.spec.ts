// The per-call search parameters object ({ nprobe, maxCodes, efSearch, filter }): what applies
// to which index, and that each parameter reaches FAISS through IDMaps, pre-transforms and
// refinement, for search and rangeSearch alike.
import { describe, expect, it } from 'vitest';
import { indexFactory, IndexFlatIP, IndexIVFScalarQuantizer, METRIC_L2, type Index } from '../lib';
import { randomVectors } from './helpers/data';

const D = 16;
const base = randomVectors(4000, D, 11);
const queries = randomVectors(8, D, 12);

function trained(description: string): Index {
  const index = indexFactory(D, description, METRIC_L2);
  index.trainSync(base);
  index.addSync(base);
  return index;
}

describe('which options apply', () => {
  it('unknown keys and keys for a layer the index lacks are TypeErrors naming both', () => {
    const flat = new IndexFlatIP(D);
    flat.addSync(base.subarray(0, 100 * D));
    const q = queries.subarray(0, D);
    expect(() => flat.searchSync(q, 1, { nprob: 3 } as object)).toThrow(
      new TypeError("search: unknown option 'nprob' (known: nprobe, maxCodes, efSearch, kFactor, qb, filter, plan, out)"),
    );
    expect(() => flat.rangeSearchSync(q, 1, { out: {} } as object)).toThrow(
      new TypeError("rangeSearch: unknown option 'out' (known: nprobe, maxCodes, efSearch, kFactor, qb, filter)"),
    );
    expect(() => flat.rangeSearchSync(q, 1, { filter: { range: [0, 9] }, plan: 'exact' } as object)).toThrow(/rangeSearch: unknown option 'plan'/);
    expect(() => flat.searchSync(q, 1, { efSearch: 32 })).toThrow(
      new TypeError("search: option 'efSearch' applies to indexes with an HNSW layer; this index is IndexFlat"),
    );
    expect(() => flat.searchSync(q, 1, { maxCodes: 10 })).toThrow(
      new TypeError("search: option 'maxCodes' applies to indexes with an IVF layer; this index is IndexFlat"),
    );
    expect(() => flat.searchSync(q, 1, 'fast' as object)).toThrow(new TypeError('search: options must be an object; got string'));
    // Undefined values are no option at all, as in a spread of optional settings.
    expect(flat.searchSync(q, 1, { nprobe: undefined }).labels).toEqual(flat.searchSync(q, 1).labels);
    const ivf = new IndexIVFScalarQuantizer(D, 4, 'QT_8bit');
    expect(() => ivf.searchSync(q, 1, { efSearch: 8 })).toThrow(/'efSearch' applies to indexes with an HNSW layer; this index is IndexIVFScalarQuantizer/);
    expect(() => ivf.searchSync(q, 1, { nprobe: 0 })).toThrow(new RangeError('options.nprobe must be a positive integer; got 0'));
    expect(() => ivf.searchSync(q, 1, { maxCodes: -1 })).toThrow(new RangeError('options.maxCodes must be a non-negative integer; got -1'));
    flat.dispose();
    ivf.dispose();
  });

  it('efSearch: a property and a per-call option of HNSW indexes, also under an IDMap', () => {
    const hnsw = indexFactory(D, 'IDMap,HNSW8', METRIC_L2);
    hnsw.addWithIdsSync(base, BigInt64Array.from({ length: 4000 }, (_, i) => BigInt(i * 3)));
    expect(hnsw.efSearch).toBe(16); // FAISS's default
    const narrow = hnsw.searchSync(queries, 10, { efSearch: 10 });
    const wide = hnsw.searchSync(queries, 10, { efSearch: 400 });
    expect(hnsw.efSearch).toBe(16); // per call only
    hnsw.efSearch = 400;
    expect(hnsw.searchSync(queries, 10)).toEqual(wide);
    hnsw.efSearch = 10;
    expect(hnsw.searchSync(queries, 10)).toEqual(narrow);
    expect(() => (hnsw.efSearch = 0)).toThrow(new RangeError('efSearch must be a positive integer; got 0'));
    expect(() => new IndexFlatIP(4).efSearch).toThrow(new TypeError('efSearch: this index (IndexFlat) has no HNSW layer'));
    hnsw.dispose();
  });
});

describe('each parameter reaches FAISS', () => {
  it('maxCodes: FAISS scans that many codes per query at most (0: no limit)', () => {
    const index = trained('IVF16,SQ8');
    for (const maxCodes of [1, 3]) {
      const { labels } = index.searchSync(queries, 5, { nprobe: 16, maxCodes });
      for (let q = 0; q < 8; q++) expect(labels.subarray(q * 5, q * 5 + 5).filter((l) => l >= 0n).length).toBe(maxCodes);
    }
    const unlimited = index.searchSync(queries, 5, { nprobe: 16 });
    expect(index.searchSync(queries, 5, { nprobe: 16, maxCodes: 0 })).toEqual(unlimited);
    expect(index.searchSync(queries, 5, { nprobe: 16, maxCodes: 4000 })).toEqual(unlimited);
    index.dispose();
  });

  // FAISS's own IndexIDMap::range_search keeps only the selector of its parameters, and
  // IndexRefine takes only its own parameter type: both would lose a plain per-call nprobe.
  for (const description of ['IDMap,IVF16,Flat', 'PCA16,IVF16,Flat', 'IVF16,Flat,RFlat']) {
    it(`nprobe through ${description.replace(/IVF16,Flat/, 'IVF')}, for search and range search`, () => {
      const index = indexFactory(D, description, METRIC_L2);
      index.trainSync(base);
      if (description.startsWith('IDMap')) index.addWithIdsSync(base, BigInt64Array.from({ length: 4000 }, (_, i) => BigInt(i * 10)));
      else index.addSync(base);
      const one = index.searchSync(queries, 10);
      const sixteen = index.searchSync(queries, 10, { nprobe: 16 });
      expect(sixteen.labels).not.toEqual(one.labels);
      expect(index.nprobe).toBe(1);
      const radius = sixteen.distances[5];
      index.nprobe = 16;
      expect(index.searchSync(queries, 10)).toEqual(sixteen);
      const range16 = index.rangeSearchSync(queries, radius);
      index.nprobe = 1;
      expect(index.rangeSearchSync(queries, radius, { nprobe: 16 })).toEqual(range16);
      expect(index.rangeSearchSync(queries, radius).lims[8]).toBeLessThan(range16.lims[8]);
      index.dispose();
    });
  }
});

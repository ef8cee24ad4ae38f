// faiss-native/faiss-node against faiss-node 0.5.1's behaviour: its own test suite
// (test/Index.test.js, test/IndexFlatL2.test.js in `npm pack faiss-node@0.5.1`), ported with
// the same inputs and expected values, plus what faiss-node's C++ source does that its tests
// do not show (IndexFlatIP, toBuffer and fromBuffer of any type, Float32Array input).
/* eslint-disable @typescript-eslint/no-explicit-any */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Index, IndexFlatIP, IndexFlatL2, MetricType } from '../lib/faiss-node';
import { FaissError, indexFactory, IndexIVFScalarQuantizer, readIndexSync, serializeIndexSync } from '../lib';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-fn-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const anyIndex = (i: Index) => i as any;

describe('faiss-node 0.5.1 Index', () => {
  it('#fromFactory: Flat, Flat with IP, HNSW training', () => {
    const flat = Index.fromFactory(2, 'Flat');
    flat.add([1, 0, 0, 1]);
    expect(flat.ntotal()).toBe(2);
    const ip = Index.fromFactory(2, 'Flat', MetricType.METRIC_INNER_PRODUCT);
    ip.add([1, 0, 0, 1]);
    expect(ip.ntotal()).toBe(2);
    const hnsw = Index.fromFactory(2, 'HNSW,Flat');
    hnsw.train([1, 0, 0, 1]);
    hnsw.add([1, 0, 0, 1]);
    expect(hnsw.ntotal()).toBe(2);
    expect(() => (Index as any).fromFactory(2)).toThrow('Expected 2 or 3 arguments, but got 1.');
    expect(() => (Index as any).fromFactory('2', 'Flat')).toThrow(new TypeError('Invalid the first argument type, must be a number.'));
    expect(() => (Index as any).fromFactory(2, 3)).toThrow(new TypeError('Invalid the second argument type, must be a string.'));
  });

  it('#toBuffer: the new index is the same size as the old', () => {
    const index = Index.fromFactory(2, 'Flat');
    index.add([1, 0, 0, 1]);
    expect(Index.fromBuffer(index.toBuffer()).ntotal()).toBe(index.ntotal());
    expect(() => anyIndex(index).toBuffer(1)).toThrow('Expected 0 arguments, but got 1.');
    expect(() => (Index as any).fromBuffer('x')).toThrow(new TypeError('Invalid the first argument type, must be a buffer.'));
  });

  it('MetricType has faiss-node numbers', () => {
    expect([MetricType.METRIC_INNER_PRODUCT, MetricType.METRIC_L2, MetricType.METRIC_Linf, MetricType.METRIC_Jaccard]).toEqual([0, 1, 3, 23]);
    expect(MetricType[1]).toBe('METRIC_L2');
  });
});

describe('faiss-node 0.5.1 IndexFlatL2', () => {
  describe('#read', () => {
    it('throws an error if the file does not exist, in faiss-node\'s words (its own test\'s pattern, which LangChain\'s FaissStore tests rely on)', () => {
      // faiss-node 0.5.1's test/IndexFlatL2.test.js, verbatim.
      const fname = 'not_existed_file';
      expect(() => { IndexFlatL2.read(fname); }).toThrow(new RegExp(`^Error.*could not open ${fname} for reading: No such file or directory$`));
      expect(() => IndexFlatL2.read(fname)).toThrow(expect.objectContaining({ code: 'IO_ERROR', cause: expect.objectContaining({ message: `cannot read ${fname}: no such file` }) }));
    });

    it('reads a saved file', () => {
      const index = new IndexFlatL2(2);
      index.add([1, 0]);
      const fname = path.join(dir, '_tmp.test.read.index');
      index.write(fname);
      const loaded = IndexFlatL2.read(fname);
      expect(loaded).toBeInstanceOf(IndexFlatL2);
      expect(loaded.getDimension()).toBe(2);
      expect(loaded.ntotal()).toBe(1);
      expect(() => (IndexFlatL2 as any).read()).toThrow('Expected 1 argument, but got 0.');
      expect(() => (IndexFlatL2 as any).read(1)).toThrow(new TypeError('Invalid the first argument type, must be a string.'));
      expect(() => anyIndex(index).write(1)).toThrow(new TypeError('Invalid the first argument type, must be a string.'));
    });
  });

  describe('#ntotal, #getDimension, #isTrained', () => {
    it('counts, reports d, is trained', () => {
      const index = new IndexFlatL2(1);
      expect(index.ntotal()).toBe(0);
      index.add([1]);
      expect(index.ntotal()).toBe(1);
      index.add([1, 2, 3]);
      expect(index.ntotal()).toBe(4);
      expect(new IndexFlatL2(128).getDimension()).toBe(128);
      expect(index.isTrained()).toBe(true);
    });
  });

  describe('#add', () => {
    const index = new IndexFlatL2(2);
    it('rejects as faiss-node does', () => {
      expect(() => anyIndex(index).add()).toThrow('Expected 1 argument, but got 0.');
      expect(() => anyIndex(index).add([], 1)).toThrow('Expected 1 argument, but got 2.');
      expect(() => anyIndex(index).add('[1, 2, 3]')).toThrow(new TypeError('Invalid the first argument type, must be an Array.'));
      expect(() => anyIndex(index).add([1, '2'])).toThrow('Expected a Number as array item. (at: 1)');
      for (const x of [[1, 2, 3], [1, 2, 3, 4, 5], [1]]) expect(() => index.add(x)).toThrow('Invalid the given array length.');
      expect(index.ntotal()).toBe(0);
    });
  });

  describe('#search', () => {
    const index = new IndexFlatL2(2);
    beforeAll(() => {
      index.add([1, 0]);
      index.add([1, 2]);
      index.add([1, 3]);
      index.add([1, 1]);
    });

    it('rejects as faiss-node does', () => {
      expect(() => anyIndex(index).search()).toThrow('Expected 2 arguments, but got 0.');
      expect(() => anyIndex(index).search([], 1, 2)).toThrow('Expected 2 arguments, but got 3.');
      expect(() => anyIndex(index).search('[1, 2, 3]', 2)).toThrow('Invalid the first argument type, must be an Array.');
      expect(() => anyIndex(index).search([1, 2, 3], '2')).toThrow('Invalid the second argument type, must be a Number.');
      expect(() => index.search([1, 2], 6)).toThrow('Invalid the number of k (cannot be given a value greater than `ntotal`: 4).');
      expect(() => anyIndex(index).search([1, '2'], 2)).toThrow('Expected a Number as array item. (at: 1)');
      for (const x of [[1, 2, 3], [1, 2, 3, 4, 5], [1]]) expect(() => index.search(x, 2)).toThrow('Invalid the given array length.');
    });

    it('returns search results as plain arrays, from number[] and Float32Array alike', () => {
      expect(index.search([1, 0], 1)).toEqual({ distances: [0], labels: [0] });
      expect(index.search([1, 0], 4)).toEqual({ distances: [0, 1, 4, 9], labels: [0, 3, 1, 2] });
      expect(index.search([1, 1], 4)).toEqual({ distances: [0, 1, 1, 4], labels: [3, 0, 1, 2] });
      expect(index.search(new Float32Array([1, 1]), 4)).toEqual({ distances: [0, 1, 1, 4], labels: [3, 0, 1, 2] });
    });
  });

  describe('#mergeFrom', () => {
    const index1 = new IndexFlatL2(2);
    const index2 = new IndexFlatL2(2);
    beforeAll(() => {
      index1.add([1, 0]);
      index1.add([1, 2]);
      index1.add([1, 3]);
      index1.add([1, 1]);
      index2.mergeFrom(index1);
    });

    it('rejects as faiss-node does', () => {
      expect(() => anyIndex(index2).mergeFrom()).toThrow('Expected 1 argument, but got 0.');
      expect(() => anyIndex(index2).mergeFrom(index1, 2)).toThrow('Expected 1 argument, but got 2.');
      expect(() => anyIndex(index2).mergeFrom(1)).toThrow('Invalid argument type, must be an object.');
      expect(() => anyIndex(index2).mergeFrom('string')).toThrow('Invalid argument type, must be an object.');
      expect(() => anyIndex(index2).mergeFrom({})).toThrow('Invalid argument');
      expect(() => index2.mergeFrom(new IndexFlatL2(3))).toThrow('The merging index must have the same dimension.');
    });

    it('searches the merged index; the source is emptied', () => {
      expect(index2.search([1, 0], 1)).toEqual({ distances: [0], labels: [0] });
      expect(index2.search([1, 0], 4)).toEqual({ distances: [0, 1, 4, 9], labels: [0, 3, 1, 2] });
      expect(index2.search([1, 1], 4)).toEqual({ distances: [0, 1, 1, 4], labels: [3, 0, 1, 2] });
      expect(index1.ntotal()).toBe(0);
    });
  });

  describe('#removeIds', () => {
    let index: IndexFlatL2;
    beforeEach(() => {
      index = new IndexFlatL2(2);
      index.add([1, 0]);
      index.add([1, 1]);
      index.add([1, 2]);
      index.add([1, 3]);
    });

    it('rejects as faiss-node does', () => {
      expect(() => anyIndex(index).removeIds()).toThrow('Expected 1 argument, but got 0.');
      expect(() => anyIndex(index).removeIds([], 1)).toThrow('Expected 1 argument, but got 2.');
      expect(() => anyIndex(index).removeIds('[1, 2, 3]')).toThrow('Invalid the first argument type, must be an Array.');
      expect(() => anyIndex(index).removeIds([1, '2'])).toThrow('Expected a Number as array item. (at: 1)');
    });

    it('returns the number of ids removed, renumbering the rest', () => {
      expect(index.removeIds([])).toBe(0);
      expect(index.removeIds([0])).toBe(1);
      expect(index.removeIds([0, 1])).toBe(2);
      expect(index.removeIds([2])).toBe(0);
      expect(index.removeIds([0, 1, 2])).toBe(1);
    });

    it('removes the right vectors', () => {
      expect(index.search([1, 3], 1)).toEqual({ distances: [0], labels: [3] });
      expect(index.removeIds([0, 1, 2, 4, 5])).toBe(3);
      expect(index.search([1, 3], 1)).toEqual({ distances: [0], labels: [0] });
    });
  });
});

describe('beyond faiss-node 0.5.1 tests', () => {
  it("resolves as 'faiss-native/faiss-node' (the package's exports)", () => {
    const compat = createRequire(import.meta.url)('faiss-native/faiss-node');
    expect(Object.keys(compat).sort()).toEqual(['Index', 'IndexFlatIP', 'IndexFlatL2', 'MetricType']);
    expect(new compat.IndexFlatL2(3).getDimension()).toBe(3);
  });

  it('IndexFlatIP scores inner products; read and fromBuffer take any index type the binding loads', () => {
    const ip = new IndexFlatIP(2);
    ip.add([1, 0, 0, 2]);
    expect(ip.search([1, 1], 2)).toEqual({ distances: [2, 1], labels: [1, 0] });
    const ivf = new IndexIVFScalarQuantizer(2, 2, 'QT_8bit');
    const x = Float32Array.from({ length: 400 }, (_, i) => Math.sin(i));
    ivf.trainSync(x);
    ivf.addSync(x);
    const fromIvf = Index.fromBuffer(serializeIndexSync(ivf));
    expect(fromIvf.ntotal()).toBe(200);
    expect(fromIvf.index).toBeInstanceOf(IndexIVFScalarQuantizer);
    const generic = Index.fromBuffer(indexFactory(2, 'IDMap,Flat').serializeSync());
    expect(generic.ntotal()).toBe(0);
    fromIvf.dispose();
  });

  it('shares the lifetime and errors of faiss-native: dispose, Symbol.dispose, FaissError', () => {
    const index = new IndexFlatL2(2);
    index.add([1, 0]);
    index[Symbol.dispose]();
    expect(() => index.ntotal()).toThrow(TypeError);
    const ivf = Index.fromFactory(2, 'IVF4,Flat');
    expect(() => ivf.add([1, 0])).toThrow(FaissError);
    ivf.dispose();
    expect(() => ivf.add([1, 0])).toThrow(TypeError);
  });

  it('read and fromBuffer also take the types that the main API loads only with trusted: true (as faiss-node did)', () => {
    const hnsw = indexFactory(4, 'HNSW8,SQ8');
    const x = Float32Array.from({ length: 4 * 50 }, (_, i) => Math.cos(i * 0.7));
    hnsw.trainSync(x);
    hnsw.addSync(x);
    const file = path.join(dir, 'hnsw.index');
    hnsw.writeSync(file);
    expect(() => readIndexSync(file)).toThrow(/does not load faiss::IndexHNSWSQ indexes yet/);
    const expected = hnsw.searchSync(x.subarray(0, 8), 3);
    for (const loaded of [IndexFlatL2.read(file), Index.fromBuffer(fs.readFileSync(file))]) {
      expect(loaded.ntotal()).toBe(50);
      expect(loaded.search(Array.from(x.subarray(0, 8)), 3)).toEqual({ distances: Array.from(expected.distances), labels: Array.from(expected.labels, Number) });
      loaded.dispose();
    }
  });
});

// Python parity: the same index files and bytes, the same results, in both directions, for
// every index kind, against faiss-cpu of the bundled FAISS version. Rows go to
// results/parity.json for `npm run parity`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  deserializeIndex,
  Index,
  indexFactory,
  IndexFlatIP,
  IndexFlatL2,
  IndexIDMap,
  IndexIDMap2,
  IndexHNSWFlat,
  IndexIVF,
  IndexIVFFlat,
  IndexIVFPQ,
  IndexIVFPQFastScan,
  IndexIVFRaBitQ,
  IndexPQFastScan,
  IndexRaBitQ,
  IndexIVFScalarQuantizer,
  IndexRefine,
  IndexRefineFlat,
  METRIC_INNER_PRODUCT,
  METRIC_L2,
  readIndex,
  ScalarQuantizer,
  type IdFilterLike,
  type QuantizerType,
  type SearchResult,
} from '../../lib';
import { SIFT_GT_K, sift } from '../helpers/data';
import { readNpy, writeNpy } from '../../lib';
import * as FaissNode from '../../lib/faiss-node';
import { compare, pythonResults, runPython, type Comparison, type Results } from './harness';

interface Spec {
  kind: 'flat' | 'ivfsq' | 'ivfflat' | 'ivfpq' | 'refineflat' | 'rabitq' | 'ivfrabitq' | 'pqfastscan' | 'ivfpqfastscan' | 'hnsw' | 'idmap' | 'idmap2' | 'factory';
  metric: 'ip' | 'l2';
  nlist?: number;
  qtype?: QuantizerType;
  byResidual?: boolean;
  description?: string;
  /** IVF-PQ's sub-quantizers, HNSW's neighbours per node. */
  M?: number;
  nbits?: number;
  /** IndexRefineFlat's candidates per result (over an IVF-PQ). */
  kFactor?: number;
  /** RaBitQ's query bits, given per call (Python: RaBitQSearchParameters / IVFRaBitQSearchParameters). */
  qb?: number;
}

interface Case {
  name: string;
  spec: Spec;
  nprobes: number[]; // [0]: no IVF layer
  ids?: boolean;
}

const K = 10;
const ID_BASE = 2n ** 60n; // ids far above 2^53
const CASES: Case[] = [
  { name: 'IndexFlatIP', spec: { kind: 'flat', metric: 'ip' }, nprobes: [0] },
  { name: 'IndexFlatL2', spec: { kind: 'flat', metric: 'l2' }, nprobes: [0] },
  ...Object.values(ScalarQuantizer).map(
    (qtype): Case => ({ name: `IVF64 ${qtype}`, spec: { kind: 'ivfsq', metric: 'ip', nlist: 64, qtype, byResidual: true }, nprobes: [1, 4, 16, 64] }),
  ),
  { name: 'IndexIVFFlat IVF64 L2', spec: { kind: 'ivfflat', metric: 'l2', nlist: 64 }, nprobes: [1, 8, 64] },
  { name: 'IndexIVFPQ IVF64 M16 nbits8', spec: { kind: 'ivfpq', metric: 'l2', nlist: 64, M: 16, nbits: 8 }, nprobes: [1, 8, 64] },
  { name: 'IndexIVFPQ IVF64 M32 nbits4 IP', spec: { kind: 'ivfpq', metric: 'ip', nlist: 64, M: 32, nbits: 4 }, nprobes: [4] },
  { name: 'IndexRefineFlat(IVF64 PQ16x4) kFactor 4', spec: { kind: 'refineflat', metric: 'l2', nlist: 64, M: 16, nbits: 4, kFactor: 4 }, nprobes: [1, 8] },
  { name: 'IndexRaBitQ L2', spec: { kind: 'rabitq', metric: 'l2' }, nprobes: [0] },
  { name: 'IndexRaBitQ IP', spec: { kind: 'rabitq', metric: 'ip' }, nprobes: [0] },
  { name: 'IndexIVFRaBitQ IVF64 L2', spec: { kind: 'ivfrabitq', metric: 'l2', nlist: 64 }, nprobes: [1, 8, 64] },
  { name: 'IndexIVFRaBitQ IVF64 IP', spec: { kind: 'ivfrabitq', metric: 'ip', nlist: 64 }, nprobes: [4] },
  { name: 'IndexRaBitQ L2, qb 4 per call', spec: { kind: 'rabitq', metric: 'l2', qb: 4 }, nprobes: [0] },
  { name: 'IndexIVFRaBitQ IVF64 L2, qb 6 per call', spec: { kind: 'ivfrabitq', metric: 'l2', nlist: 64, qb: 6 }, nprobes: [8] },
  { name: 'IndexPQFastScan M32 L2', spec: { kind: 'pqfastscan', metric: 'l2', M: 32 }, nprobes: [0] },
  { name: 'IndexPQFastScan M16 IP', spec: { kind: 'pqfastscan', metric: 'ip', M: 16 }, nprobes: [0] },
  { name: 'IndexIVFPQFastScan IVF64 M32 L2', spec: { kind: 'ivfpqfastscan', metric: 'l2', nlist: 64, M: 32 }, nprobes: [1, 8, 64] },
  { name: 'IndexIVFPQFastScan IVF64 M16 IP', spec: { kind: 'ivfpqfastscan', metric: 'ip', nlist: 64, M: 16 }, nprobes: [4] },
  { name: 'IndexHNSWFlat M16', spec: { kind: 'hnsw', metric: 'l2', M: 16 }, nprobes: [0] },
  { name: 'IndexIDMap(FlatIP)', spec: { kind: 'idmap', metric: 'ip' }, nprobes: [0], ids: true },
  { name: 'IndexIDMap2(FlatIP)', spec: { kind: 'idmap2', metric: 'ip' }, nprobes: [0], ids: true },
  { name: '"IVF256,SQ8"', spec: { kind: 'factory', metric: 'ip', description: 'IVF256,SQ8' }, nprobes: [1, 16, 256] },
  { name: '"IVF256,SQfp16"', spec: { kind: 'factory', metric: 'ip', description: 'IVF256,SQfp16' }, nprobes: [1, 16, 256] },
  { name: '"Flat"', spec: { kind: 'factory', metric: 'l2', description: 'Flat' }, nprobes: [0] },
  { name: '"IDMap,Flat"', spec: { kind: 'factory', metric: 'l2', description: 'IDMap,Flat' }, nprobes: [0], ids: true },
];

function buildNode(spec: Spec, d: number): Index {
  const metric = spec.metric === 'ip' ? METRIC_INNER_PRODUCT : METRIC_L2;
  const flat = () => (spec.metric === 'ip' ? new IndexFlatIP(d) : new IndexFlatL2(d));
  switch (spec.kind) {
    case 'flat':
      return flat();
    case 'ivfsq':
      return new IndexIVFScalarQuantizer(flat(), d, spec.nlist!, spec.qtype!, metric, spec.byResidual);
    case 'ivfflat':
      return new IndexIVFFlat(flat(), d, spec.nlist!, metric);
    case 'ivfpq':
      return new IndexIVFPQ(flat(), d, spec.nlist!, spec.M!, spec.nbits!, metric);
    case 'refineflat': {
      const index = new IndexRefineFlat(new IndexIVFPQ(flat(), d, spec.nlist!, spec.M!, spec.nbits!, metric));
      index.kFactor = spec.kFactor!;
      return index;
    }
    case 'rabitq':
      return new IndexRaBitQ(d, metric);
    case 'ivfrabitq':
      return new IndexIVFRaBitQ(flat(), d, spec.nlist!, metric);
    case 'pqfastscan':
      return new IndexPQFastScan(d, spec.M!, 4, metric);
    case 'ivfpqfastscan':
      return new IndexIVFPQFastScan(flat(), d, spec.nlist!, spec.M!, 4, metric);
    case 'hnsw':
      return new IndexHNSWFlat(d, spec.M, metric);
    case 'idmap':
      return new IndexIDMap(flat());
    case 'idmap2':
      return new IndexIDMap2(flat());
    case 'factory':
      return indexFactory(d, spec.description!, metric);
  }
}

export interface ParityRow extends Partial<Comparison> {
  index: string;
  direction: string;
  nprobe: number;
  nq: number;
  recallNode?: number;
  recallPython?: number;
  centroidMaxDiff?: number;
}

const rows: ParityRow[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-parity-'));
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  const out = path.join(__dirname, '..', '..', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'parity.json'), JSON.stringify(rows, null, 1));
});

describe.skipIf(!!process.env.FAISS_NATIVE_SKIP_PARITY)('parity with Python faiss-cpu on SIFT', () => {
  const data = sift();
  const gt = { ip: data.groundTruthIp, l2: data.groundTruthL2 };

  it.each(CASES)('$name', async ({ name, spec, nprobes, ids: withIds }) => {
    const { d } = data;
    // QT_8bit_direct_signed stores integers -128..127; shift SIFT's 0..191 into range.
    const shift = spec.qtype === 'QT_8bit_direct_signed' ? 64 : 0;
    const base = shift ? data.base.map((v) => v - shift) : data.base;
    const queries = shift ? data.queries.map((v) => v - shift) : data.queries;
    const n = base.length / d;
    const nq = queries.length / d;
    const ids = withIds ? BigInt64Array.from({ length: n }, (_, i) => ID_BASE + BigInt(i) * 7n) : undefined;
    const at = (f: string) => path.join(dir, `${name.replace(/\W+/g, '_')}-${f}`);
    writeNpy(at('base.npy'), base, [n, d]);
    writeNpy(at('queries.npy'), queries, [nq, d]);
    if (ids) writeNpy(at('ids.npy'), ids, [n]);

    // Node builds, writes a file and bytes, and searches its own index.
    const mine = buildNode(spec, d);
    await mine.train(base);
    if (ids) await mine.addWithIds(base, ids);
    else await mine.add(base);
    await mine.write(at('node.index'));
    fs.writeFileSync(at('node.bytes'), await mine.serialize());
    const search = (index: Index, nprobe: number) => index.search(queries, K, { ...(nprobe ? { nprobe } : {}), ...(spec.qb === undefined ? {} : { qb: spec.qb }) });
    const nodeOwn = new Map<number, SearchResult>();
    for (const p of nprobes) nodeOwn.set(p, await search(mine, p));

    // Python builds the same, and searches its own index and Node's file and bytes.
    runPython(
      [
        { op: 'build', spec, base: at('base.npy'), ids: ids && at('ids.npy'), indexOut: at('py.index'), bytesOut: at('py.bytes'), centroidsOut: at('centroids.npy') },
        { op: 'search', index: at('py.index'), queries: at('queries.npy'), k: K, nprobes, qb: spec.qb, out: at('py-own') },
        { op: 'search', index: at('node.index'), queries: at('queries.npy'), k: K, nprobes, qb: spec.qb, out: at('py-reads-node-file') },
        { op: 'search', bytes: at('node.bytes'), queries: at('queries.npy'), k: K, nprobes, qb: spec.qb, out: at('py-reads-node-bytes') },
      ],
      dir,
    );

    // Node reads Python's file and bytes; re-serialising gives Python's bytes exactly.
    const fromFile = await readIndex(at('py.index'));
    const fromBytes = await deserializeIndex(fs.readFileSync(at('py.bytes')));
    expect(fromFile.constructor).toBe(mine.constructor);
    expect(Buffer.compare(await fromFile.serialize(), fs.readFileSync(at('py.bytes')))).toBe(0);

    const truth = gt[spec.metric];
    // Recall against the data's ground truth; undefined for shifted data, which it does not describe.
    const recall = (r: Results) => {
      if (shift) return undefined;
      let hit = 0;
      for (let q = 0; q < nq; q++) {
        const want = new Set(Array.from(truth.subarray(q * SIFT_GT_K, q * SIFT_GT_K + K)));
        for (let j = 0; j < K; j++) {
          const label = r.labels[q * K + j];
          if (want.has(Number(ids ? (label - ID_BASE) / 7n : label))) hit++;
        }
      }
      return hit / (nq * K);
    };
    const check = (direction: string, nprobe: number, node: Results, python: Results) => {
      const c = compare(node, python);
      rows.push({ index: name, direction, nprobe, nq, ...c, recallNode: recall(node), recallPython: recall(python) });
      expect(c.maxDistanceDiff, `${direction} nprobe=${nprobe}`).toBeLessThanOrEqual(2e-5);
      // Labels may differ only between equal scores: at most a handful of ties among 5000.
      expect(c.labelMismatches, `${direction} nprobe=${nprobe}`).toBeLessThanOrEqual(nq * K * 0.01);
    };
    for (const p of nprobes) {
      const pyOwn = pythonResults(at('py-own'), p);
      check('python writes file, node reads', p, await search(fromFile, p), pyOwn);
      check('python serializes, node deserializes', p, await search(fromBytes, p), pyOwn);
      check('node writes file, python reads', p, nodeOwn.get(p)!, pythonResults(at('py-reads-node-file'), p));
      check('node serializes, python deserializes', p, nodeOwn.get(p)!, pythonResults(at('py-reads-node-bytes'), p));
    }

    // Each side trains its own: the trained indexes must be close, and recall within 0.5 points.
    if (nprobes[0] !== 0) {
      const centroids = readNpy(at('centroids.npy')).data as Float32Array;
      const ivf = ((mine instanceof IndexRefine ? mine.baseIndex : mine) as IndexIVF).quantizer;
      const nodeCentroids = ivf.reconstructNSync(0, ivf.ntotal);
      let centroidMaxDiff = 0;
      for (let i = 0; i < centroids.length; i++) {
        centroidMaxDiff = Math.max(centroidMaxDiff, Math.abs(nodeCentroids[i] - centroids[i]) / Math.max(1, Math.abs(centroids[i])));
      }
      for (const p of nprobes) {
        const node = nodeOwn.get(p)!;
        const python = pythonResults(at('py-own'), p);
        const row: ParityRow = { index: name, direction: 'each side trains its own', nprobe: p, nq, ...compare(node, python), recallNode: recall(node), recallPython: recall(python), centroidMaxDiff };
        rows.push(row);
        expect(centroidMaxDiff, 'centroids').toBeLessThanOrEqual(1e-3);
        // Recall within 0.5 points (for shifted data, where recall is undefined: the same results).
        if (row.recallNode === undefined) expect(row.maxDistanceDiff).toBeLessThanOrEqual(2e-5);
        else expect(Math.abs(row.recallNode - row.recallPython!), `recall at nprobe=${p}`).toBeLessThanOrEqual(0.005);
      }
    }
  });
});

describe.skipIf(!!process.env.FAISS_NATIVE_SKIP_PARITY)('mergeFrom parity with Python merge_from on SIFT', () => {
  const data = sift();
  const MERGES: { name: string; make: (base: Float32Array) => Index; ids?: boolean; addId: (n: number) => number }[] = [
    { name: 'IndexFlatIP', make: () => new IndexFlatIP(data.d), addId: () => 0 },
    {
      name: 'IVF64 QT_8bit',
      make: (base) => {
        const ivf = new IndexIVFScalarQuantizer(data.d, 64, 'QT_8bit');
        ivf.trainSync(base);
        return ivf;
      },
      addId: (n) => n / 2, // the second half keeps the ids one index would have given it
    },
    { name: 'IndexIDMap2(FlatL2)', make: () => new IndexIDMap2(new IndexFlatL2(data.d)), ids: true, addId: () => 0 },
  ];

  it.each(MERGES)('$name: the same merged file bytes and results as Python', async ({ name, make, ids: withIds, addId }) => {
    const { d, base, queries } = data;
    const n = base.length / d;
    const half = n / 2;
    const ids = withIds ? BigInt64Array.from({ length: n }, (_, i) => ID_BASE + BigInt(i) * 7n) : undefined;
    const at = (f: string) => path.join(dir, `merge-${name.replace(/\W+/g, '_')}-${f}`);
    writeNpy(at('base.npy'), base, [n, d]);
    if (ids) writeNpy(at('ids.npy'), ids, [n]);
    make(base).writeSync(at('trained.index'));

    const a = await readIndex(at('trained.index'));
    const b = await readIndex(at('trained.index'));
    if (ids) {
      await a.addWithIds(base.subarray(0, half * d), ids.subarray(0, half));
      await b.addWithIds(base.subarray(half * d), ids.subarray(half));
    } else {
      await a.add(base.subarray(0, half * d));
      await b.add(base.subarray(half * d));
    }
    await a.mergeFrom(b, addId(n));
    expect([a.ntotal, b.ntotal]).toEqual([n, 0]);

    runPython([{ op: 'merge', trained: at('trained.index'), base: at('base.npy'), ids: ids && at('ids.npy'), addId: addId(n), indexOut: at('py.index') }], dir);
    expect(Buffer.compare(await a.serialize(), fs.readFileSync(at('py.index')))).toBe(0);
    const python = await readIndex(at('py.index'));
    const options = a instanceof IndexIVFScalarQuantizer ? { nprobe: 8 } : {};
    const c = compare(await a.search(queries, K, options), await python.search(queries, K, options));
    rows.push({ index: `mergeFrom ${name}`, direction: 'node merges, python merges', nprobe: 'nprobe' in options ? 8 : 0, nq: queries.length / d, ...c });
    expect(c.labelsIdentical).toBe(true);
    expect(c.maxDistanceDiff).toBe(0);
  });
});

describe.skipIf(!!process.env.FAISS_NATIVE_SKIP_PARITY)('filtered search parity with Python SearchParameters(sel=...) on SIFT', () => {
  const data = sift();
  const INDEXES: { name: string; make: () => Index; ids?: boolean; nprobe: number }[] = [
    { name: 'IndexFlatL2', make: () => new IndexFlatL2(data.d), nprobe: 0 },
    { name: 'IVF64 QT_8bit', make: () => new IndexIVFScalarQuantizer(data.d, 64, 'QT_8bit', METRIC_L2), nprobe: 8 },
    { name: 'IndexIDMap2(FlatIP)', make: () => new IndexIDMap2(new IndexFlatIP(data.d)), ids: true, nprobe: 0 },
  ];

  it.each(INDEXES)('$name: ids, bitmap, range and their inverse give Python\'s results', async ({ name, make, ids: withIds, nprobe }) => {
    const { d, base, queries } = data;
    const n = base.length / d;
    const nq = queries.length / d;
    const at = (f: string) => path.join(dir, `filter-${name.replace(/\W+/g, '_')}-${f}`);
    const ids = withIds ? BigInt64Array.from({ length: n }, (_, i) => 1000n + BigInt(i) * 3n) : undefined;
    const idOf = (i: number) => (ids ? ids[i] : BigInt(i));
    const index = make();
    await index.train(base);
    if (ids) await index.addWithIds(base, ids);
    else await index.add(base);
    await index.write(at('node.index'));
    writeNpy(at('queries.npy'), queries, [nq, d]);

    // Every third vector, by id; the same set as a bitmap; a range over the middle third.
    const chosen = BigInt64Array.from({ length: Math.ceil(n / 3) }, (_, j) => idOf(j * 3));
    writeNpy(at('ids.npy'), chosen, [chosen.length]);
    const bitmap = new Uint8Array(Number(idOf(n - 1) / 8n) + 1);
    for (const id of chosen) bitmap[Number(id >> 3n)] |= 1 << Number(id & 7n);
    writeNpy(at('bitmap.npy'), bitmap, [bitmap.length]);
    const [min, max] = [idOf(n / 3), idOf((2 * n) / 3)];
    const filters: { node: IdFilterLike; python: object }[] = [];
    for (const not of [false, true]) {
      filters.push({ node: { ids: chosen, not }, python: { kind: 'ids', ids: at('ids.npy'), not } });
      filters.push({ node: { bitmap, not }, python: { kind: 'bitmap', bitmap: at('bitmap.npy'), not } });
      filters.push({ node: { range: [min, max], not }, python: { kind: 'range', min: Number(min), max: Number(max), not } });
    }
    runPython([{ op: 'filtered', index: at('node.index'), queries: at('queries.npy'), k: K, nprobe, filters: filters.map((f) => f.python), out: at('py') }], dir);
    for (const [i, f] of filters.entries()) {
      // plan 'index': FAISS's own filtered search, as Python runs it (the default plan may widen nprobe).
      const mine = await index.search(queries, K, nprobe ? { nprobe, filter: f.node, plan: 'index' } : { filter: f.node, plan: 'index' });
      expect(mine.plan).toBe('index');
      const c = compare(mine, pythonResults(at('py'), i));
      const form = Object.keys(f.node).find((key) => key !== 'not');
      rows.push({ index: `filtered ${name}`, direction: `${f.node.not ? 'not ' : ''}${form}, both search Node's file`, nprobe, nq, ...c });
      expect(c.labelsIdentical, `${form} not=${f.node.not}`).toBe(true);
      expect(c.maxDistanceDiff, `${form} not=${f.node.not}`).toBe(0);
    }
    index.dispose();
  });
});

describe.skipIf(!!process.env.FAISS_NATIVE_SKIP_PARITY)('faiss-native/faiss-node reads any type Python writes', () => {
  const data = sift();
  const TYPES = [
    { name: '"HNSW16,SQ8"', description: 'HNSW16,SQ8', nprobe: 0 },
    { name: '"PQ16x4"', description: 'PQ16x4', nprobe: 0 },
  ];

  it.each(TYPES)('$name: read and fromBuffer give the bytes and results of Python', async ({ name, description, nprobe }) => {
    const { d, base, queries } = data;
    const nq = queries.length / d;
    const at = (f: string) => path.join(dir, `compat-${name.replace(/\W+/g, '_')}-${f}`);
    writeNpy(at('base.npy'), base, [base.length / d, d]);
    writeNpy(at('queries.npy'), queries, [nq, d]);
    const spec: Spec = { kind: 'factory', metric: 'l2', description };
    runPython(
      [
        { op: 'build', spec, base: at('base.npy'), indexOut: at('py.index'), bytesOut: at('py.bytes') },
        { op: 'search', index: at('py.index'), queries: at('queries.npy'), k: K, nprobes: [nprobe], out: at('py-own') },
      ],
      dir,
    );
    // The main API refuses types it does not check yet unless told the file is trusted.
    await expect(readIndex(at('py.index'))).rejects.toThrow(/does not load faiss::Index\w+ indexes yet/);
    const bytes = fs.readFileSync(at('py.bytes'));
    const fromFile = FaissNode.IndexFlatL2.read(at('py.index'));
    const fromBytes = FaissNode.Index.fromBuffer(bytes);
    const python = pythonResults(at('py-own'), nprobe);
    for (const [direction, index] of [['python writes file, faiss-node compat reads', fromFile], ['python serializes, faiss-node compat fromBuffer', fromBytes]] as const) {
      expect(Buffer.compare(index.toBuffer(), bytes)).toBe(0);
      const r = index.search(queries, K);
      const c = compare({ distances: Float32Array.from(r.distances), labels: BigInt64Array.from(r.labels, BigInt) }, python);
      rows.push({ index: `faiss-node compat ${name}`, direction, nprobe, nq, ...c });
      expect(c.labelsIdentical, direction).toBe(true);
      expect(c.maxDistanceDiff, direction).toBe(0);
      index.dispose();
    }
  });
});

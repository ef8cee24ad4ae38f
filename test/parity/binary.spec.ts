// Python parity of the binary family on SIFT's bits: binarize gives numpy's packbits bytes;
// each index's file and bytes read both ways give identical results (the same FAISS code on
// the same data); an index trained on each side gives the same results; a flat index's filtered
// search equals Python's with SearchParameters(sel=...). Rows go to results/parity-binary.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  binarize,
  deserializeIndexBinary,
  IndexBinary,
  indexBinaryFactory,
  IndexBinaryFlat,
  IndexBinaryHNSW,
  IndexBinaryIDMap,
  IndexBinaryIDMap2,
  IndexBinaryIVF,
  readIndexBinary,
  readNpy,
  writeNpy,
  type BinarySearchResult,
} from '../../lib';
import { sift } from '../helpers/data';
import { runPython } from './harness';

interface Spec {
  kind: 'flat' | 'ivf' | 'hnsw' | 'factory';
  nlist?: number;
  M?: number;
  description?: string;
  idmap?: 1 | 2;
}

const CASES: { name: string; spec: Spec; params: number[]; ids?: boolean }[] = [
  { name: 'IndexBinaryFlat', spec: { kind: 'flat' }, params: [0] },
  { name: 'IndexBinaryIVF nlist 64', spec: { kind: 'ivf', nlist: 64 }, params: [1, 8, 64] },
  { name: 'IndexBinaryHNSW M 16', spec: { kind: 'hnsw', M: 16 }, params: [16, 64] },
  { name: 'IndexBinaryIDMap(Flat)', spec: { kind: 'flat', idmap: 1 }, params: [0], ids: true },
  { name: 'IndexBinaryIDMap2(HNSW M 8)', spec: { kind: 'hnsw', M: 8, idmap: 2 }, params: [32], ids: true },
  { name: "factory 'BIVF32_HNSW8'", spec: { kind: 'factory', description: 'BIVF32_HNSW8' }, params: [4] },
];

const K = 10;
const ID_BASE = 2n ** 60n;
const rows: Record<string, unknown>[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-binary-parity-'));
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  const out = path.join(__dirname, '..', '..', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'parity-binary.json'), JSON.stringify(rows, null, 1));
});

function build(spec: Spec, d: number): IndexBinary {
  let index: IndexBinary;
  if (spec.kind === 'flat') index = new IndexBinaryFlat(d);
  else if (spec.kind === 'ivf') index = new IndexBinaryIVF(new IndexBinaryFlat(d), d, spec.nlist!);
  else if (spec.kind === 'hnsw') index = new IndexBinaryHNSW(d, spec.M);
  else index = indexBinaryFactory(d, spec.description!);
  if (spec.idmap === 1) return new IndexBinaryIDMap(index);
  if (spec.idmap === 2) return new IndexBinaryIDMap2(index);
  return index;
}

/** The search of one parameter value: nprobe of an IVF, efSearch of an HNSW, 0 for none. */
function search(index: IndexBinary, queries: Uint8Array, param: number, spec: Spec): Promise<BinarySearchResult> {
  if (param === 0) return index.search(queries, K);
  const ivf = spec.kind === 'ivf' || spec.kind === 'factory';
  return index.search(queries, K, ivf ? { nprobe: param } : { efSearch: param });
}

/** Positions whose labels differ; distances must be identical (Hamming: integers). */
function compare(node: BinarySearchResult, python: { distances: Int32Array; labels: BigInt64Array }) {
  let labelMismatches = 0;
  let distanceMismatches = 0;
  for (let i = 0; i < node.labels.length; i++) {
    if (node.labels[i] !== python.labels[i]) labelMismatches++;
    if (node.distances[i] !== python.distances[i]) distanceMismatches++;
  }
  return { labelMismatches, distanceMismatches };
}

describe.skipIf(!!process.env.FAISS_NATIVE_SKIP_PARITY)('binary parity with Python faiss-cpu on SIFT bits', () => {
  const data = sift();
  const { d } = data;
  // SIFT's values are all >= 0: bits above each dimension's mean.
  const thresholds = new Float32Array(d);
  for (let i = 0; i < data.base.length; i++) thresholds[i % d] += data.base[i] / (data.base.length / d);
  const base = binarize(data.base, d, thresholds);
  const queries = binarize(data.queries, d, thresholds);
  const n = base.length / (d / 8);
  const nq = queries.length / (d / 8);

  it.each(CASES)('$name', async ({ name, spec, params, ids: withIds }) => {
    const at = (f: string) => path.join(dir, `${name.replace(/\W+/g, '_')}-${f}`);
    writeNpy(at('floats.npy'), data.base, [n, d]);
    writeNpy(at('thresholds.npy'), thresholds, [d]);
    writeNpy(at('base.npy'), base, [n, d / 8]);
    writeNpy(at('queries.npy'), queries, [nq, d / 8]);
    const ids = withIds ? BigInt64Array.from({ length: n }, (_, i) => ID_BASE + BigInt(i) * 7n) : undefined;
    if (ids) writeNpy(at('ids.npy'), ids, [n]);
    const bitmap = new Uint8Array(Math.ceil(n / 8)).map((_, i) => (i % 3 === 0 ? 0b10110101 : 0));
    writeNpy(at('bitmap.npy'), bitmap, [bitmap.length]);
    const filters = spec.kind === 'flat' && !spec.idmap;

    const graph = spec.kind === 'hnsw' || (spec.description ?? '').includes('HNSW');
    // Recall@10 against exact Hamming search: results within the 10th exact distance (ties count).
    const exact = new IndexBinaryFlat(d);
    exact.addSync(base);
    const truth = exact.searchSync(queries, K).distances;
    const recallOf = (r: { distances: Int32Array }) => r.distances.filter((dist, i) => dist <= truth[Math.floor(i / K) * K + K - 1]).length / (nq * K);

    const mine = build(spec, d);
    await mine.train(base);
    if (ids) await mine.addWithIds(base, ids);
    else await mine.add(base);
    await mine.write(at('node.index'));
    fs.writeFileSync(at('node.bytes'), await mine.serialize());

    runPython(
      [
        {
          op: 'binary',
          spec,
          floats: at('floats.npy'),
          thresholds: at('thresholds.npy'),
          binarizedOut: at('py-binarized.npy'),
          base: at('base.npy'),
          queries: at('queries.npy'),
          ids: ids && at('ids.npy'),
          indexOut: at('py.index'),
          bytesOut: at('py.bytes'),
          nodeIndex: at('node.index'),
          nodeBytes: at('node.bytes'),
          params,
          k: K,
          filters: filters
            ? [
                { kind: 'range', min: 1000, max: 3000, not: false },
                { kind: 'bitmap', bitmap: at('bitmap.npy'), not: false },
                { kind: 'range', min: 0, max: 4400, not: true },
              ]
            : [],
          out: at('py'),
        },
      ],
      dir,
    );
    const py = (source: string, param: number) => ({
      distances: readNpy(at(`py_${source}_D${param}.npy`)).data as Int32Array,
      labels: readNpy(at(`py_${source}_I${param}.npy`)).data as BigInt64Array,
    });

    // numpy's packbits of the same comparison: the same bytes.
    expect(Buffer.compare(Buffer.from(readNpy(at('py-binarized.npy')).data as Uint8Array), Buffer.from(base))).toBe(0);

    const fromFile = await readIndexBinary(at('py.index'));
    const fromBytes = await deserializeIndexBinary(fs.readFileSync(at('py.bytes')));
    expect(fromFile.constructor).toBe(mine.constructor);
    expect(Buffer.compare(await fromFile.serialize(), fs.readFileSync(at('py.bytes')))).toBe(0);

    for (const param of params) {
      const checks: [string, BinarySearchResult, ReturnType<typeof py>][] = [
        ['python writes file, node reads', await search(fromFile, queries, param, spec), py('own', param)],
        ['python serializes, node deserializes', await search(fromBytes, queries, param, spec), py('own', param)],
        ['node writes file, python reads', await search(mine, queries, param, spec), py('node-file', param)],
        ['node serializes, python deserializes', await search(mine, queries, param, spec), py('node-bytes', param)],
        // k-means (IVF) and graph building (HNSW) on each side: the same FAISS code, seeded.
        ['each side builds its own', await search(mine, queries, param, spec), py('own', param)],
      ];
      for (const [direction, node, python] of checks) {
        const c = compare(node, python);
        // HNSW graphs are built by several threads, so two builds differ: their recall is compared.
        if (direction === 'each side builds its own' && graph) {
          const recallNode = recallOf(node);
          const recallPython = recallOf(python);
          rows.push({ index: name, direction, param, nq, recallNode, recallPython });
          expect(Math.abs(recallNode - recallPython), `recall ${param}`).toBeLessThanOrEqual(0.03);
          continue;
        }
        rows.push({ index: name, direction, param, nq, ...c });
        expect(c, `${direction} ${param}`).toEqual({ labelMismatches: 0, distanceMismatches: 0 });
      }
    }

    if (filters) {
      const forms = [{ range: [1000, 3000] as [number, number] }, { bitmap }, { range: [0, 4400] as [number, number], not: true }];
      for (const [i, filter] of forms.entries()) {
        const python = { distances: readNpy(at(`py_filter${i}_D.npy`)).data as Int32Array, labels: readNpy(at(`py_filter${i}_I.npy`)).data as BigInt64Array };
        const c = compare(await mine.search(queries, K, { filter }), python);
        rows.push({ index: name, direction: `filter ${i}, both sides`, param: 0, nq, ...c });
        expect(c).toEqual({ labelMismatches: 0, distanceMismatches: 0 });
      }
    }
    for (const index of [mine, fromFile, fromBytes, exact]) index.dispose();
  });
});

// LangChain.js's FaissStore, unmodified, over faiss-native/faiss-node with the README's one-line
// setup (the faiss-node package is not installed). Passages are SIFT vectors
// (test/helpers/sift-embeddings.ts), so every expected value comes from brute force.
import { FaissStore } from '@langchain/community/vectorstores/faiss';
import { Document } from '@langchain/core/documents';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexFlatL2 as NativeFlatL2 } from '../lib';
import { bruteForce, score } from './helpers/brute-force';
import { sift } from './helpers/data';
import { passage, question, row, rowOf as rowOfText, SiftEmbeddings } from './helpers/sift-embeddings';
import { writeNpy } from '../lib';
import { runPython } from './parity/harness';

const { d, base, queries } = sift();

const embeddings = new SiftEmbeddings();
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const docs = (rows: number[]) => rows.map((i) => new Document({ pageContent: passage(i), metadata: { row: i } }));
const rowOf = (doc: Document) => rowOfText(doc.pageContent);

/** Each stored passage's own vector finds that passage first, at distance 0. */
async function expectEachFindsItself(store: FaissStore, rows: number[]): Promise<void> {
  for (const i of rows) {
    const [[doc, distance]] = await store.similaritySearchVectorWithScore(row(base, i), 1);
    expect([doc.pageContent, doc.metadata.row, distance]).toEqual([passage(i), i, 0]);
  }
}

/** Top-4 squared L2 distances equal brute force over the stored rows, and each is its document's true distance. */
async function expectExactTop4(store: FaissStore, rows: number[]): Promise<void> {
  const stored = new Float32Array(rows.length * d);
  rows.forEach((i, at) => stored.set(base.subarray(i * d, (i + 1) * d), at * d));
  for (let j = 0; j < 20; j++) {
    const q = queries.subarray(j * d, (j + 1) * d);
    const results = await store.similaritySearchVectorWithScore(Array.from(q), 4);
    expect(results.map(([, s]) => s)).toEqual(Array.from(bruteForce('l2', stored, q, d, 4).scores[0]));
    for (const [doc, s] of results) expect(score('l2', q, 0, base, rowOf(doc), d)).toBe(s);
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-langchain-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('LangChain FaissStore over faiss-native/faiss-node', () => {
  beforeAll(() => {
    // The README's setup line, verbatim.
    FaissStore.importFaiss = () => import('faiss-native/faiss-node');
  });

  it('runs without the faiss-node package', () => {
    expect(() => createRequire(import.meta.url).resolve('faiss-node')).toThrow(/Cannot find module 'faiss-node'/);
  });

  it('fromTexts and fromDocuments: every passage finds itself; top-4 distances are exact', async () => {
    const fromTexts = await FaissStore.fromTexts(range(0, 300).map(passage), range(0, 300).map((i) => ({ row: i })), embeddings);
    expect(fromTexts.index.ntotal()).toBe(300);
    expect(fromTexts.index.getDimension()).toBe(d);
    await expectEachFindsItself(fromTexts, range(0, 300));
    await expectExactTop4(fromTexts, range(0, 300));

    const fromDocuments = await FaissStore.fromDocuments(docs(range(300, 400)), embeddings);
    await expectEachFindsItself(fromDocuments, range(300, 400));
    // similaritySearch embeds the question through the Embeddings, as an application does.
    const [top] = await fromDocuments.similaritySearch(question(3), 1);
    expect(top.pageContent).toBe(passage(300 + bruteForce('l2', base.subarray(300 * d, 400 * d), queries.subarray(3 * d, 4 * d), d, 1).ids[0][0]));
  });

  it('addVectors and addDocuments with and without ids; delete removes exactly the deleted', async () => {
    const store = await FaissStore.fromDocuments(docs(range(0, 100)), embeddings);
    const generated = await store.addDocuments(docs(range(100, 150)));
    expect(new Set(generated).size).toBe(50);
    const named = range(150, 200).map((i) => `p${i}`);
    expect(await store.addDocuments(docs(range(150, 200)), { ids: named })).toEqual(named);
    await store.addVectors(range(200, 250).map((i) => row(base, i)), docs(range(200, 250)));
    const namedVectors = range(250, 300).map((i) => `v${i}`);
    expect(await store.addVectors(range(250, 300).map((i) => row(base, i)), docs(range(250, 300)), { ids: namedVectors })).toEqual(namedVectors);
    expect(store.index.ntotal()).toBe(300);
    await expectEachFindsItself(store, range(0, 300));

    // Removal renumbers FAISS's flat ids; LangChain's mapping must still point at the right documents.
    await store.delete({ ids: [...named, ...generated.slice(0, 10)] });
    expect(store.index.ntotal()).toBe(240);
    const kept = [...range(0, 100), ...range(110, 150), ...range(200, 300)];
    await expectEachFindsItself(store, kept);
    await expectExactTop4(store, kept);
    for (const i of [...range(100, 110), ...range(150, 200)]) {
      const [[doc]] = await store.similaritySearchVectorWithScore(row(base, i), 1);
      expect(doc.pageContent).not.toBe(passage(i));
    }
  });

  it('mergeFrom and fromIndex: the merged store finds every passage of both; the source index is emptied', async () => {
    const a = await FaissStore.fromDocuments(docs(range(0, 100)), embeddings);
    const b = await FaissStore.fromDocuments(docs(range(100, 200)), embeddings);
    await a.mergeFrom(b);
    expect([a.index.ntotal(), b.index.ntotal()]).toEqual([200, 0]); // FAISS's merge_from moves the vectors
    await expectEachFindsItself(a, range(0, 200));
    await expectExactTop4(a, range(0, 200));

    const c = await FaissStore.fromDocuments(docs(range(200, 260)), embeddings);
    const fromIndex = await FaissStore.fromIndex(c, embeddings);
    await expectEachFindsItself(fromIndex, range(200, 260));
  });

  it('save then load: the same index and the same answers', async () => {
    const store = await FaissStore.fromDocuments(docs(range(0, 200)), embeddings);
    const saved = path.join(dir, 'saved');
    await store.save(saved);
    const loaded = await FaissStore.load(saved, embeddings);
    expect(loaded.index.ntotal()).toBe(200);
    expect(loaded.index.index).toBeInstanceOf(NativeFlatL2); // the typed, async API is one step away
    for (let j = 0; j < 20; j++) {
      const q = row(queries, j);
      expect(await loaded.similaritySearchVectorWithScore(q, 4)).toEqual(await store.similaritySearchVectorWithScore(q, 4));
    }
  });

  it.skipIf(!!process.env.FAISS_NATIVE_SKIP_PARITY)('loadFromPython: a store saved by Python LangChain; each stored vector finds its own document', async () => {
    const rows = range(0, 300);
    const pyDir = path.join(dir, 'python-store');
    writeNpy(path.join(dir, 'python-vectors.npy'), base.subarray(0, rows.length * d), [rows.length, d]);
    runPython([{ op: 'langchain', vectors: path.join(dir, 'python-vectors.npy'), texts: rows.map(passage), ids: rows.map((i) => `py-${i}`), out: pyDir }], dir);
    expect(fs.readdirSync(pyDir).sort()).toEqual(['index.faiss', 'index.pkl']);

    const store = await FaissStore.loadFromPython(pyDir, embeddings);
    expect(store.index.ntotal()).toBe(300);
    await expectEachFindsItself(store, rows);
    await expectExactTop4(store, rows);
    expect(store.getMapping()[7]).toBe('py-7');
  });
});

// faiss-native/langchain's FaissStore against the real @langchain/core: pre-filtered searches
// equal brute force over the documents Python LangChain's own filter function matches, on SIFT
// passages (test/helpers/sift-embeddings.ts); ids, delete, MMR (against Python's), and save/load
// (its own crash-safe format, LangChain.js's FaissStore files, Python LangChain's save_local).
import { FaissStore as LangChainJsFaissStore } from '@langchain/community/vectorstores/faiss';
import { Document, type DocumentInterface } from '@langchain/core/documents';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexIDMap2, METRIC_INNER_PRODUCT, writeNpy } from '../lib';
import { native } from '../lib/native';
import { FaissStore, type MetadataFilter, type StoreFilter } from '../lib/langchain';
import { bruteForce, score, type Metric } from './helpers/brute-force';
import { sift } from './helpers/data';
import { passage, question, row, rowOf, SiftEmbeddings } from './helpers/sift-embeddings';
import { runPython } from './parity/harness';

const { d, base, queries } = sift();
const embeddings = new SiftEmbeddings();
const N = 2000;
const NQ = 20;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const rows = range(0, N);
/** The base vectors of these rows, together. */
function rowsOf(of: number[]): Float32Array {
  const out = new Float32Array(of.length * d);
  of.forEach((i, at) => out.set(base.subarray(i * d, (i + 1) * d), at * d));
  return out;
}

/** Metadata of passage i: fields that make filters of every selectivity. */
function metadataOf(i: number): Record<string, unknown> {
  return { row: i, group: i % 10, tag: ['a', 'b', 'c'][i % 3], rare: i % 100 === 7, score: (i * 37) % 1000, ...(i % 5 === 0 ? {} : { opt: 'x' }) };
}
const ids = (of: number[]) => of.map((i) => `doc-${i}`);
/** Passages with their metadata and ids doc-i. */
const docs = (of: number[]) => of.map((i) => new Document({ pageContent: passage(i), metadata: metadataOf(i), id: `doc-${i}` }));
/** The same without ids. */
const anonymous = (of: number[]) => of.map((i) => new Document({ pageContent: passage(i), metadata: metadataOf(i) }));

/** Filters of every selectivity, each with the rows it matches written as plain JavaScript. */
const FILTERS: [MetadataFilter, (i: number) => boolean][] = [
  [{ group: 3 }, (i) => i % 10 === 3],
  [{ group: [1, 2] }, (i) => i % 10 === 1 || i % 10 === 2],
  [{ group: { $in: [4] }, tag: 'b' }, (i) => i % 10 === 4 && i % 3 === 1],
  [{ score: { $gte: 100, $lt: 150 } }, (i) => (i * 37) % 1000 >= 100 && (i * 37) % 1000 < 150],
  [{ rare: true }, (i) => i % 100 === 7],
  [{ $or: [{ group: 1 }, { tag: 'c' }] }, (i) => i % 10 === 1 || i % 3 === 2],
  [{ $not: { group: { $nin: [0, 5] } } }, (i) => i % 5 === 0],
  [{ $and: [{ group: { $neq: 3 } }, { score: { $lte: 10 } }] }, (i) => i % 10 !== 3 && (i * 37) % 1000 <= 10],
  [{ opt: null }, (i) => i % 5 === 0],
  [{ group: 99 }, () => false],
];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-langchain-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The rows each filter matches, by Python LangChain FAISS's own filter function. */
function pythonMatches(filters: MetadataFilter[]): number[][] {
  const out = path.join(dir, `matches-${Math.random().toString(36).slice(2)}.json`);
  runPython([{ op: 'langchain_filter', filters, metadatas: rows.map(metadataOf), out }], dir);
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

/** The store's top k for query j equal brute force over `allowed` rows: the same scores, each its document's true score. */
async function expectExact(store: FaissStore, allowed: number[], j: number, k: number, filter?: StoreFilter, metric: Metric = 'l2'): Promise<void> {
  const q = queries.subarray(j * d, (j + 1) * d);
  const subset = rowsOf(allowed);
  const truth = allowed.length === 0 ? [] : Array.from(bruteForce(metric, subset, q, d, k).scores[0]);
  const results = await store.similaritySearchVectorWithScore(Array.from(q), k, filter);
  expect(results.map(([, s]) => s)).toEqual(truth);
  const allowedSet = new Set(allowed);
  for (const [doc, s] of results) {
    const i = rowOf(doc.pageContent);
    expect(allowedSet.has(i)).toBe(true);
    expect([doc.id, doc.metadata]).toEqual([`doc-${i}`, metadataOf(i)]);
    expect(score(metric, q, 0, base, i, d)).toBe(s);
  }
}

/** Fraction of the exact top k (over `allowed`) the store finds, over NQ queries. */
async function recall(store: FaissStore, allowed: number[], k: number, filter: StoreFilter): Promise<number> {
  const subset = rowsOf(allowed);
  let found = 0;
  for (let j = 0; j < NQ; j++) {
    const truth = new Set(bruteForce('l2', subset, queries.subarray(j * d, (j + 1) * d), d, k).ids[0].map((at) => allowed[at]));
    for (const [doc] of await store.similaritySearchVectorWithScore(row(queries, j), k, filter)) found += truth.has(rowOf(doc.pageContent)) ? 1 : 0;
  }
  return found / (NQ * Math.min(k, allowed.length));
}

describe('FaissStore (faiss-native/langchain)', () => {
  const flat = FaissStore.fromDocuments(docs(rows), embeddings);

  it.skipIf(!!process.env.FAISS_NATIVE_SKIP_PARITY)('metadata filters match what Python LangChain FAISS matches, and search only those documents (Flat: exact)', async () => {
    const store = await flat;
    const expected = pythonMatches(FILTERS.map(([filter]) => filter));
    expect(expected).toEqual(FILTERS.map(([, matches]) => rows.filter(matches)));
    for (const [f, [filter]] of FILTERS.entries()) {
      for (let j = 0; j < 5; j++) await expectExact(store, expected[f], j, 10, filter);
    }
  });

  it('a predicate gets each document; k beyond the matches gives all the matches', async () => {
    const store = await flat;
    const allowed = rows.filter((i) => i % 250 === 3);
    const seen: DocumentInterface[] = [];
    const results = await store.similaritySearchVectorWithScore(row(queries, 0), 10, (doc) => (seen.push(doc), rowOf(doc.pageContent) % 250 === 3));
    expect(seen.length).toBe(N);
    expect(results.length).toBe(allowed.length);
    for (let j = 0; j < 5; j++) await expectExact(store, allowed, j, 10, (doc) => rowOf(doc.pageContent) % 250 === 3);
    // similaritySearch embeds the question, as an application does.
    const [top] = await store.similaritySearch(question(4), 1, { group: 7 });
    const group7 = rows.filter((i) => i % 10 === 7);
    const subset = rowsOf(group7);
    expect(score('l2', queries, 4, base, rowOf(top.pageContent), d)).toBe(bruteForce('l2', subset, queries.subarray(4 * d, 5 * d), d, 1).scores[0][0]);
  });

  it('bad filters are TypeErrors naming the problem', async () => {
    const store = await flat;
    const q = row(queries, 0);
    await expect(store.similaritySearchVectorWithScore(q, 4, { group: { $like: 3 } } as never)).rejects.toThrow(/unsupported operator '\$like'/);
    await expect(store.similaritySearchVectorWithScore(q, 4, { $xor: [] } as never)).rejects.toThrow(/unsupported operator '\$xor'/);
    await expect(store.similaritySearchVectorWithScore(q, 4, { group: { $in: 3 } } as never)).rejects.toThrow(/filter.group.\$in must be an array/);
    await expect(store.similaritySearchVectorWithScore(q, 4, { group: { nested: 1 } } as never)).rejects.toThrow(/unsupported operator 'nested'/);
    await expect(store.similaritySearchVectorWithScore(q, 0)).rejects.toThrow(RangeError);
    await expect(store.similaritySearchVectorWithScore(q.slice(1), 4)).rejects.toThrow(/d=128/);
  });

  it('HNSW: a selective filter takes the exact plan (equal to brute force); a loose one keeps recall', async () => {
    const store = await FaissStore.fromDocuments(docs(rows), embeddings, { index: 'HNSW32' });
    const rare = rows.filter((i) => i % 100 === 7);
    const before = native.allowedRowSearches();
    for (let j = 0; j < NQ; j++) await expectExact(store, rare, j, 10, { rare: true });
    expect(native.allowedRowSearches() - before).toBe(NQ);
    const group = rows.filter((i) => i % 10 === 3);
    expect(await recall(store, group, 10, { group: 3 })).toBeGreaterThanOrEqual(0.95);
    // Per-search parameters reach the HNSW layer (efSearch 1 finds less than the default).
    const narrow = await store.similaritySearchVectorWithScore(row(queries, 0), 10, undefined, { efSearch: 1 });
    expect(narrow.length).toBe(10);
  });

  it('IVF from a factory string, trained on the first add; nprobe per search (all lists: exact)', async () => {
    const store = await FaissStore.fromDocuments(docs(rows), embeddings, { index: 'IVF16,Flat', searchParams: { nprobe: 2 } });
    expect(store.index?.isTrained).toBe(true);
    const group = rows.filter((i) => i % 10 === 3);
    for (let j = 0; j < 5; j++) {
      const q = row(queries, j);
      const exhaustive = await store.similaritySearchVectorWithScore(q, 10, { group: 3 }, { nprobe: 16 });
      const subset = rowsOf(group);
      expect(exhaustive.map(([, s]) => s)).toEqual(Array.from(bruteForce('l2', subset, queries.subarray(j * d, (j + 1) * d), d, 10).scores[0]));
    }
  });

  it('inner product through the metric option', async () => {
    const store = await FaissStore.fromDocuments(docs(range(0, 500)), embeddings, { metric: METRIC_INNER_PRODUCT });
    const allowed = range(0, 500).filter((i) => i % 3 === 1);
    for (let j = 0; j < 5; j++) await expectExact(store, allowed, j, 5, { tag: 'b' }, 'ip');
  });

  for (const kind of ['Flat', 'HNSW32'] as const) {
    it(`${kind}: ids (given, from the documents, generated); delete removes exactly those, also from filters`, async () => {
      const store = new FaissStore(embeddings, { index: kind });
      expect(await store.addDocuments(docs(range(0, 100)), { ids: ids(range(0, 100)) })).toEqual(ids(range(0, 100)));
      expect(await store.addDocuments(docs(range(100, 150)))).toEqual(ids(range(100, 150)));
      const generated = await store.addVectors(range(150, 200).map((i) => row(base, i)), anonymous(range(150, 200)));
      expect(new Set(generated).size).toBe(50);
      await expect(store.addDocuments(docs([0]), { ids: ['doc-0'] })).rejects.toThrow(/already in the store/);
      await expect(store.delete({ ids: ['doc-1', 'nope'] })).rejects.toThrow(/ids not in the store: nope/);
      expect(store.size).toBe(200);

      await store.delete({ ids: [...ids(range(0, 50)), ...generated] });
      expect(await store.addDocuments(docs([0]))).toEqual(['doc-0']); // a deleted id can come back
      await store.delete({ ids: ['doc-0'] });
      expect(store.size).toBe(100);
      // Flat removes them from the index; HNSW cannot, so they stay there, never returned.
      expect(store.index!.ntotal).toBe(kind === 'Flat' ? 100 : 201);
      const kept = range(50, 150);
      for (let j = 0; j < 5; j++) {
        const q = queries.subarray(j * d, (j + 1) * d);
        const subset = rowsOf(kept);
        const truth = bruteForce('l2', subset, q, d, 10).ids[0].map((at) => kept[at]);
        const found = (await store.similaritySearchVectorWithScore(Array.from(q), 10)).map(([doc]) => rowOf(doc.pageContent));
        if (kind === 'Flat') expect(found).toEqual(truth);
        else expect(found.every((i) => i >= 50 && i < 150)).toBe(true);
        const filtered = (await store.similaritySearchVectorWithScore(Array.from(q), 200, { tag: 'a' })).map(([doc]) => rowOf(doc.pageContent));
        if (kind === 'Flat') expect(filtered.sort((a, b) => a - b)).toEqual(kept.filter((i) => i % 3 === 0));
        else expect(filtered.every((i) => i >= 50 && i < 150 && i % 3 === 0)).toBe(true);
      }
    });
  }

  it.skipIf(!!process.env.FAISS_NATIVE_SKIP_PARITY)('maxMarginalRelevanceSearch picks what Python LangChain picks; with a filter, only matches', async () => {
    const some = range(0, 500);
    const store = await FaissStore.fromDocuments(docs(some), embeddings, { index: 'HNSW32' });
    writeNpy(path.join(dir, 'mmr-vectors.npy'), base.subarray(0, some.length * d), [some.length, d]);
    writeNpy(path.join(dir, 'mmr-queries.npy'), queries.subarray(0, NQ * d), [NQ, d]);
    const out = path.join(dir, 'mmr.json');
    runPython([{ op: 'langchain_mmr', vectors: path.join(dir, 'mmr-vectors.npy'), texts: some.map(passage), ids: some.map((i) => `doc-${i}`), queries: path.join(dir, 'mmr-queries.npy'), k: 4, fetchK: 20, lambda: 0.5, out }], dir);
    const python = JSON.parse(fs.readFileSync(out, 'utf8')) as string[][];
    // Python's store is flat; HNSW finds the same 20 nearest on 500 SIFT vectors at the default efSearch.
    const exact = await FaissStore.fromDocuments(docs(some), embeddings);
    for (let j = 0; j < NQ; j++) {
      expect((await exact.maxMarginalRelevanceSearch(question(j), { k: 4, fetchK: 20, lambda: 0.5 })).map((doc) => doc.id)).toEqual(python[j]);
      const picked = await store.maxMarginalRelevanceSearch(question(j), { k: 4, fetchK: 20, lambda: 0.5, filter: { tag: 'c' } });
      expect(picked.length).toBe(4);
      expect(picked.every((doc) => doc.metadata.tag === 'c')).toBe(true);
    }
    // lambda 1 is relevance alone: the plain top k.
    const plain = (await exact.similaritySearch(question(0), 4)).map((doc) => doc.id);
    expect((await exact.maxMarginalRelevanceSearch(question(0), { k: 4, fetchK: 20, lambda: 1 })).map((doc) => doc.id)).toEqual(plain);
  });

  it('MMR on IVF: the direct map is made on first use', async () => {
    const store = await FaissStore.fromDocuments(docs(rows), embeddings, { index: 'IVF16,Flat', searchParams: { nprobe: 16 } });
    const picked = await store.maxMarginalRelevanceSearch(question(1), { k: 4, fetchK: 20, lambda: 0.5 });
    expect(picked.length).toBe(4);
  });
});

describe('FaissStore save and load', () => {
  it('save then load: the same answers, filters, deletions and search parameters', async () => {
    const store = await FaissStore.fromDocuments(docs(rows), embeddings, { index: 'HNSW32', searchParams: { efSearch: 32 } });
    await store.delete({ ids: [(await store.similaritySearch(question(0), 1))[0].id!] });
    const saved = path.join(dir, 'own');
    await store.save(saved);
    await store.save(saved); // again: the older index file goes
    expect(fs.readdirSync(saved).filter((f) => f.endsWith('.faiss')).length).toBe(1);
    const loaded = await FaissStore.load(saved, embeddings);
    expect(loaded.index).toBeInstanceOf(IndexIDMap2);
    expect([loaded.size, loaded.searchParams]).toEqual([N - 1, { efSearch: 32 }]);
    for (let j = 0; j < NQ; j++) {
      for (const filter of [undefined, { group: 3 }, { rare: true }]) {
        expect(await loaded.similaritySearchVectorWithScore(row(queries, j), 10, filter)).toEqual(await store.similaritySearchVectorWithScore(row(queries, j), 10, filter));
      }
    }
  });

  it('a save killed at any moment leaves the previous store or the new one, whole', async () => {
    const target = path.join(dir, 'killed');
    const first = await FaissStore.fromDocuments(docs(range(0, 100)), embeddings);
    await first.save(target);
    let sawNew = 0;
    for (let round = 0; round < 12; round++) {
      await killWhileSaving(target, (round * 11) % 60);
      const loaded = await FaissStore.load(target, embeddings);
      expect([100, 3000]).toContain(loaded.size);
      expect(loaded.index!.ntotal).toBe(loaded.size);
      if (loaded.size === 3000) sawNew++;
      const [[doc, s]] = await loaded.similaritySearchVectorWithScore(row(base, 42), 1);
      expect([doc.pageContent, s]).toEqual([passage(42), 0]);
    }
    console.log(`langchain-store: 12 kills while saving, the new store loaded ${sawNew} times, the old one ${12 - sawNew}`);
  });

  it("loads LangChain.js FaissStore's files (over faiss-native/faiss-node)", async () => {
    LangChainJsFaissStore.importFaiss = () => import('faiss-native/faiss-node') as never;
    const theirs = await LangChainJsFaissStore.fromDocuments(docs(range(0, 300)), embeddings);
    await theirs.delete({ ids: [Object.values(theirs.getMapping())[5]] });
    const saved = path.join(dir, 'langchain-js');
    await theirs.save(saved);
    const ours = await FaissStore.load(saved, embeddings);
    expect(ours.size).toBe(299);
    const kept = range(0, 300).filter((i) => i !== 5);
    for (let j = 0; j < 5; j++) await expectExactIds(ours, kept, j);
    await ours.addDocuments(docs(range(300, 310)));
    const [[doc]] = await ours.similaritySearchVectorWithScore(row(base, 305), 1);
    expect(doc.pageContent).toBe(passage(305));
  });

  it.skipIf(!!process.env.FAISS_NATIVE_SKIP_PARITY)("loads Python LangChain's save_local (index.faiss, index.pkl), metadata filters included", async () => {
    const some = range(0, 1000);
    const pyDir = path.join(dir, 'python');
    writeNpy(path.join(dir, 'py-vectors.npy'), base.subarray(0, some.length * d), [some.length, d]);
    runPython([{ op: 'langchain', vectors: path.join(dir, 'py-vectors.npy'), texts: some.map(passage), ids: ids(some), metadatas: some.map(metadataOf), out: pyDir }], dir);
    const store = await FaissStore.load(pyDir, embeddings);
    expect(store.size).toBe(1000);
    for (let j = 0; j < 5; j++) {
      await expectExact(store, some, j, 10);
      await expectExact(store, some.filter((i) => i % 10 === 3 && i % 3 === 1), j, 10, { group: 3, tag: 'b' });
    }
    // Deleting from a positions-numbered index excludes, never renumbers.
    await store.delete({ ids: ['doc-7'] });
    const [[doc]] = await store.similaritySearchVectorWithScore(row(base, 7), 1);
    expect(doc.pageContent).not.toBe(passage(7));
  });
});

/** The top 10 ids for query j equal brute force's over `allowed` (ties aside: the same scores). */
async function expectExactIds(store: FaissStore, allowed: number[], j: number): Promise<void> {
  const subset = rowsOf(allowed);
  const truth = bruteForce('l2', subset, queries.subarray(j * d, (j + 1) * d), d, 10);
  const results = await store.similaritySearchVectorWithScore(row(queries, j), 10);
  expect(results.map(([, s]) => s)).toEqual(Array.from(truth.scores[0]));
}

/** Runs test/fixtures/keep-saving.cjs (which saves a 3000-document store over `target` forever) and kills it. */
function killWhileSaving(target: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'keep-saving.cjs'), target]);
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), delayMs));
    child.once('exit', () => resolve());
    child.once('error', reject);
  });
}

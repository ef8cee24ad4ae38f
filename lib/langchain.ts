// faiss-native/langchain: a LangChain.js vector store over the main API. Filters are applied
// before the search (the index searches only the matching documents, through the filtered-search
// plans of native/filtered_search.cc), not after it as Python LangChain's FAISS store does
// (fetch_k candidates, then the filter, which returns fewer than k when the filter is selective).
import { Document, type DocumentInterface } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { maximalMarginalRelevance } from '@langchain/core/utils/math';
import { SaveableVectorStore, type MaxMarginalRelevanceSearchOptions } from '@langchain/core/vectorstores';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FaissError } from './errors';
import { indexFactory } from './factory';
import { Index } from './faiss-index';
import { IndexIDMap, IndexIDMap2 } from './id-map';
import { readIndex } from './io';
import { compileFilter, MetadataIndex, type Metadata, type MetadataFilter } from './metadata-filter';
import { checkMetric, METRIC_L2, type MetricType } from './metric';
import type { IdFilterLike, SearchParams } from './search-params';

export type { FieldOperators, MetadataFilter } from './metadata-filter';

/** A store filter: conditions on metadata (Python LangChain FAISS's operators), or a predicate. */
export type StoreFilter = MetadataFilter | ((doc: DocumentInterface) => boolean);

/** Per-search parameters of the store's index (its IVF or HNSW layer). */
export type StoreSearchParams = Omit<SearchParams, 'filter'>;

export interface FaissStoreArgs {
  /**
   * The index: a FAISS factory string ("Flat", "HNSW32", "IVF1024,SQ8", ...), built at the first
   * add with the vectors' dimension, or an Index (empty, or holding vectors numbered by position
   * as LangChain's stores save them). Default "Flat". An untrained index is trained on the
   * vectors of the first add.
   */
  index?: Index | string;
  /** Metric of an index built from a factory string: METRIC_L2 (default, as LangChain's) or METRIC_INNER_PRODUCT. */
  metric?: MetricType;
  /** Parameters of every search (nprobe, efSearch, maxCodes); a search's own override them. */
  searchParams?: StoreSearchParams;
}

/** What `save` writes beside the index file: the documents and how they map to FAISS labels. */
interface SavedStore {
  format: typeof FORMAT;
  index: string;
  labelsArePositions: boolean;
  nextLabel: number;
  deletedLabels: number[];
  searchParams: StoreSearchParams;
  /** [document id, FAISS label, text, metadata] */
  docs: [string, number, string, Metadata][];
}

const FORMAT = 'faiss-native-langchain-1';
const MANIFEST = 'store.json';

/** One stored document and its FAISS label. */
interface Entry {
  label: number;
  doc: Document;
}

/**
 * A LangChain vector store over any faiss-native index, with pre-filtered search.
 * @example
 * const store = await FaissStore.fromDocuments(docs, embeddings, { index: 'HNSW32' });
 * await store.similaritySearch('question', 4, { source: { $in: ['a.pdf', 'b.pdf'] } });
 */
export class FaissStore extends SaveableVectorStore {
  declare FilterType: StoreFilter;
  /** Parameters of every search (nprobe, efSearch, maxCodes). */
  searchParams: StoreSearchParams;
  #index: Index | undefined;
  readonly #factory: string;
  readonly #metric: MetricType;
  /**
   * Whether FAISS labels are positions (an index without an IDMap, as LangChain's stores save
   * them): removing would renumber them, so deleted documents are only excluded from searches.
   */
  #labelsArePositions = false;
  #nextLabel = 0;
  readonly #docs = new Map<string, Entry>();
  readonly #idOfLabel = new Map<number, string>();
  readonly #metadata = new MetadataIndex();
  /** Labels of deleted documents still in the index (it cannot remove them). */
  readonly #deleted = new Set<number>();

  constructor(embeddings: EmbeddingsInterface, args: FaissStoreArgs = {}) {
    super(embeddings, args);
    const { index = 'Flat', metric = METRIC_L2, searchParams = {} } = args;
    this.#metric = checkMetric(metric, 'args.metric');
    this.searchParams = searchParams;
    if (typeof index === 'string') {
      this.#factory = index;
    } else if (index instanceof Index) {
      this.#factory = '';
      this.#adopt(index);
    } else {
      throw new TypeError('args.index must be a factory string or a faiss-native Index');
    }
  }

  _vectorstoreType(): string {
    return 'faiss-native';
  }

  /** The index, once there is one (a factory string is built at the first add). */
  get index(): Index | undefined {
    return this.#index;
  }

  /** Number of stored documents. */
  get size(): number {
    return this.#docs.size;
  }

  /** Takes an index to search: an empty one gets an IDMap2 (stable labels that removal keeps). */
  #adopt(index: Index): void {
    if (index instanceof IndexIDMap) {
      this.#index = index;
    } else if (index.ntotal === 0) {
      this.#index = new IndexIDMap2(index);
    } else {
      this.#index = index;
      this.#labelsArePositions = true;
    }
    this.#nextLabel = this.#labelsArePositions ? index.ntotal : 0;
  }

  async addDocuments(documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]> {
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  /** Adds documents with their vectors; ids default to the documents' own, else new UUIDs. */
  async addVectors(vectors: number[][], documents: DocumentInterface[], options: { ids?: string[] } = {}): Promise<string[]> {
    if (vectors.length !== documents.length) throw new RangeError(`got ${vectors.length} vectors for ${documents.length} documents`);
    if (options.ids !== undefined && options.ids.length !== documents.length) throw new RangeError(`got ${options.ids.length} ids for ${documents.length} documents`);
    const ids = documents.map((doc, i) => options.ids?.[i] ?? doc.id ?? crypto.randomUUID());
    const taken = ids.filter((id, i) => this.#docs.has(id) || ids.indexOf(id) !== i);
    if (taken.length > 0) throw new RangeError(`ids already in the store (or repeated): ${taken.slice(0, 5).join(', ')}`);
    if (vectors.length === 0) return [];
    const index = this.#index ?? this.#create(vectors[0].length);
    if (vectors.some((v) => v.length !== index.d)) throw new RangeError(`every vector must have d=${index.d} components`);
    const x = new Float32Array(vectors.length * index.d);
    vectors.forEach((v, i) => x.set(v, i * index.d));
    if (!index.isTrained) await index.train(x);
    const first = this.#nextLabel;
    this.#nextLabel += vectors.length;
    if (this.#labelsArePositions) {
      await index.add(x);
    } else {
      await index.addWithIds(x, BigInt64Array.from({ length: vectors.length }, (_, i) => BigInt(first + i)));
    }
    documents.forEach((d, i) => {
      const doc = new Document({ pageContent: d.pageContent, metadata: d.metadata ?? {}, id: ids[i] });
      this.#remember(ids[i], first + i, doc);
    });
    return ids;
  }

  #create(d: number): Index {
    this.#adopt(indexFactory(d, this.#factory, this.#metric));
    return this.#index!;
  }

  #remember(id: string, label: number, doc: Document): void {
    this.#docs.set(id, { label, doc });
    this.#idOfLabel.set(label, id);
    this.#metadata.add(label, doc.metadata);
  }

  /** Deletes documents by id; an unknown id is a RangeError and nothing is deleted. */
  override async delete(params: { ids: string[] }): Promise<void> {
    const ids = params?.ids;
    if (!Array.isArray(ids)) throw new TypeError('delete needs { ids: string[] }');
    const missing = ids.filter((id) => !this.#docs.has(id));
    if (missing.length > 0) throw new RangeError(`ids not in the store: ${missing.slice(0, 5).join(', ')}`);
    const labels = [...new Set(ids)].map((id) => this.#docs.get(id)!.label);
    if (labels.length === 0) return;
    const removed = !this.#labelsArePositions && (await this.#remove(labels));
    if (!removed) for (const label of labels) this.#deleted.add(label);
    for (const label of labels) {
      const id = this.#idOfLabel.get(label)!;
      this.#metadata.remove(label, this.#docs.get(id)!.doc.metadata);
      this.#docs.delete(id);
      this.#idOfLabel.delete(label);
    }
  }

  /** Removes labels from the index; false where its type cannot (HNSW), having removed none. */
  async #remove(labels: number[]): Promise<boolean> {
    try {
      await this.#index!.removeIds(labels);
      return true;
    } catch (err) {
      if (err instanceof FaissError && /not implemented/i.test(err.message)) return false;
      throw err;
    }
  }

  /**
   * The k nearest documents to a vector that pass the filter, with their scores (squared L2
   * distances, or inner products), best first; fewer when fewer documents pass. `params`
   * overrides the store's searchParams for this search.
   */
  async similaritySearchVectorWithScore(query: number[], k: number, filter?: StoreFilter, params?: StoreSearchParams): Promise<[DocumentInterface, number][]> {
    return (await this.#search(query, k, filter, params)).map(({ entry, score }) => [entry.doc, score]);
  }

  async #search(query: number[], k: number, filter: StoreFilter | undefined, params: StoreSearchParams | undefined): Promise<{ entry: Entry; score: number }[]> {
    const index = this.#index;
    if (index === undefined || this.#docs.size === 0) return [];
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer; got ${String(k)}`);
    if (query.length !== index.d) throw new RangeError(`query must have d=${index.d} components; got ${query.length}`);
    const allowed = filter === undefined ? undefined : this.#allowed(filter);
    if (allowed?.length === 0) return [];
    const search: SearchParams = { ...this.searchParams, ...params, filter: allowed === undefined ? this.#notDeleted() : this.#asFilter(allowed) };
    const result = await index.search(Float32Array.from(query), Math.min(k, allowed?.length ?? this.#docs.size), search);
    const found: { entry: Entry; score: number }[] = [];
    result.labels.forEach((label, i) => {
      const id = this.#idOfLabel.get(Number(label));
      if (id !== undefined) found.push({ entry: this.#docs.get(id)!, score: result.distances[i] });
    });
    return found;
  }

  /** The labels of the documents that pass a filter; the value index narrows metadata filters. */
  #allowed(filter: StoreFilter): number[] {
    const out: number[] = [];
    if (typeof filter === 'function') {
      for (const { label, doc } of this.#docs.values()) if (filter(doc)) out.push(label);
      return out;
    }
    const compiled = compileFilter(filter);
    const candidates = compiled.candidates(this.#metadata);
    if (candidates === undefined) {
      for (const { label, doc } of this.#docs.values()) if (compiled.test(doc.metadata)) out.push(label);
    } else {
      for (const label of candidates) {
        const entry = this.#docs.get(this.#idOfLabel.get(label)!)!;
        if (compiled.test(entry.doc.metadata)) out.push(label);
      }
    }
    return out;
  }

  /** Labels as a filter: a bitmap where it is smaller than the list of ids. */
  #asFilter(labels: number[]): IdFilterLike {
    if (this.#nextLabel / 8 < labels.length * 8) {
      const bitmap = new Uint8Array(Math.ceil(this.#nextLabel / 8));
      for (const l of labels) bitmap[l >> 3] |= 1 << (l & 7);
      return bitmap;
    }
    return BigInt64Array.from(labels, BigInt);
  }

  /** Excludes deleted documents the index still holds. */
  #notDeleted(): IdFilterLike | undefined {
    return this.#deleted.size === 0 ? undefined : { ids: BigInt64Array.from(this.#deleted, BigInt), not: true };
  }

  /**
   * Maximal marginal relevance (as Python's): the fetchK nearest documents that pass the filter,
   * then k of them chosen for relevance and diversity (lambda 1: relevance only), using the
   * vectors the index stores (IVF indexes get a direct map on first use).
   */
  override async maxMarginalRelevanceSearch(query: string, options: MaxMarginalRelevanceSearchOptions<StoreFilter>): Promise<DocumentInterface[]> {
    const { k = 4, fetchK = 20, lambda = 0.5, filter } = options;
    const queryVector = await this.embeddings.embedQuery(query);
    const found = await this.#search(queryVector, fetchK, filter, undefined);
    const vectors = found.map(({ entry }) => Array.from(this.#reconstruct(entry.label)));
    return maximalMarginalRelevance(queryVector, vectors, lambda, k).map((i) => found[i].entry.doc);
  }

  #reconstruct(label: number): Float32Array {
    const index = this.#index!;
    try {
      return index.reconstructSync(label);
    } catch (err) {
      if (!(err instanceof FaissError) || !/direct map/i.test(err.message)) throw err;
      index.makeDirectMap();
      return index.reconstructSync(label);
    }
  }

  /**
   * Saves to a directory, crash-safe: the index goes to a new file, then store.json (which
   * names it) replaces the old one by a rename, then older index files are removed. A kill at
   * any point leaves the previous save or this one, whole.
   */
  async save(directory: string): Promise<void> {
    const index = this.#index;
    if (index === undefined) throw new TypeError('nothing to save: the store has no index yet (add documents first)');
    await fs.mkdir(directory, { recursive: true });
    const indexFile = `index-${crypto.randomBytes(6).toString('hex')}.faiss`;
    await index.write(path.join(directory, indexFile));
    const saved: SavedStore = {
      format: FORMAT,
      index: indexFile,
      labelsArePositions: this.#labelsArePositions,
      nextLabel: this.#nextLabel,
      deletedLabels: [...this.#deleted],
      searchParams: this.searchParams,
      docs: [...this.#docs].map(([id, { label, doc }]) => [id, label, doc.pageContent, doc.metadata]),
    };
    await writeFileDurably(path.join(directory, MANIFEST), JSON.stringify(saved));
    for (const name of await fs.readdir(directory)) {
      if (/^index-[0-9a-f]{12}\.faiss$/.test(name) && name !== indexFile) await fs.rm(path.join(directory, name), { force: true });
    }
  }

  /**
   * Loads a store saved by `save`, by LangChain.js's FaissStore (faiss.index, docstore.json) or
   * by Python LangChain's FAISS (index.faiss, index.pkl; needs the package pickleparser).
   */
  static override async load(directory: string, embeddings: EmbeddingsInterface): Promise<FaissStore> {
    const has = async (name: string) => fs.access(path.join(directory, name)).then(() => true, () => false);
    if (await has(MANIFEST)) return FaissStore.#loadOwn(directory, embeddings);
    if (await has('docstore.json')) return FaissStore.#loadLangChainJs(directory, embeddings);
    if (await has('index.pkl')) return FaissStore.loadFromPython(directory, embeddings);
    throw new FaissError(`${directory} holds no saved store (${MANIFEST}, docstore.json or index.pkl)`, 'IO_ERROR');
  }

  /** Loads a store Python LangChain's FAISS saved with `save_local` (index.faiss, index.pkl). */
  static async loadFromPython(directory: string, embeddings: EmbeddingsInterface): Promise<FaissStore> {
    const [{ documents, labelToId }, index] = await Promise.all([readPickledDocstore(path.join(directory, 'index.pkl')), readIndex(path.join(directory, 'index.faiss'))]);
    return FaissStore.#withDocuments(embeddings, index, labelToId, documents);
  }

  /** A store over a loaded index whose labels are positions (as #adopt finds), with its documents. */
  static #withDocuments(embeddings: EmbeddingsInterface, index: Index, labelToId: Map<number, string>, documents: Map<string, { pageContent: string; metadata: Metadata }>): FaissStore {
    const store = new FaissStore(embeddings, { index });
    for (const [label, id] of labelToId) {
      const doc = documents.get(id);
      if (doc === undefined) throw new FaissError(`the saved mapping names document ${id}, which the docstore lacks`, 'CORRUPT_INDEX');
      store.#remember(id, label, new Document({ ...doc, id }));
    }
    for (let label = 0; label < index.ntotal; label++) if (!labelToId.has(label)) store.#deleted.add(label);
    return store;
  }

  static async #loadOwn(directory: string, embeddings: EmbeddingsInterface): Promise<FaissStore> {
    const saved = JSON.parse(await fs.readFile(path.join(directory, MANIFEST), 'utf8')) as SavedStore;
    if (saved.format !== FORMAT) throw new FaissError(`${path.join(directory, MANIFEST)} is not a faiss-native store (format ${String(saved.format)})`, 'CORRUPT_INDEX');
    const index = await readIndex(path.join(directory, path.basename(saved.index)));
    const store = new FaissStore(embeddings, { index, searchParams: saved.searchParams });
    store.#labelsArePositions = saved.labelsArePositions;
    store.#nextLabel = saved.nextLabel;
    for (const label of saved.deletedLabels) store.#deleted.add(label);
    for (const [id, label, pageContent, metadata] of saved.docs) store.#remember(id, label, new Document({ pageContent, metadata, id }));
    return store;
  }

  static async #loadLangChainJs(directory: string, embeddings: EmbeddingsInterface): Promise<FaissStore> {
    const [docs, mapping] = JSON.parse(await fs.readFile(path.join(directory, 'docstore.json'), 'utf8')) as [[string, { pageContent: string; metadata: Metadata }][], Record<string, string>];
    const index = await readIndex(path.join(directory, 'faiss.index'));
    const labelToId = new Map(Object.entries(mapping).map(([label, id]) => [Number(label), id]));
    const documents = new Map(docs.map(([id, d]) => [id, { pageContent: d.pageContent, metadata: d.metadata ?? {} }]));
    return FaissStore.#withDocuments(embeddings, index, labelToId, documents);
  }

  static override async fromTexts(texts: string[], metadatas: object[] | object, embeddings: EmbeddingsInterface, args?: FaissStoreArgs): Promise<FaissStore> {
    const docs = texts.map((pageContent, i) => new Document({ pageContent, metadata: (Array.isArray(metadatas) ? metadatas[i] : metadatas) ?? {} }));
    return FaissStore.fromDocuments(docs, embeddings, args);
  }

  static override async fromDocuments(docs: DocumentInterface[], embeddings: EmbeddingsInterface, args?: FaissStoreArgs): Promise<FaissStore> {
    const store = new FaissStore(embeddings, args);
    await store.addDocuments(docs);
    return store;
  }
}

/** Writes a file whole or not at all, and durably: a temp file, fsync, rename, fsync of the folder. */
async function writeFileDurably(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  // The rename itself is durable once the folder is synced (Windows cannot open a folder: its
  // rename, MoveFileEx, is the commit there).
  const folder = await fs.open(path.dirname(file), 'r').catch(() => undefined);
  if (folder !== undefined) await folder.sync().catch(() => undefined).finally(() => folder.close());
}

/** Python LangChain's index.pkl: a pickled (InMemoryDocstore, {position: document id}). */
async function readPickledDocstore(file: string): Promise<{ documents: Map<string, { pageContent: string; metadata: Metadata }>; labelToId: Map<number, string> }> {
  let pickleparser: typeof import('pickleparser');
  try {
    pickleparser = await import('pickleparser');
  } catch (err) {
    throw new FaissError(`loading a store saved by Python LangChain needs the package pickleparser: npm install pickleparser (${(err as Error).message})`, 'IO_ERROR');
  }
  const { Parser, NameRegistry } = pickleparser;
  class PyDocument extends Map<string, unknown> {}
  class PyDocstore {
    _dict: Record<string, PyDocument> = {};
  }
  const registry = new NameRegistry();
  for (const module of ['langchain_community.docstore.in_memory', 'langchain.docstore.in_memory']) registry.register(module, 'InMemoryDocstore', PyDocstore);
  for (const module of ['langchain_core.documents.base', 'langchain.schema', 'langchain.schema.document', 'langchain.docstore.document']) registry.register(module, 'Document', PyDocument);
  const [docstore, mapping] = new Parser({ nameResolver: registry }).parse(await fs.readFile(file)) as [PyDocstore, Map<number, string> | Record<string, string>];
  const documents = new Map(Object.entries(docstore._dict).map(([id, d]) => [id, { pageContent: String(d.get('page_content')), metadata: (d.get('metadata') ?? {}) as Metadata }]));
  const entries = mapping instanceof Map ? [...mapping] : Object.entries(mapping);
  return { documents, labelToId: new Map(entries.map(([label, id]) => [Number(label), String(id)])) };
}

// TypeScript written for faiss-node 0.5.1 (its README's example, typed) with one change: the
// module name. Compiled by test/types.spec.ts; the @ts-expect-error lines fail the compile if
// the declarations grow lax (an `any` would accept them).
import { Index, IndexFlatIP, IndexFlatL2, MetricType, type SearchResult } from 'faiss-native/faiss-node';
import type * as FaissNode from 'faiss-node';
import * as compat from 'faiss-native/faiss-node';

const dimension = 2;
const index: IndexFlatL2 = new IndexFlatL2(dimension);
const trained: boolean = index.isTrained();
index.add([1, 0]);
index.add([1, 2]);
const results: SearchResult = index.search([1, 0], 2);
const labels: number[] = results.labels;
index.write('faiss.index');
const loaded: IndexFlatL2 = IndexFlatL2.read('faiss.index');
const merged = new IndexFlatL2(dimension);
merged.mergeFrom(loaded);
const removed: number = merged.removeIds([0]);
const buffer: Buffer = merged.toBuffer();
const fromBuffer: Index = Index.fromBuffer(buffer);
const hnsw: Index = Index.fromFactory(2, 'HNSW,Flat', MetricType.METRIC_INNER_PRODUCT);
const ip: IndexFlatIP = IndexFlatIP.read('ip.index');
const dims: number[] = [index.ntotal(), index.getDimension(), fromBuffer.ntotal(), hnsw.ntotal(), ip.ntotal()];

// @ts-expect-error: search takes the queries and k
index.search([1, 0]);
// @ts-expect-error: vectors are numbers
index.add(['1', '0']);
// @ts-expect-error: ntotal is a method, as in faiss-node
const notCallable: number = index.ntotal;

// Every class faiss-node declares, statics and instances, is satisfied by ours.
const classes: Pick<typeof FaissNode, 'Index' | 'IndexFlatL2' | 'IndexFlatIP'> = compat;
const instance: FaissNode.IndexFlatL2 = new compat.IndexFlatL2(2);
const result: FaissNode.SearchResult = instance.search([1, 1], 1);
const metric: number = compat.MetricType.METRIC_L2;

export { trained, labels, removed, dims, notCallable, classes, result, metric };

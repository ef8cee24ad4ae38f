// A distributed build served by faiss-native: autofaiss 2.18.0 builds the SIFT sample on Spark
// (pyspark local mode; scripts/spark/build-on-spark.mjs) as an IVF32,Flat in 2 shards, and
// Python faiss searches each shard and their on-disk merge (merge_ondisk). Here: the shards
// hold every row once; each shard, and the merged index on disk, read here answer exactly as
// in Python; our merge of the shard files writes the same bytes; and mergeResults over the
// shards' answers equals the merged index's (the shards share one trained quantizer, so the
// same lists are probed), but for which ids of a tie cut at k it keeps: an inner-product
// scan's choice there depends on the order it met them (lib/shards.ts). Needs a JRE; the first run creates .venv-spark/ (PyPI). Skipped with
// the parity specs (FAISS_NATIVE_SKIP_PARITY). Rows go to results/spark.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInfo, IndexIVFFlat, METRIC_INNER_PRODUCT, mergeResults, readIndexSync, readNpy, writeNpy, type SearchResult } from '../lib';
import { sift } from './helpers/data';
import { expectSameFiles } from './helpers/same-files';
// @ts-expect-error: a plain ES module without type declarations
import { buildOnSpark, javaHome } from '../scripts/spark/build-on-spark.mjs';

interface Timings {
  indexKey: string;
  indexParam: string;
  sparkStartupSeconds: number;
  buildIndexSeconds: number;
  totalSeconds: number;
  shardNtotals: number[];
}

const java: string | null = javaHome();
const skip = !java || !!process.env.FAISS_NATIVE_SKIP_PARITY || process.platform === 'win32';
const why = !java ? ' (skipped: no Java (Spark needs a JRE))' : '';
if (!java) console.warn('test/spark.spec.ts skipped: no Java (Spark needs a JRE)');

const SHARDS = 2;
const K = 10;
const NLIST = 32;
const NPROBE = 8;
const FILES = 6;

describe.skipIf(skip)(`autofaiss 2.18.0 on Spark: its shards and their on-disk merge served by faiss-native${why}`, () => {
  // Set up in beforeAll, so that a skipped run leaves no folder behind.
  let d: number, base: Float32Array, queries: Float32Array, n: number, nq: number;
  let dir: string;
  let shardPaths: string[];
  let timings: Timings;
  const at = (name: string) => path.join(dir, 'out', name);
  const rows: Record<string, unknown>[] = [];

  const python = (prefix: string): SearchResult => ({
    distances: readNpy(at(`${prefix}_D.npy`)).data as Float32Array,
    labels: readNpy(at(`${prefix}_I.npy`)).data as BigInt64Array,
    nq,
    k: K,
  });
  /** Positions whose labels, or whose distances (bit for bit), differ. */
  const mismatches = (a: SearchResult, b: SearchResult) => ({
    labels: a.labels.filter((l, i) => l !== b.labels[i]).length,
    distances: a.distances.filter((v, i) => !Object.is(v, b.distances[i])).length,
  });
  /** Where labels differ: the query, rank, both labels and both distances (for the rows). */
  const labelDiffs = (a: SearchResult, b: SearchResult) =>
    Array.from(a.labels.keys())
      .filter((i) => a.labels[i] !== b.labels[i])
      .map((i) => ({ query: Math.floor(i / K), rank: i % K, labels: [Number(a.labels[i]), Number(b.labels[i])], distances: [a.distances[i], b.distances[i]] }));

  beforeAll(async () => {
    ({ d, base, queries } = sift());
    n = base.length / d;
    nq = queries.length / d;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-spark-'));
    shardPaths = Array.from({ length: SHARDS }, (_, i) => at(`knn.index${i}`));
    // The sample in 6 .npy files of 750 rows: autofaiss numbers the rows across the files in
    // name order, so a vector's id is its row in base.
    const embeddingsDir = path.join(dir, 'embeddings');
    fs.mkdirSync(embeddingsDir);
    const per = n / FILES;
    for (let f = 0; f < FILES; f++) writeNpy(path.join(embeddingsDir, `part-${f}.npy`), base.subarray(f * per * d, (f + 1) * per * d), [per, d]);
    writeNpy(path.join(dir, 'queries.npy'), queries, [nq, d]);
    timings = (await buildOnSpark({
      embeddingsDir,
      outDir: path.join(dir, 'out'),
      indexKey: `IVF${NLIST},Flat`,
      indexParam: `nprobe=${NPROBE}`,
      shards: SHARDS,
      queriesPath: path.join(dir, 'queries.npy'),
      k: K,
      // The same OpenBLAS kernels as ours (test/parity/harness.ts): the coarse quantizer's
      // distances are BLAS-computed, and other kernels round them differently.
      env: buildInfo.openblasCore ? { OPENBLAS_CORETYPE: buildInfo.openblasCore } : {},
    })) as Timings;
  }, 600_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    const results = path.join(__dirname, '..', 'results');
    fs.mkdirSync(results, { recursive: true });
    fs.writeFileSync(path.join(results, 'spark.json'), JSON.stringify([{ check: 'autofaiss build on Spark local[2]', n, d, ...timings }, ...rows], null, 1));
  });

  it('autofaiss wrote 2 shards that together hold every row once', () => {
    expect(fs.existsSync(at(`knn.index${SHARDS}`))).toBe(false);
    const ids: bigint[] = [];
    const sizes = shardPaths.map((file, i) => {
      const shard = readIndexSync(file);
      expect(shard).toBeInstanceOf(IndexIVFFlat);
      expect(shard.metricType).toBe(METRIC_INNER_PRODUCT);
      expect(shard.nlist).toBe(NLIST);
      // autofaiss sets indexParam on each shard before writing it.
      expect(shard.nprobe).toBe(NPROBE);
      // Every list probed, k = every vector: all the shard's ids.
      const all = shard.searchSync(queries.subarray(0, d), shard.ntotal, { nprobe: NLIST });
      const labels = Array.from(all.labels);
      expect(labels.every((l) => l >= 0n)).toBe(true);
      ids.push(...labels);
      const sorted = labels.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const { ntotal } = shard;
      rows.push({ check: `shard ${i}`, ntotal, firstId: Number(sorted[0]), lastId: Number(sorted.at(-1)) });
      shard.dispose();
      return ntotal;
    });
    expect(sizes).toEqual(timings.shardNtotals);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
    expect(new Set(ids).size).toBe(n);
    expect(ids.every((id) => id < BigInt(n))).toBe(true);
  });

  it('each shard read by faiss-native answers the queries exactly as Python did', () => {
    for (const [i, file] of shardPaths.entries()) {
      const shard = readIndexSync(file);
      const m = mismatches(shard.searchSync(queries, K), python(`shard${i}`));
      rows.push({ check: `shard ${i} search (${nq} queries, k ${K}, nprobe ${NPROBE}), Node vs Python`, identical: m.labels === 0 && m.distances === 0, ...m });
      expect(m, `shard ${i}`).toEqual({ labels: 0, distances: 0 });
      shard.dispose();
    }
  });

  it("Python's merged on-disk index read by faiss-native answers exactly as Python's", () => {
    const merged = readIndexSync(at('merged.index'), { readOnly: true });
    expect(merged.onDisk).toMatchObject({ filename: at('merged.ivfdata'), readOnly: true });
    expect(merged.ntotal).toBe(n);
    expect(merged.nprobe).toBe(NPROBE);
    const m = mismatches(merged.searchSync(queries, K), python('merged'));
    rows.push({ check: `merged on-disk index search, Node vs Python`, identical: m.labels === 0 && m.distances === 0, ...m });
    expect(m).toEqual({ labels: 0, distances: 0 });
    merged.dispose();
  });

  it("faiss-native's merge of the shard files writes merge_ondisk's bytes", () => {
    // The index file names its data file, so ours goes to the same path, Python's set aside.
    fs.copyFileSync(at('merged.index'), at('py-merged.index'));
    fs.copyFileSync(at('merged.ivfdata'), at('py-merged.ivfdata'));
    const trained = readIndexSync(shardPaths[0]);
    trained.resetSync();
    trained.mergeOnDiskSync(shardPaths, at('merged.ivfdata'));
    expect(trained.ntotal).toBe(n);
    trained.writeSync(at('node-merged.index'));
    trained.dispose();
    expectSameFiles(rows, [
      ['merged index file', at('node-merged.index'), at('py-merged.index')],
      ['merged .ivfdata file', at('merged.ivfdata'), at('py-merged.ivfdata')],
    ]);
  });

  it("mergeResults over the shards' answers equals the merged index's (ties cut at k aside)", () => {
    const perShard = shardPaths.map((file) => {
      const shard = readIndexSync(file);
      const r = shard.searchSync(queries, K);
      shard.dispose();
      return r;
    });
    const merged = readIndexSync(at('node-merged.index'), { readOnly: true });
    const whole = merged.searchSync(queries, K);
    merged.dispose();
    // Our merged index answers as Python's.
    expect(mismatches(whole, python('merged'))).toEqual({ labels: 0, distances: 0 });
    const gathered = mergeResults(perShard, K, METRIC_INNER_PRODUCT);
    const m = mismatches(gathered, whole);
    // A label may differ only inside the tie group that rank k cuts, and must be tied there.
    const diffs = labelDiffs(gathered, whole);
    let outsideTies = 0;
    for (let i = 0; i < gathered.labels.length; i++) {
      if (gathered.labels[i] === whole.labels[i]) continue;
      const cut = whole.distances[Math.floor(i / K) * K + K - 1];
      if (gathered.distances[i] !== cut || whole.distances[i] !== cut) outsideTies++;
    }
    rows.push({ check: `mergeResults of the ${SHARDS} shards vs the merged index`, distancesIdentical: m.distances === 0, labelsDiffering: m.labels, outsideTiesAtK: outsideTies, diffs });
    expect(m.distances).toBe(0);
    expect(outsideTies).toBe(0);
    expect(m.labels).toBeLessThanOrEqual(5); // one such tie on SIFT's integer data
  });
});

#!/usr/bin/env node
// Runs the native paths in a long loop and reports resident memory along the way: creation of
// every index kind (binary ones too), train, add, search (sync and async), serialize and deserialize, file
// write and read (also memory-mapped: a corrupt file, and the file truncated underneath, or on
// Windows, which refuses that, replaced), on-disk lists (moved, grown, merged from shards, their
// data file truncated underneath), shards and merged results, dispose, and errors thrown from
// native code. Memory must stay flat.
//   node --expose-gc scripts/check/leak-check.mjs [cycles=100000] [--no-rss-limit]
// Exits 1 when resident memory grows by more than 32 MB between the first and last tenth
// (--no-rss-limit: not under AddressSanitizer, whose quarantine holds freed memory).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const faiss = createRequire(import.meta.url)(path.join(root, 'dist'));
const cycles = Number(process.argv[2] ?? 100_000);
const rssLimit = !process.argv.includes('--no-rss-limit');
const d = 16;
const x = Float32Array.from({ length: 200 * d }, (_, i) => Math.sin(i * 0.7));
const q = x.subarray(0, 2 * d);
// A filter allowing the half of x farthest from its first row, and queries of that row and of
// the farthest: an HNSW search walks (filtered_search.cc's WalkHnsw), the first query exactly.
const farthest = Array.from({ length: 200 }, (_, i) => i)
  .map((i) => [x.subarray(i * d, (i + 1) * d).reduce((sum, v, j) => sum + (v - x[j]) ** 2, 0), i])
  .sort((a, b) => b[0] - a[0])
  .slice(0, 100)
  .map(([, i]) => i);
const walkQueries = Float32Array.from([...x.subarray(0, d), ...x.subarray(farthest[0] * d, (farthest[0] + 1) * d)]);
const file = path.join(os.tmpdir(), `faiss-native-leak-${process.pid}.faissindex`);
const corruptFile = `${file}.corrupt`;
const dataFile = `${file}.ivfdata`;
const mustThrow = (fn) => {
  try {
    fn();
  } catch {
    return;
  }
  throw new Error('expected an error');
};
// A trained IVF to copy from, so the loop does not spend its time in k-means.
const trained = new faiss.IndexIVFScalarQuantizer(d, 4, 'QT_8bit');
trained.trainSync(x);
const trainedBytes = trained.serializeSync();
// An IVF-PQ file, and the same with its product quantizer's M set to 0 (FAISS divides by it
// while reading: the SIGFPE path of native/index_io.cc).
const pq = new faiss.IndexIVFPQ(d, 4, 4, 4);
pq.trainSync(x);
pq.addSync(x);
const pqBytes = Buffer.from(pq.serializeSync());
const pqZero = Buffer.from(pqBytes);
const pattern = Buffer.alloc(24);
[16n, 4n, 4n].forEach((v, j) => pattern.writeBigUInt64LE(v, j * 8));
pqZero.writeBigUInt64LE(0n, pqZero.indexOf(pattern) + 8);

// Binary codes (64 bits) for the binary family, with a trained binary IVF to copy from.
const codes = faiss.binarize(Float32Array.from({ length: 200 * 64 }, (_, i) => Math.sin(i * 1.3)), 64);
const binaryIvf = new faiss.IndexBinaryIVF(new faiss.IndexBinaryFlat(64), 64, 4);
binaryIvf.trainSync(codes);
const binaryIvfBytes = binaryIvf.serializeSync();

async function cycle(i) {
  const flat = new faiss.IndexFlatIP(d);
  flat.addSync(x.subarray(0, 20 * d));
  flat.searchSync(q, 3);
  await flat.search(q, 3);
  if (i % 10 === 0) {
    // Training with progress: the counting proxy and the progress cell.
    const fresh = new faiss.IndexIVFFlat(d, 4);
    await fresh.train(x, { onProgress: () => {} });
    fresh.dispose();
  }
  const ivf = faiss.deserializeIndexSync(trainedBytes);
  ivf.addWithIdsSync(x.subarray(0, 10 * d), BigInt64Array.from({ length: 10 }, (_, j) => BigInt(i * 10 + j)));
  ivf.searchSync(q, 3, { nprobe: 4 });
  ivf.removeIdsSync([BigInt(i * 10)]);
  const idmap = new faiss.IndexIDMap2(new faiss.IndexFlatL2(d));
  idmap.addWithIdsSync(q, [1n, 2n]);
  idmap.reconstructSync(2n);
  flat.rangeSearchSync(q, 0.5);
  // Per-call parameters and filters, HNSW, IVF-PQ.
  flat.searchSync(q, 3, { filter: { range: [0, 10] } });
  await flat.search(q, 3, { filter: new Uint8Array([0b1011]) });
  ivf.searchSync(q, 3, { nprobe: 2, filter: { ids: [1, 2, 3], not: true } });
  const hnsw = new faiss.IndexHNSWFlat(d, 4);
  hnsw.addSync(x);
  hnsw.searchSync(q, 3, { efSearch: 20, filter: BigInt64Array.of(1n, 5n) });
  hnsw.searchSync(walkQueries, 3, { efSearch: 1, filter: { ids: farthest } });
  // Re-ranking: a refine index copied in, its base refusing direct changes, a file round trip.
  const refineBase = new faiss.IndexFlatL2(d);
  const refine = new faiss.IndexRefine(refineBase, new faiss.IndexScalarQuantizer(d, 'QT_8bit', faiss.METRIC_L2));
  refine.trainSync(x);
  refine.addSync(x.subarray(0, 50 * d));
  refine.searchSync(q, 3, { kFactor: 2 });
  mustThrow(() => refineBase.addSync(q));
  faiss.deserializeIndexSync(refine.serializeSync()).dispose();
  const pqCopy = faiss.deserializeIndexSync(pqBytes);
  pqCopy.searchSync(q, 3, { nprobe: 2 });
  mustThrow(() => faiss.deserializeIndexSync(pqZero));
  // The binary family: its own searches (per-call parameters, filters, IDMaps), files, re-ranking.
  const bivf = faiss.deserializeIndexBinarySync(binaryIvfBytes);
  bivf.addSync(codes);
  bivf.searchSync(codes.subarray(0, 16), 3, { nprobe: 2, filter: { range: [0, 50] } });
  await bivf.search(codes.subarray(0, 16), 3, { nprobe: 4 });
  const bhnsw = new faiss.IndexBinaryIDMap2(new faiss.IndexBinaryHNSW(64, 4));
  bhnsw.addWithIdsSync(codes, BigInt64Array.from({ length: 200 }, (_, j) => BigInt(j * 3)));
  bhnsw.searchSync(codes.subarray(0, 16), 3, { efSearch: 8, filter: { ids: [3, 6, 9] } });
  bhnsw.reconstructSync(3n);
  faiss.deserializeIndexBinarySync(bhnsw.serializeSync()).dispose();
  mustThrow(() => faiss.deserializeIndexBinarySync(binaryIvfBytes.subarray(0, binaryIvfBytes.length - 5)));
  flat.rescoreSync(q, { labels: BigInt64Array.of(0n, 1n, 2n, -1n, 3n, 4n, 5n, 6n), k: 4 }, 2);
  const bytes = flat.serializeSync();
  faiss.deserializeIndexSync(bytes).dispose();
  if (i % 10 === 0) {
    await ivf.write(file);
    (await faiss.readIndex(file)).dispose();
    // Mapped, then the file truncated underneath: FILE_CHANGED, and the mapping freed. Windows
    // refuses to truncate or replace a mapped file: writeIndex fails and says why.
    const mapped = faiss.readIndexSync(file, { mmap: true });
    mapped.searchSync(q, 3, { nprobe: 4 });
    if (process.platform === 'win32') {
      if (i % 100 === 0) mustThrow(() => faiss.writeIndexSync(ivf, file)); // each refusal retries for 0.1 s
    } else {
      fs.truncateSync(file, 100);
      mustThrow(() => mapped.searchSync(q, 3));
    }
    mapped.dispose();
    // A corrupt file, mapped: the partial index and the mapping are released.
    fs.writeFileSync(corruptFile, fs.readFileSync(file).subarray(0, 300));
    mustThrow(() => faiss.readIndexSync(corruptFile, { mmap: true }));
  }
  if (i % 10 === 5 && process.platform !== 'win32') {
    // On-disk lists: moved, grown, written, merged from shard files; truncated while served.
    const moved = faiss.deserializeIndexSync(trainedBytes);
    moved.addSync(x);
    moved.replaceInvlistsSync(new faiss.OnDiskInvertedLists(moved.nlist, moved.codeSize, dataFile));
    moved.addSync(q);
    moved.searchSync(q, 3, { nprobe: 4 });
    moved.writeSync(file);
    moved.dispose();
    const merged = faiss.deserializeIndexSync(trainedBytes);
    merged.mergeOnDiskSync([file, file], `${dataFile}.merged`, true);
    merged.searchSync(q, 3, { nprobe: 4 });
    mustThrow(() => merged.removeIdsSync([1n]));
    merged.dispose();
    const served = faiss.readIndexSync(file, { readOnly: true });
    fs.truncateSync(dataFile, 64);
    mustThrow(() => served.searchSync(q, 3, { nprobe: 4 }));
    served.dispose();
    mustThrow(() => faiss.readIndexSync(file));
  }
  // Shards in this process, and results merged as scatter-gather merges them.
  const shards = new faiss.IndexShards(d, i % 2 === 0);
  const second = new faiss.IndexFlatIP(d);
  second.addSync(x.subarray(20 * d, 40 * d));
  shards.addShard(flat);
  shards.addShard(second);
  await shards.search(q, 3);
  faiss.mergeResults([flat.searchSync(q, 3), second.searchSync(q, 3)], 5, faiss.METRIC_INNER_PRODUCT);
  second.dispose();
  // Errors from native code: FAISS refusals, NaN, hostile bytes.
  mustThrow(() => new faiss.IndexIVFScalarQuantizer(d, 4, 'QT_8bit').addSync(q));
  mustThrow(() => flat.addSync(new Float32Array(d).fill(Number.NaN)));
  mustThrow(() => faiss.deserializeIndexSync(bytes.subarray(0, bytes.length - 3)));
  mustThrow(() => faiss.indexFactory(d, 'Nonsense'));
  mustThrow(() => new faiss.IndexIVFScalarQuantizer(d, 2 ** 31 - 1, 'QT_8bit')); // lists over the memory limit
  flat.dispose();
  ivf.dispose();
  idmap.dispose();
  hnsw.dispose();
  pqCopy.dispose();
  refine.dispose();
  refineBase.dispose();
  bivf.dispose();
  bhnsw.dispose();
}

const samples = [];
const t0 = Date.now();
for (let i = 0; i < cycles; i++) {
  await cycle(i);
  if (i % (cycles / 10) === 0 || i === cycles - 1) {
    globalThis.gc?.();
    const m = process.memoryUsage();
    const mb = (b) => +(b / 2 ** 20).toFixed(1);
    samples.push({ cycle: i, rssMB: mb(m.rss), heapMB: mb(m.heapUsed), externalMB: mb(m.external) });
  }
}
for (const f of [file, corruptFile, dataFile, `${dataFile}.merged`]) fs.rmSync(f, { force: true });
const growth = samples.at(-1).rssMB - samples[1].rssMB;
console.log(JSON.stringify({ cycles, seconds: (Date.now() - t0) / 1000, rssCurve: samples, growthMBAfterWarmup: +growth.toFixed(1) }));
if (rssLimit && growth > 32) process.exitCode = 1; // not exit(): through a pipe, the curve above could be cut off

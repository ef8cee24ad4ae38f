// The installed package on a target platform: searches, nprobe, ids, serialization round trips
// and error handling, checked against brute force on the SIFT sample. Plain node:test in one
// process (no vitest, no child processes), so that it runs with any official Node binary,
// under qemu-user too. scripts/release/smoke-pack.mjs copies it, test/data/vectors.cjs and
// test/data/ beside an installed tarball and runs `node test/platform/installed.test.cjs`.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');
const faiss = require('faiss-native');
const { readSift, bruteForceGroundTruth, mulberry32 } = require('../data/vectors.cjs');

const K = 10;
const NQ = 50;
const sift = readSift();
const { d, base } = sift;
const queries = sift.queries.subarray(0, NQ * d);
const truth = bruteForceGroundTruth(base, queries, d, K);

const dot = (q, i) => {
  let s = 0;
  for (let j = 0; j < d; j++) s += queries[q * d + j] * base[i * d + j];
  return s;
};
const l2 = (q, i) => {
  let s = 0;
  for (let j = 0; j < d; j++) s += (queries[q * d + j] - base[i * d + j]) ** 2;
  return s;
};

/** Scores at each rank equal the exact ones, and each label has the score reported (ties allowed). */
function assertExact(metric, { labels, distances }) {
  const score = metric === 'ip' ? dot : l2;
  for (let q = 0; q < NQ; q++) {
    for (let r = 0; r < K; r++) {
      const want = score(q, truth[metric][q * K + r]);
      // SIFT is integer-valued with sums below 2^24: float32 holds every score exactly.
      assert.equal(distances[q * K + r], want, `query ${q} rank ${r}`);
      assert.equal(score(q, Number(labels[q * K + r])), want, `query ${q} rank ${r} label`);
    }
  }
}

function recall(labels) {
  let hit = 0;
  for (let q = 0; q < NQ; q++) {
    const want = new Set(truth.ip.subarray(q * K, (q + 1) * K));
    for (let r = 0; r < K; r++) if (want.has(Number(labels[q * K + r]))) hit++;
  }
  return hit / (NQ * K);
}

const platform = faiss.buildInfo.platform;

test(`loads the ${platform} build (${faiss.buildInfo.simdLevel}, FAISS ${faiss.faissVersion})`, () => {
  assert.equal(faiss.faissVersion, '1.12.0');
  // The platform's binary package, as npm installs it (or prebuilds/ in a checkout).
  assert.match(faiss.buildInfo.nativePath, new RegExp(`(@faiss-native|prebuilds)[/\\\\]${platform}[/\\\\]`));
});

test('exact search equals brute force (IndexFlatIP batch and single queries, IndexFlatL2 async)', async () => {
  const ip = new faiss.IndexFlatIP(d);
  ip.addSync(base);
  assertExact('ip', ip.searchSync(queries, K)); // nq >= 20: the BLAS path
  for (let q = 0; q < 3; q++) {
    const one = ip.searchSync(queries.subarray(q * d, (q + 1) * d), K);
    assert.deepEqual(Array.from(one.distances), Array.from(ip.searchSync(queries, K).distances.subarray(q * K, (q + 1) * K)));
  }
  const flatL2 = new faiss.IndexFlatL2(d);
  await flatL2.add(base);
  assertExact('l2', await flatL2.search(queries, K));
  ip.dispose();
  flatL2.dispose();
});

test('IndexIVFScalarQuantizer: recall rises with nprobe, per-call nprobe equals the property', async () => {
  const index = new faiss.IndexIVFScalarQuantizer(d, 32, 'QT_8bit');
  await index.train(base);
  await index.add(base);
  const recalls = [];
  for (const nprobe of [1, 4, 32]) recalls.push(recall((await index.search(queries, K, { nprobe })).labels));
  assert.ok(recalls[0] < recalls[2] - 0.1, `recalls ${recalls}`);
  assert.ok(recalls[2] >= 0.95, `recall at nprobe = nlist: ${recalls[2]}`);
  index.nprobe = 4;
  assert.deepEqual(index.searchSync(queries, K).labels, index.searchSync(queries, K, { nprobe: 4 }).labels);
  index.dispose();
});

test('64-bit ids through IndexIDMap2: search, reconstruct, removeIds', () => {
  const ids = BigInt64Array.from({ length: sift.n }, (_, i) => 2n ** 40n + BigInt(i) * 3n);
  const index = new faiss.IndexIDMap2(new faiss.IndexFlatIP(d));
  index.addWithIdsSync(base, ids);
  const { labels } = index.searchSync(queries, K);
  for (let i = 0; i < labels.length; i++) {
    const row = Number((labels[i] - 2n ** 40n) / 3n); // the base row behind the user's id
    assert.equal(ids[row], labels[i]);
    assert.equal(dot(Math.floor(i / K), row), dot(Math.floor(i / K), truth.ip[i]));
  }
  assert.deepEqual(Array.from(index.reconstructSync(ids[7])), Array.from(base.subarray(7 * d, 8 * d)));
  assert.equal(index.removeIdsSync(ids.subarray(0, 100)), 100);
  assert.equal(index.ntotal, sift.n - 100);
  index.dispose();
});

test('serialization round trips: buffers and files give the same index and the same results', async () => {
  const index = faiss.indexFactory(d, 'IVF16,SQfp16', faiss.METRIC_INNER_PRODUCT);
  index.trainSync(base);
  index.addSync(base);
  const before = index.searchSync(queries, K, { nprobe: 4 });
  const bytes = await index.serialize();
  const copy = await faiss.deserializeIndex(bytes);
  assert.equal(Buffer.compare(copy.serializeSync(), bytes), 0);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-platform-')), 'ivf.index');
  await faiss.writeIndex(index, file);
  const read = await faiss.readIndex(file);
  for (const other of [copy, read]) {
    const after = other.searchSync(queries, K, { nprobe: 4 });
    assert.deepEqual(after.labels, before.labels);
    assert.deepEqual(after.distances, before.distances);
  }
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
});

test('bad input is a clear error, not a crash', async () => {
  const index = new faiss.IndexFlatIP(d);
  assert.throws(() => index.addSync(new Float32Array(d + 1)), RangeError);
  assert.throws(() => index.searchSync('not vectors', 1), TypeError);
  const ivf = new faiss.IndexIVFScalarQuantizer(d, 8, 'QT_8bit');
  await assert.rejects(ivf.add(base.subarray(0, d)), (err) => err instanceof faiss.FaissError);
  assert.throws(() => faiss.deserializeIndexSync(new Uint8Array([1, 2, 3, 4])), faiss.FaissError);
});

test('every family reaches its recall: IVF-Flat, IVF-PQ, HNSW (recall@10 against brute force)', async () => {
  // PQ trains on 1500 vectors: its k-means is what takes longest under qemu-user.
  const cases = [
    ['IVF32,Flat', { nprobe: 32 }, 0.99, sift.n],
    ['IVF16,PQ8x4', { nprobe: 16 }, 0.05, 1500], // 4 bytes a vector: 0.096 on glibc x64; random ids give 0.002
    ['HNSW16,Flat', { efSearch: 64 }, 0.95, sift.n],
  ];
  for (const [key, params, floor, nTrain] of cases) {
    const index = faiss.indexFactory(d, key, faiss.METRIC_INNER_PRODUCT);
    await index.train(base.subarray(0, nTrain * d));
    await index.add(base);
    const r = recall((await index.search(queries, K, params)).labels);
    assert.ok(r >= floor, `${key}: recall ${r} < ${floor}`);
    index.dispose();
  }
});

test('filtered search returns the brute-force neighbours among the allowed ids (id set, bitmap, range)', () => {
  const index = new faiss.IndexFlatIP(d);
  index.addSync(base);
  const allowed = (i) => i % 7 === 3;
  const bitmap = new Uint8Array(Math.ceil(sift.n / 8));
  const ids = [];
  for (let i = 0; i < sift.n; i++) {
    if (!allowed(i)) continue;
    bitmap[i >> 3] |= 1 << (i & 7);
    ids.push(BigInt(i));
  }
  for (const filter of [BigInt64Array.from(ids), bitmap]) {
    const { labels, distances } = index.searchSync(queries, K, { filter });
    for (let q = 0; q < NQ; q++) {
      const best = ids.map(Number).map((i) => dot(q, i)).sort((a, b) => b - a).slice(0, K);
      for (let r = 0; r < K; r++) {
        assert.ok(allowed(Number(labels[q * K + r])), `query ${q} rank ${r}: id ${labels[q * K + r]} is not allowed`);
        assert.equal(distances[q * K + r], best[r], `query ${q} rank ${r}`);
      }
    }
  }
  const ranged = index.searchSync(queries, K, { filter: { range: [100, 200] } });
  assert.ok(ranged.labels.every((l) => l >= 100n && l < 200n));
  index.dispose();
});

test(`memory-mapped reads answer as a read copy; ${process.platform === 'win32'
  ? 'Windows refuses to truncate or replace a mapped file, and writeIndex says why'
  : 'a mapped file truncated underneath gives FILE_CHANGED, not a crash'}`, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-platform-'));
  try {
    const index = new faiss.IndexFlatIP(d);
    index.addSync(base);
    const file = path.join(dir, 'flat.index');
    faiss.writeIndexSync(index, file);
    const mapped = await faiss.readIndex(file, { mmap: true });
    const want = index.searchSync(queries, K);
    assert.deepEqual(mapped.searchSync(queries, K), want);
    if (process.platform === 'win32') {
      assert.throws(() => fs.truncateSync(file, 64));
      assert.throws(() => faiss.writeIndexSync(index, file), (err) => err instanceof faiss.FaissError && err.code === 'IO_ERROR' &&
        /cannot replace .*memory-mapped/.test(err.message));
      assert.deepEqual(mapped.searchSync(queries, K), want);
      mapped.dispose();
      faiss.writeIndexSync(index, file); // unmapped: replaced as anywhere else
    } else {
      // Only the header stays: every vector page of the mapping is gone (SIGBUS on access).
      fs.truncateSync(file, 64);
      assert.throws(() => mapped.searchSync(queries, K), (err) => err instanceof faiss.FaissError && err.code === 'FILE_CHANGED');
      mapped.dispose();
    }
    index.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a product quantizer with M = 0 in a file is CORRUPT_INDEX (FAISS divides by it: SIGFPE, or a structured exception on Windows), not a crash', () => {
  const index = faiss.indexFactory(16, 'IVF4,PQ4x4');
  const x = new Float32Array(2000 * 16);
  for (let i = 0; i < 2000; i++) x.set(base.subarray(i * d, i * d + 16), i * 16);
  index.trainSync(x);
  index.addSync(x);
  const good = index.serializeSync();
  const pattern = Buffer.alloc(24);
  [16n, 4n, 4n].forEach((v, i) => pattern.writeBigUInt64LE(v, i * 8)); // the PQ's d, M, nbits
  const at = good.indexOf(pattern);
  assert.ok(at > 0);
  const bad = Buffer.from(good);
  bad.writeBigUInt64LE(0n, at + 8);
  for (const trusted of [false, true]) {
    assert.throws(() => faiss.deserializeIndexSync(bad, { trusted }), (err) => err instanceof faiss.FaissError && err.code === 'CORRUPT_INDEX');
  }
  index.dispose();
});

test('flat scans on every thread (four vectors at a time where FAISS is its AVX2 build) equal the one-thread scan bit for bit', () => {
  const dim = 768;
  const next = mulberry32(21);
  const vectors = Float32Array.from({ length: 2003 * dim }, () => next() * 2 - 1); // above the 4 MB a split needs
  const x = Float32Array.from({ length: 19 * dim }, () => next() * 2 - 1);
  const threads = faiss.getNumThreads();
  for (const Flat of [faiss.IndexFlatIP, faiss.IndexFlatL2]) {
    const index = new Flat(dim);
    index.addSync(vectors);
    for (const q of [x.subarray(0, dim), x]) {
      faiss.setNumThreads(1);
      const serial = index.searchSync(q, K);
      faiss.setNumThreads(Math.max(2, threads));
      assert.deepEqual(index.searchSync(q, K), serial, Flat.name);
    }
    faiss.setNumThreads(threads);
    index.dispose();
  }
});

test('IVF-SQ scans (four codes at a time where FAISS picks its AVX2 scanner) equal FAISS\'s own scan bit for bit', () => {
  // A maxCodes no list reaches leaves FAISS's search unchanged and hands it all to FAISS.
  const own = { nprobe: 8, maxCodes: Number.MAX_SAFE_INTEGER };
  for (const qtype of ['QT_8bit', 'QT_4bit', 'QT_fp16']) {
    for (const metric of [faiss.METRIC_INNER_PRODUCT, faiss.METRIC_L2]) {
      const index = new faiss.IndexIVFScalarQuantizer(d, 16, qtype, metric);
      index.trainSync(base);
      index.addSync(base);
      for (const x of [queries, queries.subarray(0, d)]) {
        assert.deepEqual(index.searchSync(x, K, { nprobe: 8 }), index.searchSync(x, K, own), `${qtype}, metric ${metric}`);
      }
      index.dispose();
    }
  }
});

test('concurrent single-query searches (coalesced into one FAISS call) equal separate calls', async () => {
  const index = new faiss.IndexFlatIP(d);
  index.addSync(base);
  const one = (q) => queries.subarray(q * d, (q + 1) * d);
  const together = await Promise.all(Array.from({ length: NQ }, (_, q) => index.search(one(q), K)));
  for (let q = 0; q < NQ; q++) assert.deepEqual(together[q], index.searchSync(one(q), K));
  index.dispose();
});

test('training reports its k-means iterations', async () => {
  const index = new faiss.IndexIVFScalarQuantizer(d, 16, 'QT_8bit');
  const seen = [];
  await index.train(base, { onProgress: (done, total) => seen.push([done, total]) });
  assert.ok(seen.length > 0);
  assert.deepEqual(seen.at(-1), [seen.at(-1)[1], seen.at(-1)[1]]);
  index.dispose();
});

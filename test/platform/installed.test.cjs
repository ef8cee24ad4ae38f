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
const { readSift, bruteForceGroundTruth } = require('../data/vectors.cjs');

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

test(`loads the ${process.platform}-${process.arch} build (${faiss.buildInfo.simdLevel}, FAISS ${faiss.faissVersion})`, () => {
  assert.equal(faiss.faissVersion, '1.12.0');
  assert.match(faiss.buildInfo.nativePath, new RegExp(`prebuilds[/\\\\]${process.platform}-${process.arch}[/\\\\]`));
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

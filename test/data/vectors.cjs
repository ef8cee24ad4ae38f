// Seeded random numbers and the SIFT sample kept in test/data (with its exact ground truth),
// shared by the scripts, benches and tests (CommonJS, so ES modules and CommonJS fixtures both
// load it).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** Mulberry32: a small seeded PRNG returning numbers in [0, 1), so runs reproduce. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SIFT_FILE = path.join(__dirname, 'sift5k.u8');
const SIFT = { d: 128, n: 4500, nq: 500 };
let siftCache;

/**
 * The SIFT sample (test/data/README.md): 4,500 base vectors and 500 held-out queries, d = 128,
 * integer values 0..191 stored as uint8 and returned as float32.
 */
function readSift() {
  if (!siftCache) {
    const all = Float32Array.from(fs.readFileSync(SIFT_FILE));
    if (all.length !== (SIFT.n + SIFT.nq) * SIFT.d) throw new Error(`${SIFT_FILE} has ${all.length} bytes`);
    const split = SIFT.n * SIFT.d;
    siftCache = { ...SIFT, base: all.subarray(0, split), queries: all.subarray(split) };
  }
  return siftCache;
}

/**
 * Exact k nearest neighbours of each query by brute force in float64, best first, ties broken by
 * the lower id: { ip, l2 }, each an Int32Array of nq * k ids. On integer data such as SIFT every
 * score is exact, so this is the true ground truth.
 */
function bruteForceGroundTruth(base, queries, d, k) {
  const n = base.length / d;
  const nq = queries.length / d;
  const ip = new Int32Array(nq * k);
  const l2 = new Int32Array(nq * k);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += base[i * d + j] * base[i * d + j];
    norms[i] = s;
  }
  // Bounded insertion into a sorted list of k: most candidates fail the first comparison.
  const ids = new Int32Array(k);
  const vals = new Float64Array(k);
  const insert = (sign, id, value, size) => {
    const v = sign * value; // larger is better
    if (size === k && v <= vals[k - 1]) return size;
    let pos = Math.min(size, k - 1);
    while (pos > 0 && vals[pos - 1] < v) {
      vals[pos] = vals[pos - 1];
      ids[pos] = ids[pos - 1];
      pos--;
    }
    vals[pos] = v;
    ids[pos] = id;
    return Math.min(size + 1, k);
  };
  for (const [out, sign] of [[ip, 1], [l2, -1]]) {
    for (let q = 0; q < nq; q++) {
      const qo = q * d;
      let qn = 0;
      for (let j = 0; j < d; j++) qn += queries[qo + j] * queries[qo + j];
      let size = 0;
      for (let i = 0; i < n; i++) {
        const bo = i * d;
        let dot = 0;
        for (let j = 0; j < d; j++) dot += base[bo + j] * queries[qo + j];
        size = insert(sign, i, sign > 0 ? dot : norms[i] + qn - 2 * dot, size);
      }
      out.set(ids, q * k);
    }
  }
  return { ip, l2 };
}

/**
 * Clustered, L2-normalised vectors, like passage embeddings: n vectors around the given centres
 * (a Float32Array of centres x d), Gaussian spread 0.7 per coordinate.
 */
function clustered(n, d, seed, centres) {
  const rnd = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rnd() * (centres.length / d));
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const v = centres[c * d + j] + 0.7 * gauss();
      out[i * d + j] = v;
      norm += v * v;
    }
    const scale = 1 / Math.sqrt(norm);
    for (let j = 0; j < d; j++) out[i * d + j] *= scale;
  }
  return out;
}

/**
 * Mean recall@k of search labels against the truth's labels (k a row, both BigInt64Arrays): the
 * share of the truth's ids (the -1 of rows with fewer than k left out) found in the same row.
 */
function recallAtK(labels, truth, k) {
  let found = 0;
  let wanted = 0;
  for (let q = 0; q < truth.length / k; q++) {
    const want = new Set(Array.from(truth.subarray(q * k, (q + 1) * k)).filter((l) => l >= 0n));
    for (const l of labels.subarray(q * k, (q + 1) * k)) found += want.has(l) ? 1 : 0;
    wanted += want.size;
  }
  return found / wanted;
}

/**
 * Vectors with the low intrinsic dimension of real embeddings (estimates for sentence embeddings
 * run from about 10 to 40): points in `latent` dimensions around 1,000 Gaussian centres (spread
 * 0.5), mapped to d dimensions by one random matrix (fixed by `mapSeed`, shared by a base and its
 * queries), plus noise of 0.05 per coordinate. n * d floats.
 */
function latentClustered(n, d, seed, { latent = 24, mapSeed = 1 } = {}) {
  const map = mulberry32(mapSeed);
  const gaussOf = (rnd) => () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const mapGauss = gaussOf(map);
  const matrix = Float32Array.from({ length: d * latent }, () => mapGauss() / Math.sqrt(latent));
  const centres = Float32Array.from({ length: 1000 * latent }, () => mapGauss());
  const rnd = mulberry32(seed);
  const gauss = gaussOf(rnd);
  const out = new Float32Array(n * d);
  const z = new Float32Array(latent);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rnd() * 1000);
    for (let j = 0; j < latent; j++) z[j] = centres[c * latent + j] + 0.5 * gauss();
    for (let k = 0; k < d; k++) {
      let v = 0.05 * gauss();
      for (let j = 0; j < latent; j++) v += matrix[k * latent + j] * z[j];
      out[i * d + k] = v;
    }
  }
  return out;
}

module.exports = { mulberry32, readSift, bruteForceGroundTruth, clustered, latentClustered, recallAtK };

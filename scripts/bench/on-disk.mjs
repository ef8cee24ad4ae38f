#!/usr/bin/env node
// An IVF index served from on-disk inverted lists under a memory cap well below its data:
// 1M x 128 synthetic vectors (tradeoffs.mjs's --set=1m) in IVF4096,Flat (512 MB of codes),
// moved to a data file, then searched by child processes, cold (data file evicted from the page
// cache) and warm (the same queries again), with FAISS's 32 read-ahead threads and without: one
// child without a cap, then one in each memory cgroup (cgroup v1 memory.limit_in_bytes, which
// counts the page cache the child's reads bring in; the kernel evicts lists to stay under it).
// Reports queries per second one at a time (200 queries) and in one batch of 500 (not under a
// cap, where each query of a batch evicts the others' lists) against the same index in memory
// (measured first, in this process), the answers' identity with it, and each capped child's
// peak memory by the cgroup's count and its own RSS.
//   node scripts/bench/on-disk.mjs [--n=1000000] [--cap=256M,384M] [--nprobe=64]
// Needs root for the cgroup; without one the capped run is skipped and says so.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const root = path.join(path.dirname(here), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { parseBytes } = require(path.join(root, 'dist', 'advisor'));
const { latentClustered } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const K = 10;
const SINGLE = 200; // one-query searches a pass
const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const log = (msg) => process.stderr.write(`on-disk: ${msg}\n`);

/**
 * Queries per second of SINGLE one-at-a-time searches and, unless `batch` is false, of all the
 * queries in one batch (under a cap smaller than the data, each query of a batch evicts the
 * others' lists); and their answers, the single ones' then the batch's.
 */
function measure(index, queries, d, nprobe, batch = true) {
  const labels = new BigInt64Array(SINGLE * K);
  const distances = new Float32Array(SINGLE * K);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < SINGLE; i++) {
    const out = { labels: labels.subarray(i * K, (i + 1) * K), distances: distances.subarray(i * K, (i + 1) * K) };
    index.searchSync(queries.subarray(i * d, (i + 1) * d), K, { nprobe, out });
  }
  const t1 = process.hrtime.bigint();
  const all = batch ? index.searchSync(queries, K, { nprobe }) : { labels: new BigInt64Array(0), distances: new Float32Array(0) };
  const t2 = process.hrtime.bigint();
  return {
    single: SINGLE / (Number(t1 - t0) / 1e9),
    batch: batch ? queries.length / d / (Number(t2 - t1) / 1e9) : NaN,
    labels: concat(BigInt64Array, labels, all.labels),
    distances: concat(Float32Array, distances, all.distances),
  };
}

function concat(Type, a, b) {
  const out = new Type(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** This process's peak resident set (VmHWM), in bytes. */
function peakRss() {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

// Child: serves the index file, cold then warm, writes what it measured as JSON.
function child(indexPath, queriesPath, d, nprobe, out, batch) {
  const bytes = fs.readFileSync(queriesPath);
  const queries = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const runs = {};
  let loadSeconds = 0;
  for (const threads of [32, 0]) {
    // Read anew each time: pages still mapped would stay in the page cache through the eviction.
    const t0 = process.hrtime.bigint();
    const index = faiss.readIndexSync(indexPath, { readOnly: true });
    loadSeconds = Math.max(loadSeconds, Number(process.hrtime.bigint() - t0) / 1e9);
    index.prefetchThreads = threads;
    evict(index.onDisk.filename);
    const cold = measure(index, queries, d, nprobe, batch);
    const warm = measure(index, queries, d, nprobe, batch);
    runs[threads] = { cold: { single: cold.single, batch: cold.batch }, warm: { single: warm.single, batch: warm.batch } };
    fs.writeFileSync(`${out}.labels`, warm.labels);
    fs.writeFileSync(`${out}.distances`, warm.distances);
    index.dispose();
  }
  fs.writeFileSync(out, JSON.stringify({ loadSeconds, runs, peakRss: peakRss() }));
}

/** Drops the data file's pages from the page cache (written back by writeIndex's sync first). */
function evict(file) {
  const r = spawnSync('python3', ['-c', 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)', file]);
  if (r.status !== 0) throw new Error(`could not evict ${file} from the page cache: ${r.stderr}`);
}

/** A fresh cgroup v1 memory group of `cap` bytes under ours, or null (no cgroup v1 memory, or not root). */
function memoryCgroup(cap) {
  const line = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:memory:/.test(l));
  if (!line) return null;
  const dir = path.join('/sys/fs/cgroup/memory', line.split(':')[2], `faiss-native-on-disk-${process.pid}-${cap}`);
  try {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(cap));
    return dir;
  } catch (err) {
    log(`no memory cgroup (${err.message})`);
    return null;
  }
}

function serve(indexPath, queriesPath, d, nprobe, cgroup) {
  const out = path.join(path.dirname(indexPath), `serve-${cgroup ? 'capped' : 'uncapped'}.json`);
  // Under the cap only one query at a time: a batch over every list thrashes the page cache.
  const node = [process.execPath, here, '--child', indexPath, queriesPath, String(d), String(nprobe), out, cgroup ? 'single' : 'batch'];
  // The child joins the cgroup before Node starts, so everything it maps is counted.
  const r = cgroup
    ? spawnSync('sh', ['-c', `echo $$ > ${cgroup}/cgroup.procs && exec "$@"`, 'sh', ...node], { stdio: 'inherit' })
    : spawnSync(node[0], node.slice(1), { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`serving child failed (status ${r.status}, signal ${r.signal})`);
  const measured = JSON.parse(fs.readFileSync(out, 'utf8'));
  const labels = new BigInt64Array(fs.readFileSync(`${out}.labels`).buffer.slice(0));
  const distances = new Float32Array(fs.readFileSync(`${out}.distances`).buffer.slice(0));
  if (cgroup) {
    const read = (f) => Number(fs.readFileSync(path.join(cgroup, f), 'utf8'));
    measured.cgroupPeak = read('memory.max_usage_in_bytes');
    measured.cgroupLimitHits = read('memory.failcnt');
  }
  return { ...measured, labels, distances };
}

function main() {
  const n = Number(arg('n', 1_000_000));
  const caps = arg('cap', '256M,384M').split(',').map(parseBytes);
  const nprobe = Number(arg('nprobe', 64));
  const d = 128;
  const nlist = n >= 500_000 ? 4096 : 1024;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-on-disk-'));
  try {
    log(`${n} x ${d} vectors, IVF${nlist},Flat, nprobe ${nprobe}, caps ${caps.join(', ')} bytes`);
    const base = latentClustered(n, d, 21);
    const queries = latentClustered(500, d, 22);
    const index = faiss.indexFactory(d, `IVF${nlist},Flat`, faiss.METRIC_INNER_PRODUCT);
    index.trainSync(base.subarray(0, Math.min(n, 200_000) * d));
    index.addSync(base);
    const memory = measure(index, queries, d, nprobe);
    memory.again = measure(index, queries, d, nprobe);
    index.replaceInvlistsSync(new faiss.OnDiskInvertedLists(index.nlist, index.codeSize, path.join(dir, 'lists.ivfdata')));
    index.writeSync(path.join(dir, 'index.faiss'));
    const dataBytes = fs.statSync(path.join(dir, 'lists.ivfdata')).size;
    const indexBytes = fs.statSync(path.join(dir, 'index.faiss')).size;
    index.dispose();
    const queriesPath = path.join(dir, 'queries.f32');
    fs.writeFileSync(queriesPath, queries);

    const runs = [['on disk, no cap', null]];
    for (const cap of caps) runs.push([`on disk, cgroup cap ${(cap / 2 ** 20).toFixed(0)} MiB`, cap]);
    const rows = [];
    let cgroups = true;
    for (const [name, cap] of runs) {
      const group = cap === null ? null : memoryCgroup(cap);
      if (cap !== null && group === null) {
        cgroups = false;
        continue;
      }
      const served = serve(path.join(dir, 'index.faiss'), queriesPath, d, nprobe, group);
      const same = served.labels.every((l, i) => l === memory.labels[i]) && served.distances.every((v, i) => Object.is(v, memory.distances[i]));
      rows.push({ name, ...served, same });
      if (group) fs.rmdirSync(group);
    }
    const mib = (b) => (b / 2 ** 20).toFixed(0);
    console.log(`\n${n.toLocaleString('en')} x ${d}, IVF${nlist},Flat (inner product), nprobe ${nprobe}, k ${K}, 500 queries; data file ${mib(dataBytes)} MiB, index file ${mib(indexBytes)} MiB\n`);
    console.log('| served from | prefetch threads | answers identical to in memory | load s | queries/s one at a time: cold, warm | batch of 500: cold, warm | peak RSS MiB | cgroup peak MiB (limit hits) |');
    console.log('|---|---|---|---|---|---|---|---|');
    console.log(`| memory (this process) | - | - | - | ${memory.single.toFixed(0)}, ${memory.again.single.toFixed(0)} | ${memory.batch.toFixed(0)}, ${memory.again.batch.toFixed(0)} | ${mib(peakRss())} | - |`);
    for (const r of rows) {
      const group = r.cgroupPeak === undefined ? '-' : `${mib(r.cgroupPeak)} (${r.cgroupLimitHits})`;
      for (const [threads, { cold, warm }] of Object.entries(r.runs).sort(([a], [b]) => b - a)) {
        const batch = cold.batch === null ? '- (one at a time only)' : `${cold.batch.toFixed(0)}, ${warm.batch.toFixed(0)}`;
        console.log(`| ${r.name} | ${threads} | ${r.same ? 'yes' : 'NO'} | ${r.loadSeconds.toFixed(2)} | ${cold.single.toFixed(0)}, ${warm.single.toFixed(0)} | ${batch} | ${mib(r.peakRss)} | ${group} |`);
      }
    }
    if (!cgroups) console.log('\n(no memory cgroup here: the capped runs need root and cgroup v1 memory)');
    if (rows.some((r) => !r.same)) process.exitCode = 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') child(process.argv[3], process.argv[4], Number(process.argv[5]), Number(process.argv[6]), process.argv[7], process.argv[8] === 'batch');
else main();

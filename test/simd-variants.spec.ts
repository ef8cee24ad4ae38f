// The SIMD variants: the loader's choice, and identical results from every FAISS build.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildInfo } from '../lib';
import { bestLevelFor, chooseLevel, native, openblasCoreFor, openblasLoadEnv, SIMD_LEVELS } from '../lib/native';

describe('choosing a variant', () => {
  const avx2 = ['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'popcnt'];
  const avx512 = [...avx2, 'avx512f', 'avx512cd', 'avx512vl', 'avx512dq', 'avx512bw'];

  it('picks the fastest level the CPU flags allow', () => {
    expect(bestLevelFor(new Set())).toBe('generic');
    expect(bestLevelFor(new Set(['sse4_2', 'avx']))).toBe('generic');
    expect(bestLevelFor(new Set(['avx2', 'fma', 'popcnt']))).toBe('generic'); // no f16c
    expect(bestLevelFor(new Set(avx2))).toBe('avx2');
    expect(bestLevelFor(new Set([...avx2, 'avx512f']))).toBe('avx2'); // AVX-512 F alone is not enough
    expect(bestLevelFor(new Set(avx512))).toBe('avx512');
  });

  it('honours FAISS_OPT_LEVEL downwards and refuses to go above the CPU', () => {
    expect(chooseLevel('avx512', undefined)).toBe('avx512');
    expect(chooseLevel('avx512', 'generic')).toBe('generic');
    expect(chooseLevel('avx512', 'AVX2')).toBe('avx2');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      expect(chooseLevel('generic', 'avx512')).toBe('generic');
    } finally {
      process.off('warning', onWarning);
    }
    expect(() => chooseLevel('avx2', 'sse9')).toThrow(/FAISS_OPT_LEVEL must be one of generic, avx2, avx512; got "sse9"/);
  });

  it.runIf(process.arch === 'x64')('the addon\'s own CPU check (the loader\'s where there is no /proc/cpuinfo: Windows) agrees with /proc/cpuinfo', () => {
    const line = /^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))![1].trim().split(/\s+/);
    const wanted = [...avx512, 'popcnt'].filter((f) => f !== 'sse4_2' && f !== 'avx');
    expect(native.cpuFlags().sort()).toEqual([...new Set(wanted)].filter((f) => line.includes(f)).sort());
  });
});

// OpenBLAS reads OPENBLAS_CORETYPE once, when it loads with the addon: so in child processes.
function openblasCoreWith(env: Record<string, string | undefined>): string {
  const clean = { ...process.env, ...env };
  for (const key of Object.keys(clean)) if (clean[key] === undefined) delete clean[key];
  const script = "const { openblasCore } = require('./dist').buildInfo; process.stdout.write(JSON.stringify([openblasCore, process.env.OPENBLAS_CORETYPE ?? null]))";
  const [core, after] = JSON.parse(spawnSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), env: clean, encoding: 'utf8' }).stdout);
  expect(after, 'OPENBLAS_CORETYPE after loading').toBe(env.OPENBLAS_CORETYPE ?? null); // child processes get the environment given
  return core;
}

describe('OpenBLAS settings at load', () => {
  it('name the kernels on x64 and keep OpenBLAS single-threaded on musl (its pthread pool fought OpenMP), unless set by you', () => {
    const saved = { ...process.env };
    try {
      delete process.env.OPENBLAS_CORETYPE;
      delete process.env.OPENBLAS_NUM_THREADS;
      expect(openblasLoadEnv('avx2', 'linux-x64')).toEqual({ OPENBLAS_CORETYPE: 'Haswell' });
      expect(openblasLoadEnv('avx512', 'linux-x64-musl')).toEqual({ OPENBLAS_CORETYPE: 'SkylakeX', OPENBLAS_NUM_THREADS: '1' });
      expect(openblasLoadEnv('generic', 'linux-arm64-musl')).toEqual({ OPENBLAS_NUM_THREADS: '1' });
      // Windows' C runtime reads its environment at startup: nothing set later reaches OpenBLAS.
      expect(openblasLoadEnv('avx2', 'win32-x64')).toEqual({});
      process.env.OPENBLAS_NUM_THREADS = '2';
      process.env.OPENBLAS_CORETYPE = 'Zen';
      expect(openblasLoadEnv('avx2', 'linux-x64-musl')).toEqual({});
    } finally {
      process.env = saved;
    }
  });
});

describe('OpenBLAS kernels', () => {
  it('are chosen from the CPU flags, since OpenBLAS takes its SSE3 kernels on CPU models it does not know', () => {
    expect(openblasCoreFor('avx512')).toBe('SkylakeX');
    expect(openblasCoreFor('avx2')).toBe('Haswell');
    expect(openblasCoreFor('generic')).toBeUndefined(); // OpenBLAS's own detection
  });

  it.runIf(buildInfo.openblasCore !== '' && buildInfo.simdLevel !== 'generic')('are in use unless OPENBLAS_CORETYPE says otherwise, which is left as it was', () => {
    expect(openblasCoreWith({ OPENBLAS_CORETYPE: undefined, FAISS_OPT_LEVEL: undefined })).toBe(openblasCoreFor(buildInfo.simdLevel));
    expect(openblasCoreWith({ OPENBLAS_CORETYPE: 'Nehalem' })).toBe('Nehalem'); // yours wins
  });
});

// Each variant in its own process (the variant is chosen at load time), on the same data.
function runVariant(level: string): { level: string; options: string; labels: string[]; distances: number[] } {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'search-variant.cjs')], {
    env: { ...process.env, FAISS_OPT_LEVEL: level },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`variant ${level} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// The reference is the fastest variant this CPU runs (avx512 where it has AVX-512, else avx2);
// every lower one is compared with it.
const cpuFlags = /^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1].trim().split(/\s+/) ?? [];
const cpuBest = bestLevelFor(new Set(cpuFlags));
const lower = SIMD_LEVELS.slice(0, SIMD_LEVELS.indexOf(cpuBest));

describe.runIf(lower.length > 0)('every variant gives the same answers', () => {
  it.each(lower)(`%s: same labels as ${cpuBest}, distances within float tolerance`, (level) => {
    const ref = runVariant(cpuBest);
    const other = runVariant(level);
    expect(ref.level).toBe(cpuBest);
    expect(other.level).toBe(level);
    expect(other.options).not.toBe(ref.options);
    expect(other.labels.length).toBeGreaterThan(20_000);
    expect(other.labels).toEqual(ref.labels);
    for (let i = 0; i < ref.distances.length; i++) {
      expect(Math.abs(other.distances[i] - ref.distances[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(ref.distances[i])));
    }
  });
});

// `faiss-native` on the command line, end to end on the SIFT sample: build, info, search, eval,
// and its exit codes and messages for bad files, dimensions and options. Runs dist/cli.js, which
// global setup compiles from the current lib/.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readIndexSync, readNpy, writeNpy } from '../lib';
import { bruteForce, score } from './helpers/brute-force';
import { sift, SIFT_GT_K } from './helpers/data';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const at = (f: string) => path.join(dir, f);

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('faiss-native CLI on SIFT', () => {
  const { d, base, queries, nq, groundTruthL2 } = sift();
  writeNpy(at('base.npy'), base, [base.length / d, d]);
  writeNpy(at('queries.npy'), queries, [nq, d]);
  writeNpy(at('gt.npy'), Int32Array.from(groundTruthL2), [nq, SIFT_GT_K]);
  // The same base as .fvecs: each vector prefixed with its dimension.
  const fvecs = Buffer.alloc((base.length / d) * (4 + 4 * d));
  for (let i = 0; i < base.length / d; i++) {
    fvecs.writeInt32LE(d, i * (4 + 4 * d));
    Buffer.from(base.buffer, base.byteOffset + i * d * 4, d * 4).copy(fvecs, i * (4 + 4 * d) + 4);
  }
  fs.writeFileSync(at('base.fvecs'), fvecs);

  it('build: trains, adds with progress, writes the index and a summary', () => {
    const r = cli('build', 'IVF16,Flat', 'base.npy', '-o', 'ivf.index', '--train-size', '2000');
    expect(r.err).toMatch(/training IVF16,Flat on 2000 vectors/);
    expect(r.err).toMatch(/k-means iterations \[#{30}\] 10\/10 [\d.]+\/s/);
    expect(r.err).toMatch(/adding \[#+\] 4500\/4500 \d+\/s/);
    expect(r.out).toMatch(/ivf\.index: IndexIVFFlat \(IVF16,Flat\), ntotal 4500, d 128, \d+ bytes/);
    expect(r.code).toBe(0);
    const index = readIndexSync(at('ivf.index'));
    expect([index.ntotal, index.nlist]).toEqual([4500, 16]);
    index.dispose();
    expect(cli('build', 'Flat', 'base.fvecs', '-o', 'flat.index', '--metric', 'l2').code).toBe(0);
  });

  it('build auto: the family that fits --max-memory and reaches --recall on a sample, with its table and settings', () => {
    // 200 bytes a vector at n = 4500: Flat, fp16 and HNSW do not fit.
    const r = cli('build', 'auto', 'base.npy', '-o', 'auto.index', '--max-memory', String(200 * 4500), '--recall', '0.9');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/measuring the families that fit on 4500 of the 4500 vectors/);
    expect(r.err).toMatch(/^ {2}HNSW32\t[\d.]+ MiB\tdoes not fit/m);
    const chosen = /^\* (\S+)\t/m.exec(r.err)?.[1];
    expect(chosen).toBeDefined();
    expect(r.out).toContain(`auto.index: `);
    expect(r.out).toContain(`(${chosen}`);
    const index = readIndexSync(at('auto.index'));
    expect(index.ntotal).toBe(4500);
    expect(index.serializeSync().length).toBeLessThanOrEqual(200 * 4500);
    index.dispose();
    expect(cli('build', 'auto', 'base.npy', '-o', 'x.index', '--recall', '0.9').code).toBe(2);
  }, 120_000);

  it('info: type chain, dimension, metric, sizes and settings', () => {
    const r = cli('info', 'ivf.index');
    expect(r.code).toBe(0);
    for (const line of [/type\s+IndexIVFFlat/, /d\s+128/, /metric\s+L2/, /ntotal\s+4500/, /nlist\s+16/, /nprobe\s+1/, /quantizer\s+IndexFlatL2 of 16 centroids/, /bytes\s+\d+/]) {
      expect(r.out).toMatch(line);
    }
  });

  it('search: labels and distances as .npy, or JSON, equal to the API', () => {
    expect(cli('search', 'flat.index', 'queries.npy', '-k', '5', '-o', 'out.npy').code).toBe(0);
    const labels = readNpy(at('out.npy'));
    expect(labels.shape).toEqual([nq, 5]);
    const index = readIndexSync(at('flat.index'));
    const want = index.searchSync(queries, 5);
    expect(labels.data).toEqual(want.labels);
    expect(readNpy(at('out.distances.npy')).data).toEqual(want.distances);
    index.dispose();
    expect(cli('search', 'ivf.index', 'queries.npy', '--nprobe', '16', '-o', 'out.json').code).toBe(0);
    const rows = JSON.parse(fs.readFileSync(at('out.json'), 'utf8')) as { labels: number[] }[];
    const ivf = readIndexSync(at('ivf.index'));
    const wantIvf = ivf.searchSync(queries, 10, { nprobe: 16 });
    expect(rows.flatMap((row) => row.labels)).toEqual(Array.from(wantIvf.labels, Number));
    ivf.dispose();
  });

  it('eval: recall@1/10/100 and queries per second at each nprobe, and an SVG plot', () => {
    const r = cli('eval', 'ivf.index', 'queries.npy', '--gt', 'gt.npy', '-o', 'plot.svg');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^nprobe\s+recall@1\s+recall@10\s+recall@100\s+queries\/s/);
    const table = lines.slice(1, 6).map((l) => l.trim().split(/\s+/).map(Number));
    expect(table.map((row) => row[0])).toEqual([1, 2, 4, 8, 16]);
    // IVF-Flat at nprobe = nlist is exact search: recall 1 against the float64 ground truth.
    expect(table[4].slice(1, 4)).toEqual([1, 1, 1]);
    expect(table[0][2]).toBeLessThan(1);
    const svg = fs.readFileSync(at('plot.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('queries per second');
    // Each point is labelled with its nprobe (the text marks' group, apart from the axes).
    const labels = svg.split('class="mark-text role-mark')[1]?.split('</g>')[0] ?? '';
    expect([...labels.matchAll(/>(\d+)<\/text>/g)].map((m) => Number(m[1]))).toEqual([1, 2, 4, 8, 16]);
  });

  it('eval without the optional packages vega and vega-lite: a plain SVG plot, a notice, exit 0', () => {
    // A module hook hides both packages, as on a plain install.
    const hook = 'export async function resolve(s, c, next) { if (s === "vega" || s === "vega-lite") ' +
      '{ const e = new Error(`Cannot find package ${s}`); e.code = "ERR_MODULE_NOT_FOUND"; throw e; } return next(s, c); }';
    const register = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
    const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, CLI, 'eval', 'ivf.index', 'queries.npy',
      '--gt', 'gt.npy', '-o', 'plain.svg'], { encoding: 'utf8', cwd: dir });
    expect(r.stderr).toBe('notice: vega and vega-lite are not installed, so the plot is a plain SVG (npm install vega vega-lite renders it with Vega)\n');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^nprobe\s+recall@1/);
    expect(r.stdout).not.toMatch(/usage/i);
    const svg = fs.readFileSync(at('plain.svg'), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('queries per second');
    expect(svg.match(/<circle /g)).toHaveLength(5);
    const labels = svg.split('<g class="labels">')[1]?.split('</g>')[0] ?? '';
    expect([...labels.matchAll(/>(\d+)<\/text>/g)].map((m) => Number(m[1]))).toEqual([1, 2, 4, 8, 16]);
  });

  it('search and eval with --filter (a file of ids, or a range): only allowed ids; recall against brute force over them', () => {
    const allowed = Array.from({ length: 4500 }, (_, i) => i).filter((i) => i % 7 === 2);
    writeNpy(at('allowed.npy'), BigInt64Array.from(allowed, BigInt), [allowed.length]);
    const subset = new Float32Array(allowed.length * d);
    allowed.forEach((i, j) => subset.set(base.subarray(i * d, (i + 1) * d), j * d));
    const truth = bruteForce('l2', subset, queries, d, 10).ids.map((row) => row.map((j) => allowed[j]));

    const r = cli('search', 'flat.index', 'queries.npy', '--filter', 'allowed.npy', '-o', 'filtered.json');
    expect([r.code, r.out]).toEqual([0, `${nq} queries, k=10, filtered (plan: exact): filtered.json\n`]);
    const rows = JSON.parse(fs.readFileSync(at('filtered.json'), 'utf8')) as { labels: number[]; distances: number[] }[];
    rows.forEach((row, q) => row.labels.forEach((id, j) => expect(score('l2', queries, q, base, id, d)).toBe(row.distances[j])));
    expect(rows.map((row) => row.distances)).toEqual(bruteForce('l2', subset, queries, d, 10).scores.map((s) => Array.from(s)));
    expect(rows.filter((row, q) => row.labels.join() !== truth[q].join()).length).toBeLessThan(5); // ties aside

    const ranged = cli('search', 'ivf.index', 'queries.npy', '--filter', '1000:1500', '--nprobe', '2', '-o', 'ranged.json');
    expect(ranged.code).toBe(0);
    const ids = (JSON.parse(fs.readFileSync(at('ranged.json'), 'utf8')) as { labels: number[] }[]).flatMap((row) => row.labels);
    expect(ids.every((id) => id >= 1000 && id < 1500)).toBe(true);

    // eval: recall@10 of the filtered IVF search against brute force over the allowed ids.
    const e = cli('eval', 'ivf.index', 'queries.npy', '--filter', 'allowed.npy', '-o', 'filtered.svg');
    expect([e.code, e.err]).toEqual([0, '']);
    const lines = e.out.trim().split('\n');
    expect(lines[0]).toBe('filtered by allowed.npy: recall against exact search over the allowed ids');
    expect(lines[1]).toMatch(/^nprobe\s+recall@1\s+recall@10\s+recall@100\s+queries\/s\s+plan$/);
    const table = lines.slice(2, 7).map((l) => l.trim().split(/\s+/));
    // IVF-Flat over the allowed ids: with 1/7 allowed, nprobe n searches min(7n, 16) lists; from 4 on, all of them.
    expect(table.map((row) => [row[0], row[5]])).toEqual([['1', 'widened'], ['2', 'widened'], ['4', 'exact'], ['8', 'exact'], ['16', 'exact']]);
    expect(table.slice(2).map((row) => row[2])).toEqual(['1.0000', '1.0000', '1.0000']);
    // The same against a ground truth computed here (brute force over the allowed ids, 100 a query).
    const gt = bruteForce('l2', subset, queries, d, 100).ids.flatMap((row) => row.map((j) => allowed[j]));
    writeNpy(at('filtered-gt.npy'), BigInt64Array.from(gt, BigInt), [nq, 100]);
    const withGt = cli('eval', 'ivf.index', 'queries.npy', '--filter', 'allowed.npy', '--gt', 'filtered-gt.npy', '-o', 'filtered.svg');
    const recalls = withGt.out.trim().split('\n').slice(2, 7).map((l) => Number(l.trim().split(/\s+/)[2]));
    expect(recalls.slice(2).every((r) => r >= 0.99)).toBe(true); // ties at the 10th distance aside
    expect(recalls[0]).toBeGreaterThan(0.9);
    expect(cli('eval', 'ivf.index', 'queries.npy', '--filter', '9:3')).toMatchObject({ code: 2, err: expect.stringMatching(/--filter 9:3: the range's min must be at most its max/) });
  });

  it('exit codes and messages: unknown command or option, bad files, wrong dimension', () => {
    const unknown = cli('frobnicate');
    expect([unknown.code, unknown.err]).toEqual([2, expect.stringMatching(/^faiss-native frobnicate: unknown command 'frobnicate'\n\nUsage:/)]);
    expect(cli('search', 'ivf.index', 'queries.npy', '-o', 'x.npy', '--nprob', '3')).toMatchObject({ code: 2, err: expect.stringMatching(/Unknown option '--nprob'/) });
    expect(cli('info', 'missing.index')).toMatchObject({ code: 1, err: `faiss-native info: cannot read missing.index: no such file\n` });
    fs.writeFileSync(at('junk.index'), 'not an index at all');
    expect(cli('info', 'junk.index')).toMatchObject({ code: 1, err: expect.stringMatching(/^faiss-native info: /) });
    writeNpy(at('q64.npy'), new Float32Array(64 * 2), [2, 64]);
    // Data errors exit 1 with the message alone; usage errors exit 2 with the usage text.
    expect(cli('search', 'ivf.index', 'q64.npy', '-o', 'x.npy')).toMatchObject({ code: 1, err: 'faiss-native search: q64.npy holds vectors of d=64; ivf.index has d=128\n' });
    expect(cli('build', 'IVF16,Flat', 'missing.npy', '-o', 'x.index')).toMatchObject({ code: 1, err: 'faiss-native build: cannot read missing.npy: no such file\n' });
    writeNpy(at('flat.npy'), new Float32Array(8));
    expect(cli('build', 'Flat', 'flat.npy', '-o', 'x.index')).toMatchObject({ code: 1, err: 'faiss-native build: flat.npy must hold a 2-D float32 array (n x d); got shape (8)\n' });
    expect(fs.existsSync(at('x.index'))).toBe(false);
    expect(cli('build', 'IVF16,Flat', 'base.txt', '-o', 'x.index')).toMatchObject({ code: 2, err: expect.stringMatching(/vectors must be \.npy, \.fvecs or \.bvecs/) });
    expect(cli('build', 'IVF16,Flat', 'base.npy', '-o', 'x.index', '--metric', 'cosine')).toMatchObject({ code: 2, err: expect.stringMatching(/--metric must be ip or l2; got cosine/) });
    expect(cli().code).toBe(2);
  });
});

#!/usr/bin/env node
// The command line (`npx faiss-native <command>`): build an index from a vector file, search
// it, describe it, and measure its recall and speed. Exit codes: 0 done, 1 failed (a message on
// stderr: a file that cannot be read, vectors of the wrong shape or dimension), 2 bad usage (with
// the usage text).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
// The whole API, so that every index class is registered and files load as their own class.
import {
  indexFactory,
  METRIC_INNER_PRODUCT,
  METRIC_L2,
  normalizeL2,
  readBvecs,
  readFvecs,
  readIndexSync,
  readIvecs,
  readNpy,
  writeNpy,
  type IdFilterLike,
  type Index,
} from './index';
import { candidateTable, parseBytes, recommend } from './advisor';
import { exactNeighbours, operatingValues, recallAt, timedSearch } from './tune';

const USAGE = `Usage: faiss-native <command> [options]

  build <factory> <vectors> -o <index>   build an index ("IVF1024,SQ8", "HNSW32", "Flat", ...)
        [--metric ip|l2] [--normalize] [--train-size N]
  build auto <vectors> -o <index> --max-memory 4G --recall 0.95 [--sample N]
                                         the index that fits the memory and reaches recall@10
                                         on a sample of the vectors (default 20000), chosen
                                         by measuring each family (its table on stderr)
  search <index> <queries> -o <out.npy|out.json> [-k 10] [--nprobe N] [--ef-search N]
        [--filter <ids file>|<min>:<max>]
  info <index>                           type, dimension, metric, size and settings
  eval <index> <queries> [--gt <file>] [--filter <ids file>|<min>:<max>] [-o <plot.svg>]
                                         recall@1/10/100 and queries per second at each nprobe
                                         (or efSearch), as a table and a plot; with a filter,
                                         against exact search over the allowed ids

Vectors: .npy (float32, C order), .fvecs or .bvecs; ground truth: .npy (int64 or int32) or .ivecs.
Filters: the ids a search may return, as a file of ids (.npy int64 or int32, or .ivecs) or a
range <min>:<max> (max excluded).`;

class UsageError extends Error {}

/** n x d float32 vectors from a .npy, .fvecs or .bvecs file. */
export function readVectors(file: string): { x: Float32Array; n: number; d: number } {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.fvecs') {
    const { data, n, d } = readFvecs(file);
    return { x: data, n, d };
  }
  if (ext === '.bvecs') {
    const { data, n, d } = readBvecs(file);
    return { x: Float32Array.from(data), n, d };
  }
  if (ext === '.npy') {
    const { data, shape } = readNpy(file);
    if (!(data instanceof Float32Array) || shape.length !== 2) throw new RangeError(`${file} must hold a 2-D float32 array (n x d); got shape (${shape.join(', ')})`);
    return { x: data, n: shape[0], d: shape[1] };
  }
  throw new UsageError(`${file}: vectors must be .npy, .fvecs or .bvecs`);
}

/** An index file and a queries file of its dimension. */
function indexAndQueries(file: string, queriesFile: string): { index: Index; x: Float32Array; nq: number } {
  const index = readIndexSync(file, { trusted: true });
  const { x, n, d } = readVectors(queriesFile);
  if (d !== index.d) {
    index.dispose();
    throw new RangeError(`${queriesFile} holds vectors of d=${d}; ${file} has d=${index.d}`);
  }
  return { index, x, nq: n };
}

/** Ids of the true neighbours, nq rows of width k. */
function readGroundTruth(file: string): { ids: BigInt64Array; width: number } {
  if (file.toLowerCase().endsWith('.ivecs')) {
    const { data, d } = readIvecs(file);
    return { ids: BigInt64Array.from(data, BigInt), width: d };
  }
  const { data, shape } = readNpy(file);
  if (shape.length !== 2 || data instanceof Float32Array || data instanceof Uint8Array) throw new RangeError(`${file} must hold a 2-D int64 or int32 array`);
  return { ids: data instanceof BigInt64Array ? data : BigInt64Array.from(data, BigInt), width: shape[1] };
}

/** --filter: a file of allowed ids, or a range <min>:<max> (max excluded). */
function readFilter(value: string | undefined): IdFilterLike | undefined {
  if (value === undefined) return undefined;
  const range = /^(\d+):(\d+)$/.exec(value);
  if (range) {
    const [min, max] = [BigInt(range[1]), BigInt(range[2])];
    if (min > max) throw new UsageError(`--filter ${value}: the range's min must be at most its max`);
    return { range: [min, max] };
  }
  if (!fs.existsSync(value)) throw new UsageError(`--filter must be a file of ids or a range <min>:<max>; got ${value}`);
  if (value.toLowerCase().endsWith('.ivecs')) return BigInt64Array.from(readIvecs(value).data, BigInt);
  const { data, shape } = readNpy(value);
  if (shape.length !== 1 || !(data instanceof BigInt64Array || data instanceof Int32Array)) throw new RangeError(`${value} must hold a 1-D int64 or int32 array of ids`);
  return data instanceof BigInt64Array ? data : BigInt64Array.from(data, BigInt);
}

/** A progress line on stderr: count, rate and time left, redrawn in place on a terminal. */
function progress(label: string): (done: number, total: number) => void {
  const t0 = Date.now();
  return (done, total) => {
    const s = (Date.now() - t0) / 1000;
    const rate = done / Math.max(s, 1e-3);
    const width = 30;
    const bar = '#'.repeat(Math.round((width * done) / total)).padEnd(width, '.');
    const line = `${label} [${bar}] ${done}/${total} ${rate >= 100 ? Math.round(rate) : rate.toPrecision(2)}/s, ${s.toFixed(1)} s, ${((total - done) / rate).toFixed(1)} s left`;
    process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
    if (done === total && process.stderr.isTTY) process.stderr.write('\n');
  };
}

function metricOf(name: string | undefined) {
  if (name === undefined || name === 'l2') return METRIC_L2;
  if (name === 'ip') return METRIC_INNER_PRODUCT;
  throw new UsageError(`--metric must be ip or l2; got ${name}`);
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer; got ${value}`);
  return n;
}

async function build(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      metric: { type: 'string' },
      normalize: { type: 'boolean' },
      'train-size': { type: 'string' },
      'max-memory': { type: 'string' },
      recall: { type: 'string' },
      sample: { type: 'string' },
    },
  });
  let [factory] = positionals;
  const vectors = positionals[1];
  if (factory === undefined || vectors === undefined || values.output === undefined) throw new UsageError('build needs <factory> <vectors> -o <index>');
  const auto = factory === 'auto';
  if (auto !== (values['max-memory'] !== undefined && values.recall !== undefined)) throw new UsageError('build auto needs --max-memory and --recall, and they need auto');
  const t0 = Date.now();
  const { x, n, d } = readVectors(vectors);
  if (values.normalize) normalizeL2(x, d);
  const metric = metricOf(values.metric);
  let params = {};
  if (auto) {
    const recall = Number(values.recall);
    const sampleSize = Math.min(n, positiveInt(values.sample, '--sample') ?? 20000);
    // Rows spread over the file, in case its order follows something (time, source).
    const sample = new Float32Array(sampleSize * d);
    for (let i = 0; i < sampleSize; i++) sample.set(x.subarray(Math.floor((i * n) / sampleSize) * d, (Math.floor((i * n) / sampleSize) + 1) * d), i * d);
    process.stderr.write(`measuring the families that fit on ${sampleSize} of the ${n} vectors\n`);
    const chosen = await recommend({ n, d, metric, memoryBytes: parseBytes(values['max-memory']!), recall, sample });
    process.stderr.write(`${candidateTable(chosen)}\n`);
    if (!chosen.met) process.stderr.write(`no index that fits reaches recall ${recall} on the sample; the most accurate that fits: ${chosen.factory}\n`);
    factory = chosen.factory;
    params = chosen.params;
  }
  const index = indexFactory(d, factory, metric);
  // The chosen search settings are kept in the file (nprobe, efSearch, kFactor, qb).
  Object.assign(index, params);
  if (!index.isTrained) {
    const size = Math.min(n, positiveInt(values['train-size'], '--train-size') ?? n);
    process.stderr.write(`training ${factory} on ${size} vectors\n`);
    const t = Date.now();
    await index.train(x.subarray(0, size * d), { onProgress: progress('k-means iterations') });
    process.stderr.write(`trained in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  }
  await index.add(x, { onProgress: progress('adding') });
  await index.write(values.output);
  const settings = Object.entries(params).map(([key, value]) => `, ${key} ${value}`).join('');
  console.log(`${values.output}: ${index.constructor.name} (${factory}${settings}), ntotal ${index.ntotal}, d ${d}, ${fs.statSync(values.output).size} bytes, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  index.dispose();
}

async function search(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { output: { type: 'string', short: 'o' }, k: { type: 'string', short: 'k' }, nprobe: { type: 'string' }, 'ef-search': { type: 'string' }, filter: { type: 'string' } },
  });
  const [file, queriesFile] = positionals;
  if (file === undefined || queriesFile === undefined || values.output === undefined) throw new UsageError('search needs <index> <queries> -o <out.npy|out.json>');
  const { index, x } = indexAndQueries(file, queriesFile);
  const k = positiveInt(values.k, '-k') ?? 10;
  const nprobe = positiveInt(values.nprobe, '--nprobe');
  const efSearch = positiveInt(values['ef-search'], '--ef-search');
  const filter = readFilter(values.filter);
  const { distances, labels, nq, plan } = await index.search(x, k, { ...(nprobe && { nprobe }), ...(efSearch && { efSearch }), ...(filter && { filter }) });
  if (values.output.endsWith('.json')) {
    const rows = Array.from({ length: nq }, (_, i) => ({ labels: Array.from(labels.subarray(i * k, (i + 1) * k), Number), distances: Array.from(distances.subarray(i * k, (i + 1) * k)) }));
    fs.writeFileSync(values.output, JSON.stringify(rows));
  } else {
    writeNpy(values.output, labels, [nq, k]);
    writeNpy(values.output.replace(/\.npy$/, '') + '.distances.npy', distances, [nq, k]);
  }
  console.log(`${nq} queries, k=${k}${plan ? `, filtered (plan: ${plan})` : ''}: ${values.output}`);
  index.dispose();
}

/** The chain of index types, outermost first. */
function describeIndex(index: Index): Record<string, unknown> {
  const layers: string[] = [];
  for (let at: Index | undefined = index; at; at = (at as Index & { index?: Index }).index) layers.push(at.constructor.name);
  const info: Record<string, unknown> = { type: layers.join(' > '), d: index.d, metric: index.metricType === METRIC_INNER_PRODUCT ? 'inner product' : 'L2', ntotal: index.ntotal, trained: index.isTrained };
  for (const key of ['nlist', 'nprobe', 'efSearch', 'efConstruction', 'qtype', 'M', 'nbits', 'byResidual'] as const) {
    try {
      const value = (index as unknown as Record<string, unknown>)[key];
      if (value !== undefined) info[key] = value;
    } catch {
      // not a layer of this index
    }
  }
  const quantizer = (index as Index & { quantizer?: Index }).quantizer;
  if (quantizer) info.quantizer = `${quantizer.constructor.name} of ${quantizer.ntotal} centroids`;
  return info;
}

function info(args: string[]): void {
  const { positionals } = parseArgs({ args, allowPositionals: true });
  const [file] = positionals;
  if (file === undefined) throw new UsageError('info needs <index>');
  const index = readIndexSync(file, { trusted: true });
  const bytes = fs.statSync(file).size;
  // Resident memory is about the file's size: the index holds in memory what the file holds.
  const out = { file, ...describeIndex(index), bytes, residentEstimateBytes: bytes };
  for (const [key, value] of Object.entries(out)) console.log(`${key.padEnd(22)} ${String(value)}`);
  index.dispose();
}

async function evaluate(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { gt: { type: 'string' }, output: { type: 'string', short: 'o' }, filter: { type: 'string' } },
  });
  const [file, queriesFile] = positionals;
  if (file === undefined || queriesFile === undefined) throw new UsageError('eval needs <index> <queries>');
  const { index, x, nq } = indexAndQueries(file, queriesFile);
  const K = Math.min(100, index.ntotal);
  const filter = readFilter(values.filter);
  let truth: BigInt64Array;
  if (values.gt) {
    const { ids, width } = readGroundTruth(values.gt);
    if (ids.length / width !== nq || width < K) throw new RangeError(`${values.gt} must hold ${nq} rows of at least ${K} ids`);
    truth = BigInt64Array.from({ length: nq * K }, (_, i) => ids[Math.floor(i / K) * width + (i % K)]);
  } else {
    truth = await exactNeighbours(index, x, K, filter);
  }
  const { parameter, values: walk } = operatingValues(index, K);
  const rows = [];
  for (const value of walk) {
    const { labels, qps, plan } = await timedSearch(index, x, K, parameter, value, filter);
    const at = (r: number) => recallAt(labels, truth, nq, K, r);
    rows.push({ [parameter]: value, 'recall@1': at(1), 'recall@10': at(Math.min(10, K)), 'recall@100': at(K), qps, plan });
  }
  if (filter) console.log(`filtered by ${values.filter}: recall against exact search over the allowed ids`);
  console.log(`${parameter.padEnd(9)} recall@1  recall@10 recall@${K}  queries/s${filter ? '  plan' : ''}`);
  for (const r of rows) {
    const recalls = [r['recall@1'], r['recall@10'], r['recall@100']].map((v) => (v as number).toFixed(4).padEnd(9)).join(' ');
    console.log(`${String(r[parameter]).padEnd(9)} ${recalls} ${String(Math.round(r.qps as number)).padEnd(10)}${r.plan ? ` ${r.plan}` : ''}`.trimEnd());
  }
  const plot = values.output ?? `${file}.eval.svg`;
  await writePlot(plot, rows, parameter);
  console.log(`plot: ${plot}`);
  index.dispose();
}

/**
 * Recall@10 against queries per second, through Vega-Lite rendered headless to SVG; without the
 * optional packages vega and vega-lite, a plain SVG of the same chart (basicPlot) and a notice.
 */
async function writePlot(file: string, rows: Record<string, unknown>[], parameter: string): Promise<void> {
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 480,
    height: 300,
    data: { values: rows },
    encoding: {
      x: { field: 'recall@10', type: 'quantitative', scale: { zero: false } },
      y: { field: 'qps', type: 'quantitative', scale: { type: 'log' }, title: 'queries per second' },
    },
    // Each point labelled with its nprobe (or efSearch): an SVG file shows no tooltips.
    layer: [
      { mark: { type: 'line', point: true }, encoding: { tooltip: [{ field: parameter }] } },
      { mark: { type: 'text', align: 'left', dx: 6, dy: -6 }, encoding: { text: { field: parameter, type: 'quantitative' } } },
    ],
  };
  // vega and vega-lite are ES modules, loaded only here (tsc would turn import() into require()).
  const load = new Function('name', 'return import(name)') as (name: string) => Promise<Record<string, any>>;
  try {
    const [vega, vegaLite] = await Promise.all([load('vega'), load('vega-lite')]);
    const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
    fs.writeFileSync(file, await view.toSVG());
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    fs.writeFileSync(file, basicPlot(rows, parameter));
    process.stderr.write('notice: vega and vega-lite are not installed, so the plot is a plain SVG (npm install vega vega-lite renders it with Vega)\n');
  }
}

/** The same chart as writePlot's spec, drawn directly: recall@10 across, log queries/s up, labelled points. */
function basicPlot(rows: Record<string, unknown>[], parameter: string): string {
  const [w, h, left, top] = [480, 300, 60, 10];
  const xs = rows.map((r) => r['recall@10'] as number);
  const ys = rows.map((r) => Math.log10(Math.max(r.qps as number, 1e-9)));
  const span = (v: number[]) => {
    const [lo, hi] = [Math.min(...v), Math.max(...v)];
    const pad = (hi - lo || 1) * 0.05;
    return [lo - pad, hi + pad];
  };
  const [x0, x1] = span(xs);
  const [y0, y1] = span(ys);
  const px = (x: number) => +(left + ((x - x0) / (x1 - x0)) * w).toFixed(1);
  const py = (y: number) => +(top + h - ((y - y0) / (y1 - y0)) * h).toFixed(1);
  const text = (x: number, y: number, s: string, extra = '') => `<text x="${x}" y="${y}"${extra}>${s}</text>`;
  const xTicks = Array.from({ length: 5 }, (_, i) => x0 + ((x1 - x0) * (i + 0.5)) / 5);
  // Powers of ten in range, else the slowest and fastest points.
  const decades = Array.from({ length: Math.max(0, Math.floor(y1) - Math.ceil(y0) + 1) }, (_, i) => Math.ceil(y0) + i);
  const yTicks = decades.length >= 2 ? decades : [Math.min(...ys), Math.max(...ys)];
  const path = xs.map((x, i) => `${px(x)},${py(ys[i])}`).join(' ');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w + left + 20}" height="${h + top + 50}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<g stroke="#888"><line x1="${left}" y1="${top + h}" x2="${left + w}" y2="${top + h}"/><line x1="${left}" y1="${top}" x2="${left}" y2="${top + h}"/></g>`,
    ...xTicks.map((t) => text(px(t), top + h + 15, t.toFixed(3), ' text-anchor="middle"')),
    ...yTicks.map((t) => text(left - 6, py(t) + 4, String(Math.round(10 ** t)), ' text-anchor="end"')),
    text(left + w / 2, top + h + 35, 'recall@10', ' text-anchor="middle"'),
    text(14, top + h / 2, 'queries per second', ` text-anchor="middle" transform="rotate(-90 14 ${top + h / 2})"`),
    `<polyline points="${path}" fill="none" stroke="#4c78a8" stroke-width="2"/>`,
    ...xs.map((x, i) => `<circle cx="${px(x)}" cy="${py(ys[i])}" r="3" fill="#4c78a8"/>`),
    `<g class="labels">${xs.map((x, i) => text(px(x) + 6, py(ys[i]) - 6, String(rows[i][parameter]))).join('')}</g>`,
    '</svg>',
    '',
  ].join('\n');
}

const COMMANDS: Record<string, (args: string[]) => void | Promise<void>> = { build, search, info, eval: evaluate };

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  try {
    const run = COMMANDS[command];
    if (run === undefined) throw new UsageError(`unknown command '${command}'`);
    await run(args);
    return 0;
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`faiss-native ${command}: ${(err as Error).message}\n${usage ? `\n${USAGE}\n` : ''}`);
    return usage ? 2 : 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

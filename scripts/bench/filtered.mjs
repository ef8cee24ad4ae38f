#!/usr/bin/env node
// Filtered search speed: a batch of 100 queries with `filter` allowing 1%, 10% and 50% of the
// ids (as a set of ids, a bitmap and a range), against the same batch unfiltered, on a flat
// index and on IVF1024,SQ8 (nprobe 16), in alternating rounds in one process:
//   node scripts/bench/filtered.mjs [--n=100000] [--d=128]
// `npm run bench` runs it too (50k vectors).
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const faiss = require(path.join(root, 'dist'));
const { clustered, mulberry32 } = require(path.join(root, 'test', 'data', 'vectors.cjs'));

const SHARES = [0.01, 0.1, 0.5];
const NQ = 100;
const K = 10;

/** The same allowed ids in each filter form: a random set, its bitmap, and a range of the same size. */
function filters(n, share, seed) {
  const rnd = mulberry32(seed);
  const chosen = [];
  for (let i = 0; i < n; i++) if (rnd() < share) chosen.push(BigInt(i));
  const ids = BigInt64Array.from(chosen);
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  for (const id of chosen) bitmap[Number(id >> 3n)] |= 1 << Number(id & 7n);
  return { ids, bitmap, range: { range: [0, Math.round(n * share)] } };
}

function median(v) {
  return [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
}

/** Queries per second of each form and share, and its ratio to the unfiltered batch. */
export async function filteredSearch({ n = 100_000, d = 128, rounds = 5, log = () => {} } = {}) {
  const rnd = mulberry32(21);
  const centres = Float32Array.from({ length: 1000 * d }, () => rnd() * 2 - 1);
  const base = clustered(n, d, 22, centres);
  const queries = clustered(NQ, d, 23, centres);
  const out = { n, d, nq: NQ, k: K, indexes: [] };
  for (const kind of ['Flat', 'IVF1024,SQ8']) {
    log(`filtered search: ${kind}, n=${n}, d=${d}`);
    const index = faiss.indexFactory(d, kind, faiss.METRIC_INNER_PRODUCT);
    if (kind !== 'Flat') index.trainSync(base.subarray(0, Math.min(n, 100_000) * d));
    index.addSync(base);
    const params = kind === 'Flat' ? {} : { nprobe: 16 };
    const time = (options) => {
      const t0 = process.hrtime.bigint();
      index.searchSync(queries, K, options);
      return Number(process.hrtime.bigint() - t0) / 1e9;
    };
    const rows = [];
    for (const share of SHARES) {
      const forms = filters(n, share, Math.round(share * 1000));
      for (const [form, filter] of Object.entries(forms)) {
        time({ ...params, filter }); // warm-up
        const ratios = [];
        const seconds = [];
        for (let r = 0; r < rounds; r++) {
          const plain = time(params);
          const filtered = time({ ...params, filter });
          ratios.push(plain / filtered);
          seconds.push(filtered);
        }
        rows.push({ share, form, qps: NQ / median(seconds), speedVsUnfiltered: median(ratios) });
      }
    }
    out.indexes.push({ kind, nprobe: params.nprobe ?? 0, rows });
    index.dispose();
  }
  return out;
}

/** Markdown table rows of a filteredSearch result. */
export function filteredTable(result) {
  const lines = [
    `Filtered search, batch of ${result.nq} queries, k=${result.k}, n=${result.n}, d=${result.d}: queries per second (speed against the same batch unfiltered)`,
    '',
    '| index | allowed | ids (set) | bitmap | range |',
    '|---|---|---|---|---|',
  ];
  for (const ix of result.indexes) {
    for (const share of SHARES) {
      const cell = (form) => {
        const row = ix.rows.find((r) => r.share === share && r.form === form);
        return `${Math.round(row.qps)} (${row.speedVsUnfiltered.toFixed(2)}x)`;
      };
      lines.push(`| ${ix.kind}${ix.nprobe ? ` nprobe ${ix.nprobe}` : ''} | ${share * 100}% | ${cell('ids')} | ${cell('bitmap')} | ${cell('range')} |`);
    }
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
  const result = await filteredSearch({ n: arg('n', 100_000), d: arg('d', 128), log: (m) => process.stderr.write(`${m}\n`) });
  console.log(filteredTable(result));
}

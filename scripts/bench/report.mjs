// Turns a bench results.json into a Markdown report (targets as ratios, per-index tables)
// and an SVG plot of recall@10 against single-query throughput (Vega-Lite, rendered headless).
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { filteredTable } from './filtered.mjs';
import { shardsLoadTable } from './shards-load.mjs';
import { tradeoffsTable } from './tradeoffs.mjs';
import { tuneTable } from './tune-vs-python.mjs';
const f = (x, digits = 2) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const byNprobe = (runs, nprobe) => runs.find((r) => r.nprobe === nprobe);
/** The builds compared with the Debian 12 development build in a dataset's runs (debian11, musl, windows). */
const otherBuilds = (builds) => Object.keys(builds.labels).filter((n) => n !== 'debian12');

/** The ratios the benchmarks have targets for, over every index and nprobe of a dataset. */
export function targets(results) {
  const rows = [];
  const largest = results.datasets.at(-1);
  const smallest = results.datasets[0];
  const pairs = (ds, pick) =>
    ds.indexes.flatMap((ix) => ix.runs.node.map((run) => pick(run, byNprobe(ix.runs.cpp, run.nprobe), byNprobe(ix.runs.python, run.nprobe), ix)));
  for (const ds of results.datasets) {
    const batch = pairs(ds, (n, c) => n.batch[1000].qps / c.batch[1000].qps);
    rows.push([`${ds.name}: batch nq=1000 throughput, Node / C++ (median, min)`, `${f(median(batch))}, ${f(Math.min(...batch))}`, '>= 0.97']);
    const add = ds.indexes.filter((ix) => ix.add.cppS !== undefined).map((ix) => ix.add.cppS / ix.add.nodeS);
    if (add.length) rows.push([`${ds.name}: add throughput, Node / C++ (median, min)`, `${f(median(add))}, ${f(Math.min(...add))}`, '>= 0.97']);
    const pyBatch = pairs(ds, (n, c, p) => n.batch[1000].qps / p.batch[1000].qps);
    const pySingle = pairs(ds, (n, c, p) => n.single.qps / p.single.qps);
    rows.push([`${ds.name}: throughput vs Python faiss-cpu ${results.faiss}, batch / single (medians)`, `${f(median(pyBatch))}, ${f(median(pySingle))}`, '>= 1.0']);
    if (ds.indexes[0].runs.pythonLatest) {
      const latest = (pick) => ds.indexes.flatMap((ix) => ix.runs.node.map((run) => pick(run, byNprobe(ix.runs.pythonLatest, run.nprobe))));
      const lb = latest((n, p) => n.batch[1000].qps / p.batch[1000].qps);
      const ls = latest((n, p) => n.single.qps / p.single.qps);
      rows.push([`${ds.name}: throughput vs Python faiss-cpu ${results.pythonLatest}, batch / single (medians)`, `${f(median(lb))}, ${f(median(ls))}`, 'peer']);
    }
  }
  const sync = pairs(smallest, (n, c) => n.single.p50_us - c.single.p50_us);
  const async = pairs(smallest, (n) => n.singleAsync.p50_us - n.single.p50_us);
  rows.push([`${smallest.name}: one query, sync p50 minus C++ p50 (median over runs)`, `${f(median(sync), 1)} us`, '<= 10 us']);
  rows.push([`${smallest.name}: one query, async p50 minus sync p50 (median over runs)`, `${f(median(async), 1)} us`, '<= 30 us']);
  const flat = largest.indexes.find((ix) => ix.kind === 'Flat');
  const gbps = (largest.n * largest.d * 4) / (flat.runs.node[0].single.p50_us * 1e3);
  const allThreads = Object.values(results.bandwidth).at(-1);
  rows.push([`${largest.name}: exact one-query scan speed (every thread) / all-thread streaming read (${f(allThreads)} GB/s)`, `${f(gbps)} GB/s = ${f(gbps / allThreads)}`, '>= 0.90']);
  const probed = [...results.datasets].reverse().find((ds) => ds.indexes.some((ix) => ix.rssGrowth !== undefined));
  for (const ix of probed?.indexes ?? []) rows.push([`${probed.name}: ${ix.kind} resident memory growth / index size`, f(ix.rssGrowth / ix.bytes), '< 1.10']);
  for (const ds of results.datasets) {
    const built = ds.indexes.filter((ix) => ix.builds);
    if (!built.length) continue;
    for (const other of otherBuilds(built[0].builds)) {
      const ratio = (pick) => built.flatMap((ix) => ix.builds[other].map((run, i) => pick(run) / pick(ix.builds.debian12[i])));
      for (const [what, pick] of [['one query', (r) => r.single.qps], ['batch nq=1000', (r) => r.batch[1000].qps]]) {
        const v = ratio(pick);
        rows.push([`${ds.name}: ${what} throughput, ${built[0].builds.labels[other]} / Debian 12 build, Flat and IVF-SQ8 (median, min)`,
          `${f(median(v))}, ${f(Math.min(...v))}`, other === 'debian11' ? '>= 0.97' : '>= 0.90']);
      }
    }
  }
  const lc = results.langchainShaped;
  if (lc) {
    const shape = `LangChain-shaped (d=${lc.d}, ${lc.nAdd} single adds, ${lc.nSearch} single searches k=${lc.k})`;
    rows.push([`${shape}: faiss-native/faiss-node / native API, search p50 time`, f(lc.ratios.compatOverNativeSearchP50), '<= 1.5']);
    rows.push([`${shape}: faiss-native/faiss-node / native API, add time`, f(lc.ratios.compatOverNativeAdd), 'informative']);
    if (!lc.faissNodeMissing) {
      rows.push([`${shape}: faiss-node 0.5.1 / faiss-native/faiss-node, search p50 and add time`, `${f(lc.ratios.faissNodeOverCompatSearchP50)}, ${f(lc.ratios.faissNodeOverCompatAdd)}`, 'peer']);
    }
  }
  if (results.coalescing) {
    const { clients, n, d, on, off, sync } = results.coalescing;
    rows.push([`Flat n=${n / 1000}k d=${d}: ${clients} concurrent one-query searches coalesced / the same queries by searchSync one after another, queries per second (p50 us ${f(on.p50_us, 0)} / ${f(sync.p50_us, 0)}, p99 us ${f(on.p99_us, 0)} / ${f(sync.p99_us, 0)})`,
      `${f(on.qps, 0)} / ${f(sync.qps, 0)} = ${f(on.qps / sync.qps)}`, '>= 3']);
    rows.push([`Flat n=${n / 1000}k d=${d}: ${clients} concurrent one-query searches, coalesced / one call each (p50 us ${f(on.p50_us, 0)} / ${f(off.p50_us, 0)})`,
      `${f(on.qps, 0)} / ${f(off.qps, 0)} = ${f(on.qps / off.qps)}`, 'informative']);
  }
  for (const ds of results.datasets) {
    rows.push([`${ds.name}: 4 concurrent async nq=250 / one sync nq=1000 (flat)`, f(ds.concurrency.asyncFourBatches250Ms / ds.concurrency.syncBatch1000Ms), 'about 1']);
  }
  return rows;
}

export async function renderReport(results) {
  const lines = [];
  const push = (...l) => lines.push(...l);
  push(`Benchmark (${results.mode}): FAISS ${results.faiss}, ${results.simd} variant, ${results.machine.cpus} x ${results.machine.model}, Node ${results.machine.node}; ` +
    `streaming read ${f(results.bandwidth.threads1_GBps)} GB/s (1 thread), ${f(Object.values(results.bandwidth).at(-1))} GB/s (all threads).`, '');
  push('| target | measured | goal |', '|---|---|---|');
  for (const [what, value, goal] of targets(results)) push(`| ${what} | ${value} | ${goal} |`);
  for (const ds of results.datasets) {
    push('', `### ${ds.name} (n=${ds.n}, d=${ds.d}, nlist=${ds.nlist}, ${ds.nq} queries, k=10, inner product)`, '');
    push('| index | train s | add s: Node / C++ / Python | bytes | RSS growth / bytes |', '|---|---|---|---|---|');
    for (const ix of ds.indexes) {
      push(`| ${ix.kind} | ${f(ix.trainS)}${ix.trainedKmeans === false && ix.kind !== 'Flat' ? ' (SQ only)' : ''} | ${f(ix.add.nodeS, 3)} / ${f(ix.add.cppS, 3)} / ${f(ix.add.pythonS, 3)} | ${ix.bytes} | ${f(ix.rssGrowth / ix.bytes)} |`);
    }
    const py = `Python ${results.faiss}${ds.indexes[0].runs.pythonLatest ? ` / ${results.pythonLatest}` : ''}`;
    push('', `| index | nprobe | recall@1 | recall@10 | one query p50 us: Node sync / async / C++ / ${py} | p99 us Node | batch 100 QPS: Node / C++ / ${py} | batch 1000 QPS: Node / C++ / ${py} |`,
      '|---|---|---|---|---|---|---|---|');
    for (const ix of ds.indexes) {
      for (const n of ix.runs.node) {
        const c = byNprobe(ix.runs.cpp, n.nprobe);
        const p = byNprobe(ix.runs.python, n.nprobe);
        const l = ix.runs.pythonLatest && byNprobe(ix.runs.pythonLatest, n.nprobe);
        const r = ix.recalls.find((x) => x.nprobe === n.nprobe) ?? ix.recalls[0];
        const q = (run, b) => f(run.batch[b].qps, 0);
        const also = (text) => (l ? ` / ${text}` : '');
        push(`| ${ix.kind} | ${n.nprobe || '-'} | ${f(r.r1, 3)} | ${f(r.r10, 3)} | ${f(n.single.p50_us, 1)} / ${f(n.singleAsync.p50_us, 1)} / ${f(c.single.p50_us, 1)} / ${f(p.single.p50_us, 1)}${also(l && f(l.single.p50_us, 1))} | ${f(n.single.p99_us, 1)} | ` +
          `${q(n, 100)} / ${q(c, 100)} / ${q(p, 100)}${also(l && q(l, 100))} | ${q(n, 1000)} / ${q(c, 1000)} / ${q(p, 1000)}${also(l && q(l, 1000))} |`);
      }
    }
  }
  for (const ds of results.datasets) {
    const built = ds.indexes.filter((ix) => ix.builds);
    if (!built.length) continue;
    for (const other of otherBuilds(built[0].builds)) {
      const label = built[0].builds.labels[other];
      push('', `### ${ds.name}: ${label} / Debian 12 build (medians of ${built[0].builds.rounds} rotating runs each)`, '');
      push(`| index | nprobe | one query QPS: Debian 12 / ${label} / ratio | batch 100 QPS: Debian 12 / ${label} / ratio | batch 1000 QPS: Debian 12 / ${label} / ratio |`, '|---|---|---|---|---|');
      for (const ix of built) {
        ix.builds.debian12.forEach((a, i) => {
          const b = ix.builds[other][i];
          const cell = (x, y) => `${f(x, 0)} / ${f(y, 0)} / ${f(y / x)}`;
          push(`| ${ix.kind} | ${a.nprobe || '-'} | ${cell(a.single.qps, b.single.qps)} | ${cell(a.batch[100].qps, b.batch[100].qps)} | ${cell(a.batch[1000].qps, b.batch[1000].qps)} |`);
        });
      }
    }
  }
  if (results.filtered) push('', '### Filtered search', '', filteredTable(results.filtered));
  if (results.tradeoffs) push('', '### Each index family: memory, build, recall, throughput', '', tradeoffsTable(results.tradeoffs));
  if (results.tradeoffs1m) push('', tradeoffsTable(results.tradeoffs1m));
  if (results.shardsLoad) push('', '### Scatter-gather over HTTP: 3 shard servers and a router against one index', '', shardsLoadTable(results.shardsLoad));
  if (results.tune) push('', '### tune() and ParameterSpace.explore', '', tuneTable(results.tune));
  if (results.langchainShaped) renderLangchainShaped(results.langchainShaped, push);
  if (results.pythonPeers) push('', '### Against Python, workload by workload', '', results.pythonPeers.markdown);
  return { markdown: lines.join('\n') + '\n', svg: await renderPlot(results.datasets.at(-1)) };
}

const IMPL_NAMES = { compat: 'faiss-native/faiss-node (number[])', native: 'faiss-native API (Float32Array, sync)', 'faiss-node': 'faiss-node 0.5.1 (Debian FAISS 1.7.3)' };

function renderLangchainShaped(lc, push) {
  push('', `### LangChain-shaped: IndexFlatL2, d=${lc.d}, ${lc.nAdd} add calls of one vector, then ${lc.nSearch} searches of one question, k=${lc.k} (medians of ${lc.rounds} alternating runs)`, '');
  push('| implementation | add s (us per call) | search p50 us | search p99 us | searches per second | same labels as native |', '|---|---|---|---|---|---|');
  for (const [impl, r] of Object.entries(lc.impls)) {
    push(`| ${IMPL_NAMES[impl]} | ${f(r.addS, 3)} (${f(r.addUsPerCall, 1)}) | ${f(r.searchP50Us, 0)} | ${f(r.searchP99Us, 0)} | ${f(r.searchQps, 0)} | ${r.labelsAgree ? 'yes' : 'NO'} |`);
  }
  if (lc.faissNodeMissing) push('', `faiss-node 0.5.1 not compared: ${lc.faissNodeMissing}`);
}

/** recall@10 (x) against one-query throughput (y, log) for each index; Node solid, C++ dashed, Python dotted. */
/** Recall@10 against one-query throughput for every index and side, through Vega-Lite. */
async function renderPlot(ds) {
  const values = ds.indexes.flatMap((ix) =>
    [['node', 'Node'], ['cpp', 'C++'], ['python', 'Python']].flatMap(([side, label]) =>
      ix.runs[side].map((run) => ({
        index: ix.kind,
        side: label,
        recall: (ix.recalls.find((r) => r.nprobe === run.nprobe) ?? ix.recalls[0]).r10,
        qps: run.single.qps,
        nprobe: run.nprobe,
      })),
    ),
  );
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${ds.name}: recall@10 vs one-query throughput`,
    width: 560,
    height: 360,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'recall', type: 'quantitative', scale: { zero: false }, title: 'recall@10 against exact search' },
      y: { field: 'qps', type: 'quantitative', scale: { type: 'log' }, title: 'queries per second, one at a time' },
      color: { field: 'index', type: 'nominal' },
      strokeDash: { field: 'side', type: 'nominal', title: 'Node solid, C++ and Python dashed' },
      order: { field: 'nprobe' },
    },
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  return `${await view.toSVG()}\n`;
}

#!/usr/bin/env node
// `npm run parity`: prints the table of results/parity.json, which test/parity/parity.spec.ts
// writes (the npm script runs the spec first).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const rows = JSON.parse(fs.readFileSync(path.join(root, 'results', 'parity.json'), 'utf8'));
const fmt = (x, digits) => (x === undefined ? '' : x.toFixed(digits));
console.log('| index | direction | nprobe | nq | labels identical | label diffs (ties) | max distance diff (relative) | recall@10 node | recall@10 python | centroid max diff |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.index} | ${r.direction} | ${r.nprobe || '-'} | ${r.nq} | ${r.labelsIdentical ? 'yes' : 'no'} | ${r.labelMismatches} | ` +
      `${r.maxDistanceDiff.toExponential(1)} | ${fmt(r.recallNode, 4)} | ${fmt(r.recallPython, 4)} | ${r.centroidMaxDiff === undefined ? '' : r.centroidMaxDiff.toExponential(1)} |`,
  );
}
const identical = rows.filter((r) => r.labelsIdentical).length;
console.log(`\n${rows.length} comparisons, labels identical in ${identical}; every difference is between equal scores (checked by the spec).`);

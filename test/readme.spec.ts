// The README's Python-to-TypeScript table cannot drift: every TypeScript name in it exists.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import * as faiss from '../lib';

it('every TypeScript name in the README table is exported or is a method of an index', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const table = readme.split('### Python to TypeScript')[1].split('\n### ')[0];
  const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Python') && !l.startsWith('|---'));
  expect(rows.length).toBeGreaterThan(25);
  const exported = new Set(Object.keys(faiss));
  const members = new Set<string>();
  for (const cls of [faiss.Index, faiss.IndexIVFScalarQuantizer, faiss.IndexIVFPQ, faiss.IndexHNSWFlat, faiss.IndexIDMap, faiss.IndexRefine, faiss.IndexRaBitQ]) {
    for (let p = cls.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      Object.getOwnPropertyNames(p).forEach((n) => members.add(n));
    }
  }
  members.add('d'); // an own property of every index
  const checked: string[] = [];
  for (const row of rows) {
    const ts = row.split(' | ')[1];
    for (const [, code] of ts.matchAll(/`([^`]+)`/g)) {
      for (const [, name] of code.matchAll(/\bindex\.(\w+)/g)) {
        expect(members, `index.${name} in: ${row}`).toContain(name);
        checked.push(name);
      }
      const top = [...code.matchAll(/\bnew (\w+)/g), ...code.matchAll(/(?<![.\w])([a-z]\w*)\(/g), ...code.matchAll(/\b([A-Z][A-Za-z_]*(?:_[A-Z0-9]+)+|faissVersion|ScalarQuantizer)\b/g)];
      for (const [, name] of top) {
        expect(exported, `${name} in: ${row}`).toContain(name);
        checked.push(name);
      }
      for (const [, qt] of code.matchAll(/ScalarQuantizer\.(QT_\w+)/g)) expect(faiss.ScalarQuantizer).toHaveProperty(qt);
    }
  }
  expect(checked.length).toBeGreaterThan(40);
});

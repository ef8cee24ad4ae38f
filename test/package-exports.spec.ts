// The package as a consumer sees it, through its `exports` map: imported from ESM and
// required from CommonJS (both entries), and its declarations compiled by a consumer project
// under moduleResolution node16, bundler and node10, with a `lib` that lacks esnext.disposable.
// dist/ (and its ESM entries) is compiled by global setup from the current lib/.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const consumer = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-consumer-'));
fs.mkdirSync(path.join(consumer, 'node_modules', '@types'), { recursive: true });
fs.symlinkSync(root, path.join(consumer, 'node_modules', 'faiss-native'));
fs.symlinkSync(path.join(root, 'node_modules', '@types', 'node'), path.join(consumer, 'node_modules', '@types', 'node'));
afterAll(() => fs.rmSync(consumer, { recursive: true, force: true }));

function run(file: string, source: string): string {
  fs.writeFileSync(path.join(consumer, file), source);
  const r = spawnSync(process.execPath, [path.join(consumer, file)], { encoding: 'utf8', cwd: consumer });
  expect(r.stderr).toBe('');
  return r.stdout.trim();
}

// What each form prints: a search on a two-vector index, and the compat entry's class.
const BODY = `
const index = new IndexFlatIP(2);
index.addSync(new Float32Array([1, 0, 0, 1]));
const { labels } = index.searchSync(new Float32Array([0, 1]), 1);
console.log(JSON.stringify([typeof faissVersion, String(labels[0]), typeof Compat.IndexFlatL2, index instanceof Index]));`;
const WANT = JSON.stringify(['string', '1', 'function', true]);

describe('package exports', () => {
  it('import (real ESM named exports) and require give the same API', () => {
    const esm = run('esm.mjs', `import { Index, IndexFlatIP, faissVersion } from 'faiss-native';\nimport * as Compat from 'faiss-native/faiss-node';\n${BODY}`);
    const cjs = run('cjs.cjs', `const { Index, IndexFlatIP, faissVersion } = require('faiss-native');\nconst Compat = require('faiss-native/faiss-node');\n${BODY}`);
    expect(esm).toBe(WANT);
    expect(cjs).toBe(WANT);
    expect(run('pkg.cjs', `console.log(require('faiss-native/package.json').name)`)).toBe('faiss-native');
    // The default import is the whole module, as Node's CommonJS interop gave it before.
    expect(run('default.mjs', `import faiss from 'faiss-native';\nimport { IndexFlatIP } from 'faiss-native';\nconsole.log(faiss.IndexFlatIP === IndexFlatIP, typeof faiss.readIndex);`)).toBe('true function');
    // One addon and one class set: the ESM entry re-exports the CommonJS module's objects.
    expect(run('same.mjs', `import { createRequire } from 'node:module';\nimport { IndexFlatIP } from 'faiss-native';\nconsole.log(createRequire(import.meta.url)('faiss-native').IndexFlatIP === IndexFlatIP);`)).toBe('true');
    // The LangChain store, both ways (it needs @langchain/core, found from the package's own folder here).
    expect(run('langchain.mjs', `import { createRequire } from 'node:module';\nimport { FaissStore } from 'faiss-native/langchain';\nconsole.log(typeof FaissStore, createRequire(import.meta.url)('faiss-native/langchain').FaissStore === FaissStore);`)).toBe('function true');
  });

  // node10 (TypeScript's `node`) ignores the exports map: `types` and typesVersions serve it, and
  // it sees the CommonJS declarations, which have no default export.
  for (const [resolution, module] of [['node16', 'node16'], ['bundler', 'esnext'], ['node10', 'commonjs']] as const) {
    it(`a consumer project compiles against the declarations (moduleResolution ${resolution}, lib without esnext.disposable)`, () => {
      const dir = path.join(consumer, resolution);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      fs.writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { module, moduleResolution: resolution, target: 'ES2022', lib: ['ES2022'], types: ['node'], strict: true, noEmit: true, skipLibCheck: false }, files: ['use.ts'] }),
      );
      fs.writeFileSync(
        path.join(dir, 'use.ts'),
        `${resolution === 'node10' ? "import * as faiss from 'faiss-native';\nimport" : 'import faiss,'} { IndexFlatIP, IndexHNSWFlat, tune, type SearchResult, type IdFilterLike, IdFilter } from 'faiss-native';
import { IndexFlatL2 } from 'faiss-native/faiss-node';
import { FaissStore, type MetadataFilter } from 'faiss-native/langchain';
export const where: MetadataFilter = { tag: { $in: ['a', 'b'] }, $or: [{ year: { $gte: 2020 } }] };
export const Store: typeof FaissStore = FaissStore;
const index = new IndexFlatIP(4);
const filter: IdFilterLike = { range: [0, 10] };
const result: SearchResult = index.searchSync(new Float32Array(4), 1, { filter });
export const prepared: IdFilter = new IdFilter(BigInt64Array.of(1n, 2n));
index.searchSync(new Float32Array(4), 1, { filter: prepared });
export const n: number = result.nq + new IndexFlatL2(4).ntotal() + new IndexHNSWFlat(4).efSearch;
export const t: typeof tune = tune;
export const same: boolean = faiss.IndexFlatIP === IndexFlatIP;
index[Symbol.dispose]();
`,
      );
      const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', dir], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }
});

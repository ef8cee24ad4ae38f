// TypeScript written for faiss-node 0.5.1 compiles unchanged against faiss-native/faiss-node
// (bar the module name), and LangChain's setup line type-checks: test/types/ compiled by tsc.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('type declarations', () => {
  it('code written for faiss-node, and the LangChain setup line, compile under strict TypeScript', () => {
    const tsc = require.resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

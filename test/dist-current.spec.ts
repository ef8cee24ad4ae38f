// Child processes and worker fixtures load dist/: global setup compiles it from lib/ before
// the specs run. This proves they load code compiled from the sources as they are now.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import * as lib from '../lib';
import { libHash } from './global-setup';

it('dist/ was compiled from the current lib/, and child processes load it', () => {
  const dist = path.join(__dirname, '..', 'dist');
  // A child process reports the source hash beside the dist it loads, and that dist's exports.
  const script = `const p = require.resolve(${JSON.stringify(dist)});
    const m = require(p);
    const hash = require('fs').readFileSync(require('path').join(require('path').dirname(p), 'lib-hash.txt'), 'utf8').trim();
    console.log(JSON.stringify({ hash, exports: Object.keys(m).sort() }));`;
  const child = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
  expect(child.hash).toBe(libHash());
  expect(child.exports).toEqual(Object.keys(lib).sort());
});

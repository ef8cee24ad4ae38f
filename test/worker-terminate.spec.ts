// Worker threads terminated while their async jobs run: the process must survive, the
// completions that arrive after the worker's environment is gone are dropped quietly.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

it('terminating 50 workers at random moments during searches, adds and training never aborts the process', () => {
  // In a child process, so that an abort shows as an exit code instead of killing the runner.
  const r = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'terminate-workers.cjs'), '50'], { encoding: 'utf8' });
  expect(r.stderr).not.toMatch(/terminate called|Aborted|FATAL/);
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.rounds).toBe(50);
  expect(Math.abs(out.found - out.best)).toBeLessThanOrEqual(1e-4 * out.best);
}, 120_000);

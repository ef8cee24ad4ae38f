// Worker threads terminated while their async jobs run: the process must survive, the
// completions that arrive after the worker's environment is gone are dropped quietly.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

function run(script: string, arg: string) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [path.join(__dirname, 'fixtures', script), arg], (error, stdout, stderr) =>
      resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

it('terminating 50 workers at random moments during searches, adds and training never aborts the process', async () => {
  // In a child process, so that an abort shows as an exit code instead of killing the runner.
  const r = await run('terminate-workers.cjs', '50');
  expect(r.stderr).not.toMatch(/terminate called|Aborted|FATAL/);
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.rounds).toBe(50);
  expect(Math.abs(out.found - out.best)).toBeLessThanOrEqual(1e-4 * out.best);
}, 120_000);

it('a process exiting with searches, adds and training in flight exits cleanly, 20 times at different moments', async () => {
  for (let i = 0; i < 20; i++) {
    const r = await run('exit-with-jobs.cjs', String(i * 3)); // 0 to 57 ms after starting them
    expect(r.stderr, `exit after ${i * 3} ms`).not.toMatch(/terminate called|Aborted|FATAL|Segmentation/);
    expect(r.status, `exit after ${i * 3} ms`).toBe(0);
  }
}, 120_000);

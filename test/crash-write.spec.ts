// writeIndex never leaves a half-written index at the target: a child writing over a good
// file is killed at random moments, and the target is always the old or the new index.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { IndexFlatIP, readIndexSync } from '../lib';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-crash-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function killWhileWriting(target: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'keep-writing.cjs'), target, '20000']);
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), delayMs));
    child.once('exit', () => resolve());
    child.once('error', reject);
  });
}

// 25 kills in `npm test`; CRASH_WRITE_KILLS=500 for a longer run.
const KILLS = Number(process.env.CRASH_WRITE_KILLS ?? 25);

it(`the target is always the old or the new complete index, over ${KILLS} kills`, async () => {
  const target = path.join(dir, 'index.faissindex');
  const old = new IndexFlatIP(64);
  old.addSync(new Float32Array(64 * 10).fill(0.25));
  old.writeSync(target);
  const oldBytes = fs.readFileSync(target);
  let sawNew = false;
  let sawOld = 0;
  for (let i = 0; i < KILLS; i++) {
    old.writeSync(target); // each round starts from the good old file
    await killWhileWriting(target, (i * 7) % 40);
    const bytes = fs.readFileSync(target);
    if (Buffer.compare(bytes, oldBytes) !== 0) {
      // Not the old one: then the complete new one (20,000 vectors).
      expect(readIndexSync(target).ntotal).toBe(20000);
      sawNew = true;
    } else sawOld++;
  }
  expect(sawNew).toBe(true);
  console.log(`crash-write: ${KILLS} kills, target old ${sawOld} times, new ${KILLS - sawOld} times, never torn`);
  expect(sawOld).toBeGreaterThan(0);
  // Killed writers leave temp files; the next write removes them.
  old.writeSync(target);
  expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
});

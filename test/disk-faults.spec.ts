// Writing an index where the disk refuses: a full file system and a read-only one. The write
// fails with a clear error, the previous file stays intact and no temp file is left behind.
// Needs root (it mounts a small tmpfs); elsewhere the specs are skipped with the reason printed.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaissError, IndexFlatIP, writeIndex, writeIndexSync } from '../lib';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-disk-'));
const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]).status === 0;
if (!mounted) console.log(`disk-faults: skipped: mounting a tmpfs needs root (uid ${process.getuid?.()})`);

const small = new IndexFlatIP(16);
small.addSync(new Float32Array(16 * 100).fill(0.5)); // 6.4 KB of codes
const large = new IndexFlatIP(16);
large.addSync(new Float32Array(16 * 10_000).fill(0.25)); // 640 KB: more than the tmpfs holds

describe.skipIf(!mounted)('writing to a file system that refuses', () => {
  const target = path.join(dir, 'index.faiss');
  let before: Buffer;
  beforeAll(() => {
    writeIndexSync(small, target);
    before = fs.readFileSync(target);
  });
  afterAll(() => {
    spawnSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a full disk: FaissError naming the file and the cause; the old index intact, no temp file left', async () => {
    await expect(writeIndex(large, target)).rejects.toThrow(FaissError);
    await expect(writeIndex(large, target)).rejects.toThrow(/index\.faiss.*No space left on device/);
    expect(fs.readFileSync(target).equals(before)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['index.faiss']);
    expect(() => writeIndexSync(large, target)).toThrow(/No space left on device/);
    expect(fs.readdirSync(dir)).toEqual(['index.faiss']);
  });

  it('a read-only file system: FaissError naming the cause; the old index intact', async () => {
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    try {
      await expect(writeIndex(small, target)).rejects.toThrow(/Read-only file system/);
      expect(fs.readFileSync(target).equals(before)).toBe(true);
      expect(fs.readdirSync(dir)).toEqual(['index.faiss']);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', dir]);
    }
  });
});

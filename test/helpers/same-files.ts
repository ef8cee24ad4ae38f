// Byte-for-byte comparisons of files Node and Python wrote, recorded as rows of a results file.
import fs from 'node:fs';
import { expect } from 'vitest';

/** Expects each [what, ours, theirs] pair of files to hold the same bytes; a row per pair. */
export function expectSameFiles(rows: Record<string, unknown>[], pairs: [what: string, ours: string, theirs: string][]): void {
  for (const [what, ours, theirs] of pairs) {
    const identical = fs.readFileSync(ours).equals(fs.readFileSync(theirs));
    rows.push({ check: `${what}, Node vs Python`, identical, bytes: fs.statSync(ours).size });
    expect(identical, what).toBe(true);
  }
}

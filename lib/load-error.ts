// Explains an addon the dynamic loader refused (too old a glibc, a missing library, musl): kept
// apart from the loader (native.ts) so that scripts can read PREBUILT_GLIBC without loading FAISS.
import fs from 'node:fs';
import path from 'node:path';

/** This process's platform as the prebuilds/ folders name it ("linux-x64"). */
export const platform = `${process.platform}-${process.arch}`;

/**
 * The oldest glibc the prebuilt binaries load on: their newest required GLIBC_ symbol version
 * (scripts/release/glibc-floor.mjs lowers it; `npm run smoke:pack` checks every file against it).
 */
export const PREBUILT_GLIBC = '2.28';

/** The glibc this process runs on ("2.31"), or undefined on musl and other C libraries. */
export function glibcRuntime(): string | undefined {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime;
}

/** Newest GLIBC_x.y symbol version that the ELF files in a folder ask for ("2.28"), if any. */
export function glibcNeeded(dir: string): string | undefined {
  let newest: number[] | undefined;
  for (const name of fs.readdirSync(dir)) {
    if (!/\.(node|so)(\.|$)/.test(name)) continue;
    for (const m of fs.readFileSync(path.join(dir, name)).toString('latin1').matchAll(/GLIBC_(\d+)\.(\d+)/g)) {
      const v = [Number(m[1]), Number(m[2])];
      if (!newest || v[0] > newest[0] || (v[0] === newest[0] && v[1] > newest[1])) newest = v;
    }
  }
  return newest?.join('.');
}

/**
 * One error for an addon the dynamic loader refused (too old a glibc, a missing library, musl):
 * what this system is, what the binaries need, and how to build from source instead.
 */
export function loadError(file: string, cause: unknown): Error {
  const reason = String((cause as Error)?.message ?? cause).split('\n')[0];
  const glibc = glibcRuntime();
  // A prebuild's floor is known; a local build needs what its build machine's glibc gave it.
  const prebuilt = path.basename(path.dirname(path.dirname(file))) === 'prebuilds';
  const needed = prebuilt ? PREBUILT_GLIBC : glibcNeeded(path.dirname(file));
  const err = new Error(
    `faiss-native: cannot load its native addon on ${platform} ` +
      `(${glibc ? `glibc ${glibc}` : 'no glibc found: musl or another C library'}).\n` +
      `  The loader said: ${reason}\n` +
      `  ${file} needs ${needed ? `glibc ${needed} or newer` : 'glibc'}; the prebuilt binaries cover glibc Linux on x64 and arm64.\n` +
      '  To build from source here: npm rebuild faiss-native --build-from-source ' +
      '(needs g++, cmake and OpenBLAS; see "Platforms" in the README).',
    { cause },
  );
  (err as Error & { code: string }).code = 'ERR_FAISS_NATIVE_LOAD';
  return err;
}

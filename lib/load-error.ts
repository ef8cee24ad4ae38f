// The platform this process runs on, the platforms binaries are published for, and the errors
// that explain an addon the dynamic loader refused (too old a glibc, a missing library) or one
// that is not there: kept apart from the loader (native.ts) so that scripts can read them
// without loading FAISS.
import fs from 'node:fs';
import path from 'node:path';

/** This process's platform as the prebuilds/ folders and binary packages name it ("linux-x64", "linux-x64-musl"). */
export const platform = `${process.platform}-${process.arch}${process.platform === 'linux' && !glibcRuntime() ? '-musl' : ''}`;

/**
 * The platforms with prebuilt binaries, each published as the package `@faiss-native/<platform>`,
 * an optional dependency of faiss-native that npm installs only where its os, cpu and libc match.
 */
export const PREBUILT_PLATFORMS = ['linux-x64', 'linux-arm64', 'linux-x64-musl', 'linux-arm64-musl', 'win32-x64'] as const;

/** The npm package holding a platform's prebuilt binaries. */
export const binaryPackage = (p: string): string => `@faiss-native/${p}`;

/**
 * The folder of this platform's binary package when npm installed it beside the package at
 * `packageRoot`. Its version must be that package's: the two are published together, and an
 * addon of another release may not fit.
 */
function binaryPackageDir(packageRoot: string): string | undefined {
  let manifest: string;
  try {
    manifest = require.resolve(`${binaryPackage(platform)}/package.json`, { paths: [packageRoot] });
  } catch {
    return undefined;
  }
  const ours = (JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const theirs = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
  if (theirs !== ours) {
    throw new Error(`faiss-native ${ours} found ${binaryPackage(platform)} ${theirs}; they are released together and must have ` +
      `the same version: npm install faiss-native@${ours} ${binaryPackage(platform)}@${ours}`);
  }
  return path.dirname(manifest);
}

/**
 * Where prebuilt binaries for this platform may be, in order: the binary package npm installed,
 * then prebuilds/<platform> (a checkout after `npm run prebuild`). Used by the loader and by the
 * install script, which checks that one loads.
 */
export function prebuiltDirs(packageRoot: string): string[] {
  const dirs = [binaryPackageDir(packageRoot), path.join(packageRoot, 'prebuilds', platform)];
  return dirs.filter((d): d is string => d !== undefined);
}

/**
 * The oldest glibc the prebuilt binaries load on: their newest required GLIBC_ symbol version
 * (scripts/release/glibc-floor.mjs lowers it; `npm run smoke:pack` checks every file against it).
 */
export const PREBUILT_GLIBC = '2.28';

// How to let a package manager run faiss-native's install script (a build from source needs it).
const BUILD_FROM_SOURCE =
  '  To build from source instead (Linux x64 and arm64; needs g++, cmake and OpenBLAS; see "Platforms" in the README):\n' +
  '    npm rebuild faiss-native --build-from-source\n' +
  '  npm 11 runs no dependency install script until approved: npm install-scripts approve faiss-native, then the rebuild;\n' +
  '  pnpm: pnpm approve-builds; Bun: "trustedDependencies": ["faiss-native"] in package.json, then bun install.';

/**
 * The oldest musl the musl binaries load on. Their runtimes (the faiss-cpu musllinux wheel's
 * libstdc++, libgomp, OpenBLAS) use RELR relocations, which musl applies from 1.2.4 on; an older
 * musl loads them unrelocated and the process dies, so the loader refuses first.
 */
export const PREBUILT_MUSL = '1.2.4';

/** The version a musl dynamic loader carries ("1.2.5"), or undefined when it is not readable. */
export function muslVersion(loader = `/lib/ld-musl-${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}.so.1`): string | undefined {
  try {
    // The version is a string of its own in the loader's data, printed by `ldd --version`.
    return /\0(\d+\.\d+\.\d+)\0/.exec(fs.readFileSync(loader).toString('latin1'))?.[1];
  } catch {
    return undefined;
  }
}

const older = (a: string, b: string) => {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  const i = x.findIndex((n, j) => n !== y[j]);
  return i >= 0 && x[i] < y[i];
};

/** The error for prebuilt musl binaries on a musl older than PREBUILT_MUSL, if this is one. */
export function muslTooOld(file: string, found = muslVersion(), where = platform): Error | undefined {
  if (!where.endsWith('-musl') || found === undefined || !older(found, PREBUILT_MUSL)) return undefined;
  const err = new Error(
    `faiss-native: cannot load its native addon on ${where} (musl ${found}).\n` +
      `  ${file} and the runtimes beside it need musl ${PREBUILT_MUSL} or newer (Alpine 3.18+), as faiss-cpu's musllinux wheels do.\n` +
      BUILD_FROM_SOURCE,
  );
  (err as Error & { code: string }).code = 'ERR_FAISS_NATIVE_LOAD';
  return err;
}

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
export function loadError(file: string, cause: unknown, where: string = platform): Error {
  const reason = String((cause as Error)?.message ?? cause).split('\n')[0];
  let system: string, needs: string;
  if (where.startsWith('win32-')) {
    [system, needs] = ['Windows', 'the DLL beside it (libscipy_openblas.dll), and runs in a 64-bit node.exe'];
  } else {
    const glibc = glibcRuntime();
    // A prebuild's floor is known; a local build needs what its build machine's glibc gave it.
    const parent = path.basename(path.dirname(path.dirname(file)));
    const prebuilt = parent === 'prebuilds' || parent === path.dirname(binaryPackage(where));
    const needed = prebuilt ? PREBUILT_GLIBC : glibcNeeded(path.dirname(file));
    system = glibc ? `glibc ${glibc}` : 'no glibc found: musl or another C library';
    needs = needed ? `glibc ${needed} or newer` : 'glibc';
  }
  const err = new Error(
    `faiss-native: cannot load its native addon on ${where} (${system}).\n` +
      `  The loader said: ${reason}\n` +
      `  ${file} needs ${needs}; the prebuilt binaries cover ${PREBUILT_PLATFORMS.join(', ')}.\n` +
      BUILD_FROM_SOURCE,
    { cause },
  );
  (err as Error & { code: string }).code = 'ERR_FAISS_NATIVE_LOAD';
  return err;
}

/**
 * The error for a platform with no addon found: on macOS, that none is built (and what to do);
 * where binaries are published, why npm may have left the platform's package out; elsewhere,
 * which platforms have binaries. Each ends with how to build from source.
 */
export function noAddonError(looked: string[], where: string = platform): Error {
  const lines = [`faiss-native: no compiled addon for ${where}.`];
  if (where.startsWith('darwin-')) {
    lines.push(
      '  No macOS binaries are published: none can be built or run where faiss-native is built and tested, and',
      '  the source build supports Linux only. On a Mac, run it in a Linux container (Docker Desktop\'s',
      '  linux/arm64 and linux/amd64 images use the Linux binaries), or use Python\'s faiss-cpu.',
    );
  } else if ((PREBUILT_PLATFORMS as readonly string[]).includes(where)) {
    lines.push(
      `  Its binaries are the package ${binaryPackage(where)}, an optional dependency that npm installs where os, cpu`,
      '  and libc match. It is missing when optional dependencies were omitted (--omit=optional, --no-optional), when',
      '  node_modules or the lockfile was made on another platform (install again here), or when the install asked',
      `  for another platform (npm's --os/--cpu/--libc). Reinstall: npm install faiss-native ${binaryPackage(where)}`,
      BUILD_FROM_SOURCE,
    );
  } else {
    lines.push(`  Prebuilt binaries exist for ${PREBUILT_PLATFORMS.join(', ')}.`, BUILD_FROM_SOURCE);
  }
  lines.push(`  Looked for: ${looked.join(', ')}`);
  const err = new Error(lines.join('\n'));
  (err as Error & { code: string }).code = 'ERR_FAISS_NATIVE_LOAD';
  return err;
}

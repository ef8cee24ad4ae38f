#!/usr/bin/env node
// `npm run release:pack -- DIR`: writes every tarball a release publishes into DIR, as sharp and
// esbuild publish: a small main package (faiss-native: JavaScript, types, the C++ sources for a
// build from source) and one binary package per platform (@faiss-native/<platform>: the .node
// variants and the runtime libraries beside them), which the main package lists in
// optionalDependencies. npm installs only the binary package whose os, cpu and libc match the
// machine, so each user downloads the main package and one platform's binaries.
//
// Versions are kept in step here: every binary package gets the main package's version, and the
// main package pins each at exactly that version; the loader (lib/native.ts) refuses a binary
// package of another version. The repository's package.json has no optionalDependencies (they
// would name packages a checkout cannot install); they are added to the packed copy only.
//
//   node scripts/release/release-pack.mjs DIR      (prebuilds/<platform> for every platform: `npm run prebuild`)
// Prints one JSON line per tarball: { name, file, size, unpackedSize, platform }.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { PREBUILT_PLATFORMS, binaryPackage } = createRequire(import.meta.url)(path.join(root, 'dist', 'load-error.js'));
/** What one user may download: the main package and one binary package, packed (the faiss-cpu wheel's size). */
export const MAX_DOWNLOAD_BYTES = 31e6;
const log = (msg) => process.stderr.write(`release-pack: ${msg}\n`);

/** os, cpu and libc of a platform name ("linux-x64-musl"), as package.json states them. */
export function platformFields(platform) {
  const [osName, cpu, libc] = platform.split('-');
  return { os: [osName], cpu: [cpu], ...(osName === 'linux' ? { libc: [libc ?? 'glibc'] } : {}) };
}

/** Runs `npm pack` in a folder (no lifecycle scripts: the staged copy is complete) into `dest`. */
function npmPack(dir, dest) {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest],
    { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  return { name: packed.name, file: path.join(dest, packed.filename), size: packed.size, unpackedSize: packed.unpackedSize };
}

/** Packs every release tarball into `dest`; returns their descriptions (main first). */
export function releasePack(dest) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  for (const platform of PREBUILT_PLATFORMS) {
    if (!fs.existsSync(path.join(root, 'prebuilds', platform))) throw new Error(`no prebuilds/${platform}; run \`npm run prebuild\` first`);
  }
  fs.mkdirSync(dest, { recursive: true });
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-release-'));
  try {
    // The main package: the files `npm pack` would take from the checkout, package.json amended.
    const mainDir = path.join(stage, 'main');
    const [listed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }));
    for (const { path: file } of listed.files) {
      fs.mkdirSync(path.dirname(path.join(mainDir, file)), { recursive: true });
      fs.copyFileSync(path.join(root, file), path.join(mainDir, file));
    }
    const optionalDependencies = Object.fromEntries(PREBUILT_PLATFORMS.map((p) => [binaryPackage(p), pkg.version]));
    fs.writeFileSync(path.join(mainDir, 'package.json'), JSON.stringify({ ...pkg, optionalDependencies }, null, 2) + '\n');
    const packed = [{ ...npmPack(mainDir, dest), platform: null }];

    for (const platform of PREBUILT_PLATFORMS) {
      const dir = path.join(stage, platform);
      fs.cpSync(path.join(root, 'prebuilds', platform), dir, { recursive: true });
      fs.copyFileSync(path.join(root, 'LICENSE'), path.join(dir, 'LICENSE'));
      const name = binaryPackage(platform);
      fs.writeFileSync(path.join(dir, 'README.md'),
        `# ${name}\n\nThe prebuilt ${platform} binaries of [faiss-native](https://www.npmjs.com/package/faiss-native) ${pkg.version}: ` +
        'FAISS compiled into Node-API addons (one per SIMD level the platform has) and the runtime libraries they load. ' +
        'Install `faiss-native`, not this package: npm adds it where os, cpu and libc match.\n');
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
        name,
        version: pkg.version,
        description: `faiss-native's prebuilt binaries for ${platform}`,
        license: pkg.license,
        repository: pkg.repository,
        homepage: pkg.homepage,
        ...platformFields(platform),
        // Yarn's Plug'n'Play cannot load .node files from a zip archive.
        preferUnplugged: true,
      }, null, 2) + '\n');
      packed.push({ ...npmPack(dir, dest), platform });
    }
    return packed;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    const dest = process.argv[2];
    if (!dest) throw new Error('usage: npm run release:pack -- DIR');
    const packed = releasePack(path.resolve(dest));
    const main = packed[0];
    for (const p of packed) {
      log(`${path.basename(p.file)}: ${(p.size / 1e6).toFixed(1)} MB packed, ${(p.unpackedSize / 1e6).toFixed(1)} MB unpacked` +
        (p.platform ? `; a ${p.platform} user downloads ${((main.size + p.size) / 1e6).toFixed(1)} MB` : ''));
      process.stdout.write(JSON.stringify(p) + '\n');
    }
    const worst = Math.max(...packed.slice(1).map((p) => main.size + p.size));
    if (worst > MAX_DOWNLOAD_BYTES) throw new Error(`a user downloads up to ${(worst / 1e6).toFixed(1)} MB, over ${MAX_DOWNLOAD_BYTES / 1e6} MB`);
  } catch (err) {
    log(`error: ${err.message}`);
    process.exit(1);
  }
}

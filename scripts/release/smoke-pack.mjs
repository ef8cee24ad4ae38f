#!/usr/bin/env node
// `npm run smoke:pack`: proves the npm tarball installs and searches where Node backends run.
//   1. Packs the package (prebuilds for linux-x64 and linux-arm64 must exist: `npm run prebuild`)
//      and checks its size against the faiss-cpu wheel.
//   2. Reads every ELF file of the tarball with objdump: each library it needs is glibc's or
//      ships beside it, and no GLIBC_ version it requires is newer than PREBUILT_GLIBC (2.28).
//   3. Installs the tarball on this machine with a PATH holding only node, npm and sh (no
//      compiler, cmake, make or cargo), searches under every SIMD variant and runs
//      test/platform/installed.test.cjs; then checks that `npm rebuild --build-from-source`
//      there names the missing packages and stops.
//   4. In the Debian 11 root (glibc 2.31): installs the tarball with the official Node 18, 20, 22,
//      24 and 26 binaries (offline, from a prepared npm cache) and runs the platform test with each;
//      then loads a Debian 12 build there to check the loader's error for too old a glibc.
//   5. Runs the platform test with the official arm64 Node binaries under qemu-user
//      (qemu-aarch64-static -L <root>), on the arm64 prebuild.
//
//   node scripts/release/smoke-pack.mjs [--arch x64,arm64] [--node 18,20,22] [--no-root]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GLIBC_LIBS, neededLibs } from '../install/bundle-runtime.mjs';
import { ensureHostTool, ensureRoot, inRoot, nodeFolder, NODE_VERSIONS } from './debian-root.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WHEEL_BYTES = 31e6; // faiss-cpu 1.12.0 manylinux x86-64 wheel, the size to stay under
// The floor the loader's error message states (lib/native.ts); the official Node 18+ binaries need 2.28.
const { PREBUILT_GLIBC } = createRequire(import.meta.url)(path.join(root, 'dist', 'load-error.js'));
const MAX_GLIBC = PREBUILT_GLIBC.split('.').map(Number);
const MB = (b) => `${(b / 1e6).toFixed(1)} MB`;
const say = (msg) => console.log(`smoke-pack: ${msg}`);
const fail = (msg) => {
  console.error(`smoke-pack: FAIL: ${msg}`);
  process.exit(1);
};
const argList = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return (i >= 0 ? process.argv[i + 1] : fallback).split(',');
};
const arches = argList('--arch', 'x64,arm64');
const majors = argList('--node', Object.keys(NODE_VERSIONS).join(','));
const newer = (a, b) => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

/**
 * The newest GLIBC_ version an ELF file requires, from `objdump -p`'s version references (weak
 * ones, flag 0x2, do not stop the dynamic loader and are skipped).
 */
function glibcRequired(file) {
  const out = execFileSync('objdump', ['-p', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  let glibc = [0, 0];
  for (const m of out.matchAll(/^\s+0x[0-9a-f]+ 0x([0-9a-f]+) \d+ GLIBC_(\d+)\.(\d+)/gm)) {
    if ((parseInt(m[1], 16) & 2) === 0 && newer([+m[2], +m[3]], glibc)) glibc = [+m[2], +m[3]];
  }
  return glibc;
}

/** The files of the packed tarball, checked arch by arch; returns the newest glibc needed. */
function checkElfFiles(extracted) {
  let newest = [0, 0];
  for (const arch of arches) {
    const dir = path.join(extracted, 'package', 'prebuilds', `linux-${arch}`);
    if (!fs.existsSync(dir)) fail(`the tarball has no prebuilds/linux-${arch}`);
    for (const file of fs.readdirSync(dir).sort()) {
      const glibc = glibcRequired(path.join(dir, file));
      for (const lib of neededLibs(path.join(dir, file))) {
        if (!GLIBC_LIBS.test(lib) && !fs.existsSync(path.join(dir, lib))) fail(`linux-${arch}/${file} needs ${lib}, which is not in the package`);
      }
      if (newer(glibc, newest)) newest = glibc;
      say(`linux-${arch}/${file}: ${MB(fs.statSync(path.join(dir, file)).size)}, needs GLIBC_${glibc.join('.')}`);
      if (newer(glibc, MAX_GLIBC)) fail(`linux-${arch}/${file} needs GLIBC_${glibc.join('.')}, newer than ${MAX_GLIBC.join('.')}`);
    }
  }
  return newest;
}

/** An app folder laid out like the repository, holding the platform test and the data it reads. */
function makeApp(dir) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'smoke-app', version: '1.0.0', private: true }));
  for (const f of ['test/platform/installed.test.cjs', 'test/data/vectors.cjs', 'test/data/sift5k.u8']) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(root, f), path.join(dir, f));
  }
  return dir;
}

/** Runs the platform test's output through, failing the smoke test on a non-zero exit. */
function expectPass(label, r) {
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const summary = out.split('\n').filter((l) => /^# (tests|pass|fail)\b|^ℹ (tests|pass|fail)\b/.test(l)).join(', ');
  if (r.status !== 0) {
    process.stderr.write(out);
    fail(`${label}: exit code ${r.status}`);
  }
  say(`${label}: PASS (${summary || 'exit 0'})`);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-smoke-'));
try {
  // 1. Pack.
  for (const arch of arches) if (!fs.existsSync(path.join(root, 'prebuilds', `linux-${arch}`))) fail(`no prebuilds/linux-${arch}; run \`npm run prebuild\` first`);
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  const tarball = path.join(work, packed.filename);
  say(`tarball ${packed.filename}: packed ${MB(packed.size)}, unpacked ${MB(packed.unpackedSize)}, ${packed.entryCount} files`);
  if (packed.size >= WHEEL_BYTES) fail(`packed size ${MB(packed.size)} is not below the faiss-cpu wheel's ${MB(WHEEL_BYTES)}`);

  // 2. ELF files.
  const extracted = path.join(work, 'extracted');
  fs.mkdirSync(extracted);
  execFileSync('tar', ['xzf', tarball, '-C', extracted]);
  const newest = checkElfFiles(extracted);
  say(`every library the prebuilds need is glibc's or in the package; oldest glibc accepted: ${newest.join('.')}`);

  // 3. This machine, no build tools on PATH.
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  for (const tool of ['node', 'npm', 'sh']) fs.symlinkSync(execFileSync('which', [tool], { encoding: 'utf8' }).trim(), path.join(bin, tool));
  const env = { ...process.env, PATH: bin, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  for (const tool of ['cc', 'gcc', 'g++', 'c++', 'cmake', 'make', 'cargo', 'ninja']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status === 0) fail(`${tool} is reachable on the smoke PATH`);
  }
  const app = makeApp(path.join(work, 'app'));
  const install = spawnSync('npm', ['install', '--no-save', '--foreground-scripts', tarball], { cwd: app, env, encoding: 'utf8' });
  process.stderr.write(install.stdout + install.stderr);
  if (install.status !== 0) fail('npm install of the tarball failed');
  if (/building from source|node-gyp/.test(install.stderr)) fail('npm install built from source although a prebuild exists');
  if (arches.includes('x64')) {
    for (const level of ['generic', 'avx2', 'avx512']) {
      const r = spawnSync('node', ['test/platform/installed.test.cjs'], { cwd: app, env: { ...env, FAISS_OPT_LEVEL: level }, encoding: 'utf8' });
      expectPass(`Debian 12 (glibc ${process.report.getReport().header.glibcVersionRuntime}), Node ${process.version}, x64 ${level}`, r);
    }
  }
  // A forced build from source where the tools are missing names the packages and stops; as an
  // installed dependency it never runs apt-get unless FAISS_NATIVE_INSTALL_SYSTEM_DEPS=1.
  const rebuild = spawnSync('npm', ['rebuild', 'faiss-native', '--build-from-source', '--foreground-scripts'], { cwd: app, env, encoding: 'utf8' });
  if (rebuild.status === 0 || !/building from source needs these Debian\/Ubuntu packages: .*libopenblas-openmp-dev/.test(rebuild.stderr)) {
    fail(`npm rebuild --build-from-source without build tools:\n${rebuild.stderr}`);
  }
  say('npm rebuild --build-from-source without build tools: stops and names the packages, runs no apt-get');
  if (process.argv.includes('--no-root')) {
    say('PASS (without the Debian 11 root and qemu: --no-root)');
    process.exit(0);
  }

  // 4. The Debian 11 root: install with each Node's own npm, offline.
  const debianRoot = await ensureRoot();
  const cache = path.join(work, 'npm-cache');
  const addonApi = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'node-addon-api', 'package.json'), 'utf8')).version;
  execFileSync('npm', ['cache', 'add', `node-addon-api@${addonApi}`, '--cache', cache], { stdio: 'inherit' });
  const binds = [[work, '/smoke']];
  if (arches.includes('x64')) {
    for (const major of majors) {
      const nodeDir = `/opt/node-${major}-x64`;
      const appIn = `smoke-app-${major}`;
      makeApp(path.join(work, appIn));
      const inside = (args, extraEnv = {}) =>
        inRoot(debianRoot, args, { binds, env: { PATH: `${nodeDir}/bin:/usr/bin:/bin`, ...extraEnv }, stdio: 'pipe', encoding: 'utf8' });
      const inst = inside(['sh', '-c', `cd /smoke/${appIn} && npm install --offline --cache /smoke/npm-cache --no-save --foreground-scripts --no-audit --no-fund /smoke/${packed.filename}`]);
      if (inst.status !== 0) {
        process.stderr.write(inst.stdout + inst.stderr);
        fail(`npm install in the Debian 11 root with Node ${major} failed`);
      }
      const r = inside(['sh', '-c', `cd /smoke/${appIn} && node test/platform/installed.test.cjs`]);
      expectPass(`Debian 11 (glibc 2.31), Node ${NODE_VERSIONS[major]}, x64, installed with its npm`, r);
    }
    // A build made on this newer system must fail to load there with the loader's explanation.
    const devBuild = path.join(root, 'build', 'Release', 'faiss_native_generic.node');
    if (fs.existsSync(devBuild) && newer(glibcRequired(devBuild), [2, 31])) {
      const pkg = path.join(work, 'too-new');
      fs.cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
      fs.cpSync(path.dirname(devBuild), path.join(pkg, 'build', 'Release'), { recursive: true });
      const r = inRoot(debianRoot, [`/opt/node-${majors[0]}-x64/bin/node`, '-e', 'require("/smoke/too-new/dist")'],
        { binds, env: { FAISS_OPT_LEVEL: 'generic' }, stdio: 'pipe', encoding: 'utf8' });
      const want = [/cannot load its native addon on linux-x64 \(glibc 2\.31\)/, /needs glibc 2\.3[2-9]/, /--build-from-source/];
      if (r.status === 0 || !want.every((re) => re.test(r.stderr))) fail(`loading a Debian 12 build in the Debian 11 root:\n${r.stderr}`);
      say(`Debian 11, a Debian 12 build: refused with:\n${r.stderr.split("\n").filter((l) => /cannot load|needs glibc|build-from-source/.test(l)).join("\n")}`);
    }
  }

  // 5. arm64 under qemu-user, on the package installed in step 3 (one tarball holds both arches).
  if (arches.includes('arm64')) {
    ensureHostTool('qemu-aarch64-static', 'qemu-user-static');
    const qemu = 'qemu-aarch64-static';
    for (const major of majors) {
      const r = spawnSync(qemu, ['-L', debianRoot, path.join(nodeFolder(major, 'arm64'), 'bin', 'node'), 'test/platform/installed.test.cjs'],
        { cwd: app, encoding: 'utf8', env: { ...process.env, FAISS_OPT_LEVEL: '' } });
      expectPass(`Debian 11 arm64 libraries under qemu-user, Node ${NODE_VERSIONS[major]}, arm64`, r);
    }
  }
  say('PASS');
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

#!/usr/bin/env node
// `npm run smoke:pack`: proves the release tarballs install and search where Node backends run.
//   1. Packs every tarball a release publishes (scripts/release/release-pack.mjs: the main
//      package and one binary package per platform; `npm run prebuild` first) and checks what
//      each user downloads (the main package and one binary package) against the faiss-cpu wheel.
//   2. Reads every binary of each binary package with objdump: each library it needs is the
//      system's (the C library's; Windows': KERNEL32, msvcrt, node.exe) or ships beside it, and
//      on glibc no GLIBC_ version it requires is newer than PREBUILT_GLIBC (2.28).
//   3. Installs the main and linux-x64 tarballs on this machine with a PATH holding only node,
//      npm and sh (no compiler, cmake, make or cargo): the install script finds the binary
//      package and builds nothing; searches under every SIMD variant this CPU runs and runs
//      test/platform/installed.test.cjs; then checks that `npm rebuild --build-from-source`
//      there names the missing packages and stops.
//   4. In the Debian 11 root (glibc 2.31): installs them with the official Node 18, 20, 22, 24
//      and 26 binaries (offline, from a prepared npm cache), each with its own npm, and runs the
//      platform test with each; then loads a Debian 12 build there to check the loader's error
//      for too old a glibc.
//   5. The other platforms, installed by this machine's npm for their cpu and libc (--cpu/--libc,
//      --force) with install scripts off, as npm 11, pnpm 10 and Bun install by default,
//      and tested with that platform's Node: linux-arm64 with the official arm64 Node 18 to 26
//      under qemu-user (Debian 11's arm64 libraries); linux-x64-musl with musl Node 20 and 22
//      through Debian 13's musl loader; linux-arm64-musl with musl Node 22 and 24 under qemu-user
//      (scripts/release/musl-toolchain.mjs); win32-x64 with the official node.exe 18, 20 and 22
//      under Wine 8 (scripts/release/windows-toolchain.mjs), every SIMD variant this CPU runs.
//
//   node scripts/release/smoke-pack.mjs [--platform linux-x64,...] [--node 18,20,22] [--no-root]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GLIBC_LIBS, MUSL_LIBS, neededLibs, WINDOWS_LIBS } from '../install/bundle-runtime.mjs';
import { ensureHostTool, ensureRoot, inRoot, nodeFolder, NODE_VERSIONS } from './debian-root.mjs';
import { MUSL_NODE_VERSIONS, muslNodeCommand } from './musl-toolchain.mjs';
import { MAX_DOWNLOAD_BYTES, platformFields, releasePack } from './release-pack.mjs';
import { runWindowsNode, WINDOWS_NODE_VERSIONS } from './windows-toolchain.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// The floor the loader's error message states (lib/load-error.ts); the official Node 18+ binaries need 2.28.
const { PREBUILT_GLIBC, PREBUILT_PLATFORMS } = createRequire(import.meta.url)(path.join(root, 'dist', 'load-error.js'));
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
const platforms = argList('--platform', PREBUILT_PLATFORMS.join(','));
const majors = argList('--node', Object.keys(NODE_VERSIONS).join(','));
const newer = (a, b) => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
// The x64 variants this CPU runs: the avx512 one needs AVX-512 BW.
const X64_LEVELS = ['generic', 'avx2', ...(/\bavx512bw\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8')) ? ['avx512'] : [])];

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

/** The binaries of an unpacked binary package: dependencies shipped, glibc floor kept. */
function checkBinaries(platform, dir) {
  const musl = platform.endsWith('-musl');
  const windows = platform.startsWith('win32-');
  const systemLib = windows ? WINDOWS_LIBS : musl ? MUSL_LIBS : GLIBC_LIBS;
  for (const file of fs.readdirSync(dir).filter((f) => /\.(node|so|dll)(\.|$)/.test(f)).sort()) {
    for (const lib of neededLibs(path.join(dir, file))) {
      if (!systemLib.test(lib) && !fs.existsSync(path.join(dir, lib))) fail(`${platform}/${file} needs ${lib}, which is not in the package`);
    }
    // (musl files may name GLIBC_ versions too: libgcc_s exports __register_frame_info under GLIBC_2.0.)
    const glibc = musl || windows ? [0, 0] : glibcRequired(path.join(dir, file));
    say(`${platform}/${file}: ${MB(fs.statSync(path.join(dir, file)).size)}${musl || windows ? '' : `, needs GLIBC_${glibc.join('.')}`}`);
    if (newer(glibc, MAX_GLIBC)) fail(`${platform}/${file} needs GLIBC_${glibc.join('.')}, newer than ${MAX_GLIBC.join('.')}`);
  }
}

/** An app folder laid out like the repository, holding the platform test and the data it reads. */
function makeApp(dir, extra = {}) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'smoke-app', version: '1.0.0', private: true, ...extra }));
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
  const release = path.join(work, 'release');
  const packed = releasePack(release);
  const main = packed[0];
  const tarballOf = (platform) => packed.find((p) => p.platform === platform).file;
  say(`${path.basename(main.file)}: packed ${MB(main.size)}, unpacked ${MB(main.unpackedSize)}`);
  for (const p of packed.slice(1)) {
    const download = main.size + p.size;
    say(`${path.basename(p.file)}: packed ${MB(p.size)}, unpacked ${MB(p.unpackedSize)}; a ${p.platform} user downloads ${MB(download)}`);
    if (download >= MAX_DOWNLOAD_BYTES) fail(`a ${p.platform} user downloads ${MB(download)}, not below ${MB(MAX_DOWNLOAD_BYTES)}`);
  }

  // 2. Binaries.
  for (const platform of platforms) {
    const dir = path.join(work, 'extracted', platform);
    fs.mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['xzf', tarballOf(platform), '-C', dir, '--strip-components=1']);
    checkBinaries(platform, dir);
  }
  say('every library the binaries need is the C library\'s or in their package; glibc floor kept');

  // 3. This machine, no build tools on PATH.
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  for (const tool of ['node', 'npm', 'sh']) fs.symlinkSync(execFileSync('which', [tool], { encoding: 'utf8' }).trim(), path.join(bin, tool));
  const env = { ...process.env, PATH: bin, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  for (const tool of ['cc', 'gcc', 'g++', 'c++', 'cmake', 'make', 'cargo', 'ninja']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status === 0) fail(`${tool} is reachable on the smoke PATH`);
  }
  if (platforms.includes('linux-x64')) {
    // npm 11 runs a dependency's install script only when the project approves it (allowScripts,
    // what `npm install-scripts approve faiss-native` writes); approved here, to check the script.
    const app = makeApp(path.join(work, 'app'), { allowScripts: { 'faiss-native': true } });
    const install = spawnSync('npm', ['install', '--no-save', '--foreground-scripts', main.file, tarballOf('linux-x64')],
      { cwd: app, env, encoding: 'utf8' });
    process.stderr.write(install.stdout + install.stderr);
    if (install.status !== 0) fail('npm install of the tarballs failed');
    if (/building from source|node-gyp/.test(install.stderr)) fail('npm install built from source although a binary package is installed');
    if (!X64_LEVELS.includes('avx512')) say('this CPU has no AVX-512: the avx512 variant is not run here');
    for (const level of X64_LEVELS) {
      const r = spawnSync('node', ['test/platform/installed.test.cjs'], { cwd: app, env: { ...env, FAISS_OPT_LEVEL: level }, encoding: 'utf8' });
      expectPass(`Debian 12 (glibc ${process.report.getReport().header.glibcVersionRuntime}), Node ${process.version}, x64 ${level}`, r);
    }
    // The CLI as a user runs it (node_modules/.bin, what npx finds), with no optional packages:
    // build, then eval, which plots a plain SVG without vega, says so, and exits 0.
    const prep = `const f = require('faiss-native'); const { d, base, queries } = require('./test/data/vectors.cjs').readSift();
      f.writeNpy('base.npy', base, [base.length / d, d]); f.writeNpy('queries.npy', queries.subarray(0, 50 * d), [50, d]);`;
    const cliRuns = [['node', ['-e', prep]], ['node_modules/.bin/faiss-native', ['build', 'IVF16,Flat', 'base.npy', '-o', 'ivf.index']],
      ['node_modules/.bin/faiss-native', ['eval', 'ivf.index', 'queries.npy', '-o', 'plot.svg']]].map(([cmd, args]) =>
      spawnSync(cmd, args, { cwd: app, env, encoding: 'utf8' }));
    const evalRun = cliRuns.at(-1);
    if (cliRuns.some((r) => r.status !== 0) || !/^<svg/.test(fs.readFileSync(path.join(app, 'plot.svg'), 'utf8')) ||
        !/notice: vega and vega-lite are not installed/.test(evalRun.stderr) || /usage/i.test(evalRun.stderr)) {
      fail(`the CLI in a plain install:\n${cliRuns.map((r) => `exit ${r.status}\n${r.stdout}${r.stderr}`).join('\n')}`);
    }
    say('the CLI in a plain install (no vega): build, then eval writes a plain SVG plot, with a notice, exit 0');
    // A forced build from source where the tools are missing names the packages and stops; as an
    // installed dependency it never runs apt-get unless FAISS_NATIVE_INSTALL_SYSTEM_DEPS=1.
    const rebuild = spawnSync('npm', ['rebuild', 'faiss-native', '--build-from-source', '--foreground-scripts'],
      { cwd: app, env, encoding: 'utf8' });
    if (rebuild.status === 0 || !/building from source needs these Debian\/Ubuntu packages: .*libopenblas-openmp-dev/.test(rebuild.stderr)) {
      fail(`npm rebuild --build-from-source without build tools:\n${rebuild.stderr}`);
    }
    say('npm rebuild --build-from-source without build tools: stops and names the packages, runs no apt-get');
  }

  /**
   * Installs the main and a platform's tarballs for that platform with this machine's npm, scripts
   * off. npm's --cpu/--libc choose among optional dependencies from a registry; a tarball named on
   * the command line is checked against this machine instead, hence --force.
   */
  const installFor = (platform) => {
    const app = makeApp(path.join(work, `app-${platform}`));
    const { os: [system], cpu, libc } = platformFields(platform);
    const args = ['install', '--no-save', '--ignore-scripts', '--force', `--os=${system}`, `--cpu=${cpu[0]}`,
      ...(libc ? [`--libc=${libc[0]}`] : []), main.file, tarballOf(platform)];
    const r = spawnSync('npm', args, { cwd: app, env, encoding: 'utf8' });
    if (r.status !== 0) fail(`npm ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
    return app;
  };

  // 4. The Debian 11 root: install with each Node's own npm, offline.
  if (platforms.includes('linux-x64') && !process.argv.includes('--no-root')) {
    const debianRoot = await ensureRoot();
    const cache = path.join(work, 'npm-cache');
    const addonApi = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'node-addon-api', 'package.json'), 'utf8')).version;
    execFileSync('npm', ['cache', 'add', `node-addon-api@${addonApi}`, '--cache', cache], { stdio: 'inherit' });
    const binds = [[work, '/smoke']];
    const inside = (major, args, extraEnv = {}) => inRoot(debianRoot, args,
      { binds, env: { PATH: `/opt/node-${major}-x64/bin:/usr/bin:/bin`, ...extraEnv }, stdio: 'pipe', encoding: 'utf8' });
    const tgz = [main.file, tarballOf('linux-x64')].map((f) => `/smoke/release/${path.basename(f)}`).join(' ');
    for (const major of majors) {
      const appIn = `smoke-app-${major}`;
      makeApp(path.join(work, appIn));
      const inst = inside(major, ['sh', '-c', `cd /smoke/${appIn} && npm install --offline --cache /smoke/npm-cache --no-save --foreground-scripts --no-audit --no-fund ${tgz}`]);
      if (inst.status !== 0) {
        process.stderr.write(inst.stdout + inst.stderr);
        fail(`npm install in the Debian 11 root with Node ${major} failed`);
      }
      expectPass(`Debian 11 (glibc 2.31), Node ${NODE_VERSIONS[major]}, x64, installed with its npm`,
        inside(major, ['sh', '-c', `cd /smoke/${appIn} && node test/platform/installed.test.cjs`]));
    }
    // A build made on this newer system must fail to load there with the loader's explanation.
    const devBuild = path.join(root, 'build', 'Release', 'faiss_native_generic.node');
    if (fs.existsSync(devBuild) && newer(glibcRequired(devBuild), [2, 31])) {
      const pkg = path.join(work, 'too-new');
      fs.cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
      fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
      fs.cpSync(path.dirname(devBuild), path.join(pkg, 'build', 'Release'), { recursive: true });
      const r = inRoot(debianRoot, [`/opt/node-${majors[0]}-x64/bin/node`, '-e', 'require("/smoke/too-new/dist")'],
        { binds, env: { FAISS_OPT_LEVEL: 'generic' }, stdio: 'pipe', encoding: 'utf8' });
      const want = [/cannot load its native addon on linux-x64 \(glibc 2\.31\)/, /needs glibc 2\.3[2-9]/, /--build-from-source/];
      if (r.status === 0 || !want.every((re) => re.test(r.stderr))) fail(`loading a Debian 12 build in the Debian 11 root:\n${r.stderr}`);
      say(`Debian 11, a Debian 12 build: refused with:\n${r.stderr.split('\n').filter((l) => /cannot load|needs glibc|build-from-source/.test(l)).join('\n')}`);
    }
  }

  // 5. The other platforms, each with its own Node.
  if (platforms.includes('linux-arm64')) {
    ensureHostTool('qemu-aarch64-static', 'qemu-user-static');
    const app = installFor('linux-arm64');
    const debianRoot = await ensureRoot();
    for (const major of majors) {
      const r = spawnSync('qemu-aarch64-static', ['-L', debianRoot, path.join(nodeFolder(major, 'arm64'), 'bin', 'node'), 'test/platform/installed.test.cjs'],
        { cwd: app, encoding: 'utf8', env: { ...process.env, FAISS_OPT_LEVEL: '' } });
      expectPass(`Debian 11 arm64 libraries under qemu-user, Node ${NODE_VERSIONS[major]}, linux-arm64`, r);
    }
  }
  for (const platform of platforms.filter((p) => p.endsWith('-musl'))) {
    const arch = platformFields(platform).cpu[0];
    if (arch !== process.arch) ensureHostTool('qemu-aarch64-static', 'qemu-user-static');
    const app = installFor(platform);
    for (const major of Object.keys(MUSL_NODE_VERSIONS[arch])) {
      const [program, ...args] = await muslNodeCommand(arch, major);
      const r = spawnSync(program, [...args, 'test/platform/installed.test.cjs'], { cwd: app, encoding: 'utf8', env: { ...process.env, FAISS_OPT_LEVEL: '' } });
      expectPass(`musl 1.2.5 (Debian 13's loader${arch === process.arch ? '' : ', qemu-user'}), musl Node ${MUSL_NODE_VERSIONS[arch][major]}, ${platform}`, r);
    }
  }
  if (platforms.includes('win32-x64')) {
    const app = installFor('win32-x64');
    // The install script, as npm 10 on Windows runs it: it finds the binary package and builds nothing.
    const install = runWindowsNode(22, [path.join(app, 'node_modules', 'faiss-native', 'scripts', 'install', 'install.mjs')], { cwd: app, capture: true });
    if (install.status !== 0 || !/using the prebuilt addon/.test(install.stderr)) fail(`the install script under Wine:\n${install.output}`);
    say('Windows under Wine: the install script finds the binary package and builds nothing');
    for (const major of Object.keys(WINDOWS_NODE_VERSIONS)) {
      for (const level of X64_LEVELS) {
        const { status, output } = runWindowsNode(major, ['test/platform/installed.test.cjs'], { cwd: app, env: { FAISS_OPT_LEVEL: level }, capture: true });
        expectPass(`Windows 10 under Wine 8, node.exe ${WINDOWS_NODE_VERSIONS[major]}, win32-x64 ${level}`, { status, stdout: output });
      }
    }
  }
  say('PASS');
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

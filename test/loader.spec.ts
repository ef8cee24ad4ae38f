// The loader's answer when the dynamic loader refuses the addon (missing library, old glibc, musl).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildInfo } from '../lib';
import { loadError, muslTooOld, muslVersion, noAddonError, platform, PREBUILT_MUSL, PREBUILT_PLATFORMS } from '../lib/load-error';

const root = path.join(__dirname, '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'faiss-native-loader-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Newest GLIBC_ version the ELF files of a folder need, read with objdump (independently of the loader). */
function newestGlibc(dir: string): string {
  let newest = [0, 0];
  for (const f of fs.readdirSync(dir)) {
    const out = execFileSync('objdump', ['-p', path.join(dir, f)], { encoding: 'utf8', maxBuffer: 1 << 26 });
    for (const m of out.matchAll(/\bGLIBC_(\d+)\.(\d+)/g)) {
      const v = [Number(m[1]), Number(m[2])];
      if (v[0] > newest[0] || (v[0] === newest[0] && v[1] > newest[1])) newest = v;
    }
  }
  return newest.join('.');
}

describe('an addon the dynamic loader refuses', () => {
  it('fails with one error naming the platform, the glibc found, what the binary needs and how to build from source', () => {
    // A copy of the package whose addon needs a library that does not exist anywhere.
    const pkg = path.join(work, 'pkg');
    const release = path.join(pkg, 'build', 'Release');
    fs.cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
    fs.mkdirSync(release, { recursive: true });
    const built = path.dirname(buildInfo.nativePath);
    for (const f of fs.readdirSync(built).filter((f) => /\.so(\.\d+)*$/.test(f))) fs.symlinkSync(path.join(built, f), path.join(release, f));
    const addon = path.join(release, 'faiss_native_generic.node');
    fs.copyFileSync(path.join(built, 'faiss_native_generic.node'), addon);
    execFileSync('patchelf', ['--add-needed', 'libfaiss-native-missing.so.1', addon]);

    const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(pkg, 'dist'))})`], {
      env: { ...process.env, FAISS_OPT_LEVEL: 'generic' },
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    const glibc = process.report.getReport() as { header: { glibcVersionRuntime: string } };
    expect(r.stderr).toContain(`faiss-native: cannot load its native addon on ${process.platform}-${process.arch} (glibc ${glibc.header.glibcVersionRuntime})`);
    expect(r.stderr).toContain('libfaiss-native-missing.so.1: cannot open shared object file');
    expect(r.stderr).toContain(`${addon} needs glibc ${newestGlibc(release)} or newer`);
    expect(r.stderr).toContain('npm rebuild faiss-native --build-from-source');
    expect(r.stderr).toMatch(/code: 'ERR_FAISS_NATIVE_LOAD'/);
  });

  it('on Windows: names the DLL the addon needs instead of a C library', () => {
    const err = loadError('C:\\app\\faiss_native_avx2.node', new Error('The specified module could not be found.'), 'win32-x64');
    expect(err.message).toContain('cannot load its native addon on win32-x64 (Windows)');
    expect(err.message).toContain('The loader said: The specified module could not be found.');
    expect(err.message).toContain('libscipy_openblas.dll');
    expect(err.message).not.toContain('glibc');
  });

  it('says so when the C library is not glibc (musl)', () => {
    const spy = vi.spyOn(process.report, 'getReport').mockReturnValue({ header: {} } as ReturnType<typeof process.report.getReport>);
    try {
      const err = loadError(buildInfo.nativePath, new Error('Error relocating: __memcpy_chk: symbol not found'));
      expect(err.message).toContain('(no glibc found: musl or another C library)');
      expect(err.message).toContain('The loader said: Error relocating: __memcpy_chk: symbol not found');
      expect((err as Error & { code: string }).code).toBe('ERR_FAISS_NATIVE_LOAD');
      expect(err.cause).toBeInstanceOf(Error);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('the binary package of a platform (@faiss-native/<platform>)', () => {
  /** faiss-native and its binary package laid out as npm installs them; returns the app folder. */
  function install(name: string, binaryVersion: string): string {
    const app = path.join(work, name);
    const pkg = path.join(app, 'node_modules', 'faiss-native');
    fs.cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    const bin = path.join(app, 'node_modules', '@faiss-native', platform);
    fs.mkdirSync(bin, { recursive: true });
    const built = path.dirname(buildInfo.nativePath);
    for (const f of fs.readdirSync(built).filter((f) => /\.(node|so(\.\d+)*)$/.test(f))) fs.symlinkSync(path.join(built, f), path.join(bin, f));
    fs.writeFileSync(path.join(bin, 'package.json'), JSON.stringify({ name: `@faiss-native/${platform}`, version: binaryVersion }));
    return app;
  }
  const version = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const load = (app: string) =>
    spawnSync(process.execPath, ['-e', 'console.log(require("faiss-native").buildInfo.nativePath)'], { cwd: app, encoding: 'utf8' });

  it('is where the loader finds the addon when the package has no local build', () => {
    const r = load(install('binary-package', version));
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(path.join(work, 'binary-package', 'node_modules', '@faiss-native', platform, path.basename(buildInfo.nativePath)));
  });

  it('of another version is refused, naming both versions and the install that fixes it', () => {
    const r = load(install('other-version', '0.0.1'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`faiss-native ${version} found @faiss-native/${platform} 0.0.1`);
    expect(r.stderr).toContain(`npm install faiss-native@${version} @faiss-native/${platform}@${version}`);
  });
});

describe('no addon for the platform', () => {
  it('where binaries are published: names the missing binary package, why npm leaves it out, and how to build instead', () => {
    const err = noAddonError(['/x/faiss_native_generic.node'], 'linux-arm64-musl');
    expect(err.message).toContain('no compiled addon for linux-arm64-musl');
    expect(err.message).toContain('npm install faiss-native @faiss-native/linux-arm64-musl');
    expect(err.message).toContain('--omit=optional');
    expect(err.message).toContain('npm install-scripts approve faiss-native');
    expect(err.message).toContain('npm rebuild faiss-native --build-from-source');
    expect((err as Error & { code: string }).code).toBe('ERR_FAISS_NATIVE_LOAD');
  });

  it('on macOS: says none is built and what a Mac user does instead', () => {
    const err = noAddonError([], 'darwin-arm64');
    expect(err.message).toContain('No macOS binaries are published');
    expect(err.message).toMatch(/Linux container/);
  });

  it('on Windows x64: names the binary package, as on the other published platforms', () => {
    const err = noAddonError([], 'win32-x64');
    expect(err.message).toContain('npm install faiss-native @faiss-native/win32-x64');
  });

  it('elsewhere: lists the platforms that have binaries', () => {
    expect(noAddonError([], 'freebsd-x64').message).toContain(`Prebuilt binaries exist for ${PREBUILT_PLATFORMS.join(', ')}`);
  });
});

describe('musl older than the binaries need', () => {
  const loader = (version: string) => {
    const file = path.join(work, `ld-musl-${version}.so.1`);
    // The strings around the version in musl's loader (1.2.3 and 1.2.5 alike), NUL-separated.
    fs.writeFileSync(file, Buffer.from(['\x7fELF', 'musl libc (x86_64)', 'Version %s', 'Dynamic Program Loader', version, '127.0.0.1', ''].join('\0'), 'latin1'));
    return file;
  };

  it('reads the version a musl loader carries', () => {
    expect(muslVersion(loader('1.2.3'))).toBe('1.2.3');
    expect(muslVersion(loader('1.2.5'))).toBe('1.2.5');
    expect(muslVersion(path.join(work, 'no-such-loader'))).toBeUndefined();
  });

  it('is refused with the version found and needed (not loaded unrelocated), only on musl', () => {
    const err = muslTooOld('/x/faiss_native_generic.node', '1.2.3', 'linux-x64-musl');
    expect(err?.message).toContain('cannot load its native addon on linux-x64-musl (musl 1.2.3)');
    expect(err?.message).toContain(`need musl ${PREBUILT_MUSL} or newer`);
    expect(err?.message).toContain('npm rebuild faiss-native --build-from-source');
    expect((err as Error & { code: string }).code).toBe('ERR_FAISS_NATIVE_LOAD');
    expect(muslTooOld('/x/faiss_native_generic.node', '1.2.4', 'linux-x64-musl')).toBeUndefined();
    expect(muslTooOld('/x/faiss_native_generic.node', '1.2.3', 'linux-x64')).toBeUndefined();
  });
});

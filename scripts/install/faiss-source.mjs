// Obtains the pinned FAISS C++ source. In order: FAISS_SOURCE_DIR, the cache, the crate
// faiss-sys (which carries FAISS's source unchanged, checksum-verified by cargo), a git clone.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const FAISS_VERSION = '1.12.0';
const CRATE = { name: 'faiss-sys', version: '0.7.0' }; // carries FAISS v1.12.0 in faiss/
const GIT_URL = 'https://github.com/facebookresearch/faiss.git';

/** Reads "1.12.0" from a FAISS source tree or install prefix (faiss/Index.h). */
export function faissVersionOf(dir) {
  const header = [path.join(dir, 'faiss', 'Index.h'), path.join(dir, 'include', 'faiss', 'Index.h')].find((f) =>
    fs.existsSync(f),
  );
  if (!header) return null;
  const text = fs.readFileSync(header, 'utf8');
  const part = (name) => new RegExp(`#define FAISS_VERSION_${name} (\\d+)`).exec(text)?.[1];
  return [part('MAJOR'), part('MINOR'), part('PATCH')].join('.');
}

const has = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

function fromCargo(work, log) {
  if (!has('cargo')) return null;
  log(`fetching FAISS ${FAISS_VERSION} source with cargo (crate ${CRATE.name} ${CRATE.version})`);
  fs.mkdirSync(work, { recursive: true });
  fs.writeFileSync(
    path.join(work, 'Cargo.toml'),
    `[package]\nname = "faiss-native-source"\nversion = "0.0.0"\nedition = "2021"\n[lib]\npath = "lib.rs"\n` +
      `[dependencies]\n${CRATE.name} = "=${CRATE.version}"\n`,
  );
  fs.writeFileSync(path.join(work, 'lib.rs'), '');
  const r = spawnSync('cargo', ['vendor', '--versioned-dirs', '--quiet', 'vendor'], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
  const dir = path.join(work, 'vendor', `${CRATE.name}-${CRATE.version}`, 'faiss');
  return r.status === 0 && faissVersionOf(dir) === FAISS_VERSION ? dir : null;
}

function fromGit(work, log) {
  if (!has('git')) return null;
  log(`cloning FAISS v${FAISS_VERSION} from ${GIT_URL}`);
  const dir = path.join(work, 'faiss');
  const r = spawnSync('git', ['clone', '--quiet', '--depth', '1', '--branch', `v${FAISS_VERSION}`, GIT_URL, dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return r.status === 0 && faissVersionOf(dir) === FAISS_VERSION ? dir : null;
}

/** Returns a directory holding FAISS's CMakeLists.txt, fetching it into the cache if needed. */
export async function obtainFaissSource(cacheRoot, log) {
  if (process.env.FAISS_SOURCE_DIR) {
    const dir = path.resolve(process.env.FAISS_SOURCE_DIR);
    const version = faissVersionOf(dir);
    if (!version) throw new Error(`FAISS_SOURCE_DIR=${dir} is not a FAISS source tree (no faiss/Index.h)`);
    log(`using FAISS ${version} source from FAISS_SOURCE_DIR=${dir}`);
    return dir;
  }
  const cached = path.join(cacheRoot, 'src', `faiss-${FAISS_VERSION}`);
  if (faissVersionOf(cached) === FAISS_VERSION) return cached;

  const work = path.join(cacheRoot, 'src', `fetch-${process.pid}`);
  try {
    for (const fetch of [fromCargo, fromGit]) {
      fs.rmSync(work, { recursive: true, force: true });
      const dir = fetch(work, log);
      if (dir) {
        fs.rmSync(cached, { recursive: true, force: true });
        fs.renameSync(dir, cached);
        return cached;
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  throw new Error(
    `could not obtain the FAISS ${FAISS_VERSION} source. Options:\n` +
      `  - set FAISS_SOURCE_DIR to a FAISS checkout (1.12 or newer)\n` +
      `  - install cargo (it fetches the crate ${CRATE.name} ${CRATE.version}, which carries FAISS ${FAISS_VERSION})\n` +
      `  - install git with access to ${GIT_URL}\n` +
      `  - set FAISS_PREFIX to an installed FAISS (include/ and lib/)`,
  );
}

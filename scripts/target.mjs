// The platform a build is for: this machine's, or FAISS_NATIVE_TARGET_ARCH's when cross-compiling
// (arm64 from x64, inside the Debian 11 root of scripts/release/). Debian multiarch paths.
const TARGETS = {
  // FAISS_OPT_LEVEL=avx512 makes FAISS's CMake build generic, avx2 and avx512 libraries at once.
  x64: { triplet: 'x86_64-linux-gnu', cmakeProcessor: 'x86_64', optLevel: 'avx512', variants: ['generic', 'avx2', 'avx512'] },
  // NEON is part of the arm64 baseline, so FAISS's generic build already uses it.
  arm64: { triplet: 'aarch64-linux-gnu', cmakeProcessor: 'aarch64', optLevel: 'generic', variants: ['generic'] },
};

/** { arch, triplet, variants, optLevel, cross, cc, cxx, strip, openblasDir, libDirs } for the build at hand. */
export function buildTarget() {
  const arch = process.env.FAISS_NATIVE_TARGET_ARCH || process.arch;
  const t = TARGETS[arch];
  if (process.platform !== 'linux' || !t) {
    throw new Error(`building from source is supported on linux-x64 and linux-arm64 only (this is ${process.platform}-${arch})`);
  }
  const cross = arch !== process.arch;
  const tool = (name) => (cross ? `${t.triplet}-${name}` : name);
  return {
    arch,
    ...t,
    cross,
    cc: process.env.CC || tool('gcc'),
    cxx: process.env.CXX || tool('g++'),
    strip: tool('strip'),
    // The OpenMP build of OpenBLAS: the pthread build inside FAISS's OpenMP regions oversubscribes.
    openblasDir: `/usr/lib/${t.triplet}/openblas-openmp`,
    // Where the runtime libraries to bundle are found (the last: the cross compiler's own).
    libDirs: [`/usr/lib/${t.triplet}/openblas-openmp`, `/usr/lib/${t.triplet}`, `/lib/${t.triplet}`, `/usr/${t.triplet}/lib`],
  };
}

import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Native addons run in forked processes. The flat spec also runs once per forced lower SIMD
// variant (FAISS_OPT_LEVEL), so every FAISS build inside the package is tested.
export default defineConfig({
  // Specs that import the package by name, as users do, get the current lib/ rather than dist/.
  resolve: { alias: [{ find: /^faiss-native\/faiss-node$/, replacement: path.resolve(__dirname, 'lib/faiss-node.ts') }] },
  test: {
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    // --expose-gc lets the lifetime spec collect garbage while native jobs run.
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
    testTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.spec.ts'] } },
      { extends: true, test: { name: 'generic', include: ['test/flat.spec.ts'], env: { FAISS_OPT_LEVEL: 'generic' } } },
      { extends: true, test: { name: 'avx2', include: ['test/flat.spec.ts'], env: { FAISS_OPT_LEVEL: 'avx2' } } },
    ],
  },
});

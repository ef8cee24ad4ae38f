// Lowers the glibc the prebuilt ELF files ask for from 2.29 to the 2.28 of the official Node.js
// binaries. Built against glibc 2.31, FAISS, libgfortran and OpenBLAS call exp, log and pow
// through their GLIBC_2.29 versions, which differ from the older ones only in dropping the SVID
// error wrappers (same results). This makes those references unversioned, so that each binds to
// the default version of whichever glibc loads it, and marks the GLIBC_2.29 requirement weak
// (VER_FLG_WEAK), so the dynamic loader of an older glibc does not refuse the file for it. Any
// other symbol bound to a version above the floor is left alone and reported.
//   node scripts/release/glibc-floor.mjs <file...>
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RELAXED = { 'GLIBC_2.29': new Set(['exp', 'log', 'pow', 'exp2', 'log2']) };
const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;
const VER_FLG_WEAK = 0x2;
const VERSYM_GLOBAL = 1;

/** Section headers of a 64-bit little-endian ELF file (both x86-64 and aarch64 are). */
function sections(buf) {
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const size = buf.readUInt16LE(0x3a);
  return Array.from({ length: buf.readUInt16LE(0x3c) }, (_, i) => {
    const at = shoff + i * size;
    return { type: buf.readUInt32LE(at + 4), offset: Number(buf.readBigUInt64LE(at + 24)), size: Number(buf.readBigUInt64LE(at + 32)), link: buf.readUInt32LE(at + 40) };
  });
}

const cString = (buf, at) => buf.toString('latin1', at, buf.indexOf(0, at));

/**
 * Relaxes one file in place and returns the references it changed ("exp@GLIBC_2.29"). Throws,
 * leaving the file alone, when another symbol is bound to a version it would relax.
 */
export function relaxGlibcVersions(file) {
  const buf = fs.readFileSync(file);
  const sh = sections(buf);
  const verneed = sh.find((s) => s.type === SHT_GNU_VERNEED);
  const versym = sh.find((s) => s.type === SHT_GNU_VERSYM);
  const dynsym = sh.find((s) => s.type === SHT_DYNSYM);
  if (!verneed || !versym || !dynsym) return [];
  const verStr = sh[verneed.link].offset;
  const symStr = sh[dynsym.link].offset;

  // Version indexes (vna_other) of the requirements to relax, each made weak.
  const targets = new Map();
  for (let vn = verneed.offset, more = true; more; ) {
    const count = buf.readUInt16LE(vn + 2);
    let aux = vn + buf.readUInt32LE(vn + 8);
    for (let i = 0; i < count; i++) {
      const name = cString(buf, verStr + buf.readUInt32LE(aux + 8));
      if (RELAXED[name]) {
        targets.set(buf.readUInt16LE(aux + 6), name);
        buf.writeUInt16LE(buf.readUInt16LE(aux + 4) | VER_FLG_WEAK, aux + 4);
      }
      aux += buf.readUInt32LE(aux + 12);
    }
    const next = buf.readUInt32LE(vn + 12);
    more = next !== 0;
    vn += next;
  }

  const relaxed = [];
  const kept = [];
  for (let i = 0; i < dynsym.size / 24; i++) {
    const at = versym.offset + 2 * i;
    const version = targets.get(buf.readUInt16LE(at) & 0x7fff);
    if (!version) continue;
    const name = cString(buf, symStr + buf.readUInt32LE(dynsym.offset + 24 * i));
    if (RELAXED[version].has(name)) {
      buf.writeUInt16LE(VERSYM_GLOBAL, at);
      relaxed.push(`${name}@${version}`);
    } else {
      kept.push(`${name}@${version}`);
    }
  }
  if (kept.length) throw new Error(`${path.basename(file)}: cannot relax ${kept.join(', ')} (only ${JSON.stringify(RELAXED)})`);
  fs.writeFileSync(file, buf);
  return relaxed;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  for (const file of process.argv.slice(2)) {
    const relaxed = relaxGlibcVersions(file);
    console.log(`${file}: ${relaxed.length ? relaxed.join(', ') : 'nothing to relax'}`);
  }
}

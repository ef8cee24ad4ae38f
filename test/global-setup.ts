// Before any spec: the Python reference environment the parity specs compare against
// (created once by scripts/python-reference.mjs; FAISS_NATIVE_SKIP_PARITY=1 skips it and them).
// @ts-expect-error: a plain ES module without type declarations
import { ensurePythonReference } from '../scripts/python-reference.mjs';

export default function setup(): void {
  if (!process.env.FAISS_NATIVE_SKIP_PARITY) ensurePythonReference();
}

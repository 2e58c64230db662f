/**
 * Writes to standard output without process.stdout: its first use loads Node's stream machinery (about 20 built-in
 * modules and 4-5 MiB of max RSS for a one-shot meta-data). A synchronous write(2) to fd 1 does the same for the
 * blocking pipes and files that Pacemaker and shells give us. When fd 1 is non-blocking (EAGAIN) or anything else
 * goes wrong, the rest goes through process.stdout as before, so errors (EPIPE...) behave as they did.
 */
import { writeSync } from 'node:fs';

/**
 * Set to true at build time by esbuild (build/build.mjs): only the bundle writes to fd 1 directly. Running from source
 * (unit tests, which capture process.stdout.write in-process), output goes through process.stdout.
 */
declare const __OHA_BUNDLE__: boolean | undefined;
const DIRECT = typeof __OHA_BUNDLE__ === 'boolean' && __OHA_BUNDLE__;

export function writeStdout(text: string): void {
  if (!DIRECT) {
    process.stdout.write(text);
    return;
  }
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(1, buf, off, buf.length - off);
  } catch {
    process.stdout.write(buf.subarray(off));
  }
}

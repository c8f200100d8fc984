/**
 * Reads a script file given on the command line or in an experiment, refusing what would hang or
 * mislead: a FIFO or device (reading blocks), a directory, a missing file, UTF-16 text. A stand-in for
 * the shared safe reader (readTextInput) another branch adds; the lead can swap this one call.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError } from '../../errors.ts';

export function readScriptText(file: string, what = 'k6 script'): string {
  const rel = path.relative(process.cwd(), file) || file;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new SpilloverError({ file: rel, message: `cannot read the ${what}`, found: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message, fix: 'check the path' });
  }
  if (!st.isFile()) throw new SpilloverError({ file: rel, message: `the ${what} is not a regular file`, found: st.isDirectory() ? 'a directory' : 'a FIFO, socket or device', expected: 'a .js or .ts file', fix: 'pass the script file itself' });
  const buf = fs.readFileSync(file);
  if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) {
    throw new SpilloverError({ file: rel, message: `the ${what} is UTF-16 encoded`, expected: 'UTF-8 text', found: 'a UTF-16 byte-order mark', fix: `re-save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8 ${rel} > fixed.js)` });
  }
  return buf.toString('utf8');
}

/**
 * The one way a user's text file (experiment, scenario script) is read: refused with a clear
 * SpilloverError, never a hang or a mojibake parse error, when it is not a regular UTF-8 text file.
 *
 * The file is opened non-blocking and checked with fstat before a byte is read: opening a FIFO for
 * reading blocks until a writer appears and /dev/zero never ends, so "read it and see" is not an option.
 * Shared by src/experiment (experiment files) and src/load (scenario scripts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError } from '../errors.ts';

/** Larger than any experiment or k6 script written by hand; a bigger "text" file is a wrong path. */
const MAX_BYTES = 8 * 1024 * 1024;

const SAVE_AS_UTF8 = 'save it as UTF-8 (in most editors: "Save with encoding" / "Reopen with encoding", choose UTF-8)';

function kindOf(st: fs.Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** The text of `file`, a regular UTF-8 file; `what` names it in errors ("experiment file", "scenario script"). */
export function readTextInput(file: string, what: string): string {
  const rel = path.relative(process.cwd(), file) || file;
  const fail = (message: string, found: string | undefined, fix: string, expected = 'a regular text file in UTF-8') => {
    throw new SpilloverError({ file: rel, message, expected, found, fix });
  };
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail(`the ${what} does not exist`, rel, 'check the path (it is relative to the current directory)');
    if (code === 'ENOTDIR') fail(`the ${what} path goes through a file as if it were a directory`, rel, 'check the path');
    fail(`cannot read the ${what} (${code ?? (e as Error).message})`, rel, 'check the path and its permissions');
    throw e;
  }
  const kind = kindOf(st);
  if (kind === 'a directory') {
    let inside: string[] = [];
    try {
      inside = fs
        .readdirSync(file)
        .filter((f) => /\.(ya?ml|js)$/.test(f))
        .slice(0, 5);
    } catch {
      /* only a hint */
    }
    fail(
      `the ${what} path is a directory`,
      rel,
      inside.length ? `name a file in it, e.g. ${path.join(rel, inside[0])}` : 'name a file, not a directory',
    );
  }
  if (kind)
    fail(
      `the ${what} is ${kind}, not a regular file; reading it could block or never end`,
      rel,
      `save the content to a regular file and name that file`,
    );
  if (st.size > MAX_BYTES)
    fail(
      `the ${what} is ${(st.size / 2 ** 20).toFixed(1)} MiB; that is not a hand-written ${what}`,
      `${st.size} bytes`,
      'check the path',
      `at most ${MAX_BYTES / 2 ** 20} MiB`,
    );

  let bytes: Buffer;
  let fd: number | undefined;
  try {
    // Non-blocking, and checked again on the open descriptor: the path may have been swapped meanwhile.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const again = fs.fstatSync(fd);
    const k = kindOf(again);
    if (k)
      fail(
        `the ${what} is ${k}, not a regular file; reading it could block or never end`,
        rel,
        'save the content to a regular file and name that file',
      );
    if (again.size > MAX_BYTES)
      fail(`the ${what} is too large`, `${again.size} bytes`, 'check the path', `at most ${MAX_BYTES / 2 ** 20} MiB`);
    bytes = fs.readFileSync(fd);
  } catch (e) {
    if (e instanceof SpilloverError) throw e;
    fail(
      `cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      rel,
      'check the path and its permissions',
    );
    throw e;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return decodeUtf8(bytes, what, fail);
}

type Fail = (message: string, found: string | undefined, fix: string, expected?: string) => never;

function decodeUtf8(bytes: Buffer, what: string, fail: Fail): string {
  const b = bytes;
  if ((b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) || (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff)) {
    fail(`the ${what} is encoded in UTF-32`, 'a UTF-32 byte-order mark', SAVE_AS_UTF8);
  }
  if ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff)) {
    fail(
      `the ${what} is encoded in UTF-16 (${b[0] === 0xff ? 'little' : 'big'}-endian; Windows "Unicode")`,
      'a UTF-16 byte-order mark',
      SAVE_AS_UTF8,
    );
  }
  const nul = b.indexOf(0);
  if (nul >= 0) {
    // UTF-16 without a BOM: ASCII text with a NUL in every other byte.
    const head = b.subarray(0, Math.min(b.length, 4096));
    let even = 0;
    let odd = 0;
    for (let i = 0; i < head.length; i++) if (head[i] === 0) i % 2 === 0 ? even++ : odd++;
    const half = head.length / 2;
    if (Math.max(even, odd) > half * 0.6)
      fail(
        `the ${what} looks encoded in UTF-16 (a NUL byte between the letters)`,
        `NUL bytes at ${odd > even ? 'odd' : 'even'} offsets`,
        SAVE_AS_UTF8,
      );
    fail(
      `the ${what} is binary, not text: it holds a NUL byte at line ${lineAt(b, nul)}`,
      'a NUL byte (\\u0000)',
      'check the path; remove the NUL byte if the file is meant to be text',
    );
  }
  const start = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0; // a UTF-8 BOM is harmless: dropped
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(start));
  } catch {
    const at = firstInvalidUtf8(b, start);
    return fail(
      `the ${what} is not valid UTF-8 (line ${lineAt(b, at)}, byte 0x${b[at].toString(16).toUpperCase().padStart(2, '0')}; probably Latin-1 or Windows-1252)`,
      `byte 0x${b[at].toString(16).toUpperCase().padStart(2, '0')} at offset ${at}`,
      SAVE_AS_UTF8,
    );
  }
}

const lineAt = (b: Buffer, offset: number) => {
  let line = 1;
  for (let i = 0; i < offset; i++) if (b[i] === 0x0a) line++;
  return line;
};

function firstInvalidUtf8(b: Buffer, from: number): number {
  const dec = new TextDecoder('utf-8', { fatal: true });
  // Binary search on prefixes would cut sequences in half; walk sequence by sequence instead.
  let i = from;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n === 0) return i;
    try {
      dec.decode(b.subarray(i, i + n));
    } catch {
      return i;
    }
    i += n;
  }
  return Math.min(from, b.length - 1);
}

/**
 * Every report output is written to a temporary file beside it and renamed into place (issue 11): a
 * reader, or a run interrupted mid-report, sees each file complete (the old or the new version) or
 * absent, never half-written. `discardPending` removes the temporary files still being written, for
 * the signal handler of `spillover report`.
 */
import fs from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const pending = new Set<string>();

/** A temporary name beside `file` (same directory, so the rename stays on one file system). */
export function tempFor(file: string): string {
  const t = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${pending.size}.tmp`);
  pending.add(t);
  return t;
}

/** Renames a finished temporary file into place. */
export async function commit(temp: string, file: string): Promise<void> {
  await rename(temp, file);
  pending.delete(temp);
}

/** Removes a temporary file that will not be committed (the step that wrote it failed). */
export async function abandon(temp: string): Promise<void> {
  pending.delete(temp);
  await rm(temp, { force: true });
}

export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const temp = tempFor(file);
  try {
    await writeFile(temp, data);
  } catch (e) {
    await abandon(temp);
    throw e;
  }
  await commit(temp, file);
}

/** Synchronously removes every temporary file not yet renamed (exit and signal paths). */
export function discardPending(): void {
  for (const t of pending) fs.rmSync(t, { force: true });
  pending.clear();
}

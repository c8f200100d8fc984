/**
 * One bad-input case, run through the real CLI in this process, and what every case must show: exit
 * code 2; one problem line naming where (file or flag, and the field) and what is wrong, followed by
 * its expected / found / fix lines; no stack trace; and nothing left behind -- no run directory, no
 * state file, no process of the case, no new child of this process.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Document } from 'yaml';
import { BAD_FIXTURES, listDir, peakLoadDoc, peakLoadText, pidsMentioning, runCliInProcess } from './harness.ts';

export interface BadCase {
  name: string;
  /** The experiment, from peak-load's text (comments and lines as users see them)... */
  text?: (base: string) => string;
  /** ...or from its parsed document... */
  edit?: (doc: Document) => void;
  /** ...or a file of test/fixtures/bad as it is... */
  fixture?: string;
  /** ...or a file the case makes in its directory (a FIFO, a UTF-16 file...); returns its path. */
  file?: (dir: string) => string;
  /** Replace the scenario script by this file of test/fixtures/bad... */
  scenario?: string;
  /** ...or by a path the case makes in its directory. */
  scenarioPath?: (dir: string) => string;
  /** More CLI arguments (--set, --time-scale...). */
  args?: string[];
  /** Another command than `run <file> --dry-run --out <out>`: the whole argv after "spillover". */
  argv?: (file: string, out: string, dir: string) => string[];
  /** A shortfall of code this suite does not own, reported to its owner: the fix line is not required. */
  knownGap?: string;
  /** Results parent directory (--out), given the case's temp dir; default a fresh one that must stay absent. */
  out?: (tmp: string) => string;
  /** Detail lines this problem has no meaningful value for (e.g. a YAML syntax error has no "expected"). */
  without?: Array<'expected' | 'found'>;
  expect: {
    /** The "file[:line] path" prefix of the problem line. */
    where: RegExp;
    message: RegExp;
    expected?: RegExp;
    found?: RegExp;
    fix?: RegExp;
  };
}

export const set = (p: string, v: unknown) => (doc: Document) =>
  doc.setIn(
    p.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s)),
    v,
  );
export const del = (p: string) => (doc: Document) => doc.deleteIn(p.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s)));

/** Live children of this process (not zombies): an in-process CLI that started anything leaves one. */
export function childPids(): number[] {
  const out: number[] = [];
  for (const d of listDir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // esbuild's transform service (the scenario loader's, started once per process) is no run's.
      if (rest[0] !== 'Z' && Number(rest[1]) === process.pid && !stat.includes('(esbuild)')) out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

function caseFile(c: BadCase, dir: string): string {
  if (c.fixture) return path.join(BAD_FIXTURES, c.fixture);
  if (c.file) return c.file(dir);
  let text: string;
  if (c.text) text = c.text(peakLoadText());
  else {
    const doc = peakLoadDoc();
    c.edit?.(doc);
    if (c.scenario) doc.setIn(['load', 'scenario'], path.join(BAD_FIXTURES, c.scenario));
    if (c.scenarioPath) doc.setIn(['load', 'scenario'], c.scenarioPath(dir));
    text = doc.toString();
  }
  const file = path.join(dir, 'experiment.yaml');
  fs.writeFileSync(file, text);
  return file;
}

export async function runBadCase(c: BadCase, dir: string, stateDir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const file = caseFile(c, dir);
  const out = c.out ? c.out(dir) : path.join(dir, 'results');
  const childrenBefore = new Set(childPids());
  // --dry-run: the checks are the same as for a real run (they come first), but a case that wrongly
  // passed them must not bring up a mesh inside the test process.
  const argv = c.argv ? c.argv(file, out, dir) : ['run', file, '--dry-run', '--out', out, ...(c.args ?? [])];
  const t0 = Date.now();
  const res = await runCliInProcess(argv);
  const ctx = `\n--- stderr (${Date.now() - t0} ms) ---\n${res.stderr}`;

  assert.equal(res.code, 2, `exit code${ctx}`);
  const lines = res.stderr.split('\n');
  // One problem line matches both where and message; its expected/found/fix follow it.
  const at = lines.findIndex((l) => !l.startsWith('  ') && c.expect.where.test(l) && c.expect.message.test(l));
  assert.ok(at >= 0, `no problem line matching ${c.expect.where} and ${c.expect.message}${ctx}`);
  const detail: string[] = [];
  for (let j = at + 1; j < lines.length && lines[j].startsWith('  '); j++) detail.push(lines[j]);
  const field = (k: string) => detail.find((l) => l.startsWith(`  ${k}: `))?.slice(k.length + 4);
  if (!c.knownGap) assert.ok(field('fix'), `the problem names no fix${ctx}`);
  for (const k of ['expected', 'found'] as const)
    if (!c.without?.includes(k)) assert.ok(field(k) !== undefined, `the problem says nothing ${k}${ctx}`);
  if (c.expect.fix) assert.match(field('fix')!, c.expect.fix, ctx);
  if (c.expect.expected) assert.match(field('expected') ?? '', c.expect.expected, ctx);
  if (c.expect.found) assert.match(field('found') ?? '', c.expect.found, ctx);
  assert.doesNotMatch(res.stderr, /\n\s+at .*\.ts:\d+/, `a stack trace is not an error message${ctx}`);
  // The terminal must show what is there: no raw invisible or control character in the message.
  assert.doesNotMatch(
    res.stderr,
    /[\u0000-\u0009\u000B-\u001F\u00A0\u200B-\u200F\u2028\u2029\uFEFF]/,
    `an invisible character printed raw${ctx}`,
  );

  // Nothing left behind.
  if (!c.out) assert.deepEqual(listDir(out), [], 'no run directory');
  assert.deepEqual(listDir(stateDir), [], 'no state file');
  assert.deepEqual(pidsMentioning(dir), [], 'no process of this case');
  assert.deepEqual(
    childPids().filter((p) => !childrenBefore.has(p)),
    [],
    'no child process started',
  );
}

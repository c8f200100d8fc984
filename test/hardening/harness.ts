/**
 * Shared by the hardening tests: the peak-load experiment as a base to break, the CLI run in-process
 * (so a table of 40 cases costs milliseconds each, not a tsx start-up each), and what "nothing left
 * behind" means: no run directory, no state file, no process of ours.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDocument, type Document } from 'yaml';

// The one repo root (src/util/repo-root.ts), re-exported for the hardening tests.
export { REPO_ROOT } from '../../src/util/repo-root.ts';
import { REPO_ROOT } from '../../src/util/repo-root.ts';
export const PEAK_LOAD = path.join(REPO_ROOT, 'experiments/peak-load.yaml');
export const PEAK_SCENARIO = path.join(REPO_ROOT, 'scenarios/peak-load.js');
export const BAD_FIXTURES = path.join(REPO_ROOT, 'test/fixtures/bad');

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `spillover-${prefix}-`));
}

/**
 * peak-load.yaml with its scenario path made absolute, so a copy written anywhere still finds it.
 * Text, not a re-serialised object: line numbers and comments stay as users see them.
 */
export function peakLoadText(scenario = PEAK_SCENARIO): string {
  return replaceOnce(fs.readFileSync(PEAK_LOAD, 'utf8'), 'scenario: ../scenarios/peak-load.js', `scenario: ${scenario}`);
}

export function peakLoadDoc(): Document {
  return parseDocument(peakLoadText());
}

/** A text edit that must apply: a case whose edit silently missed would test the valid file. */
export function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const hits =
    typeof from === 'string'
      ? text.split(from).length - 1
      : (text.match(new RegExp(from.source, `${from.flags.replace('g', '')}g`)) ?? []).length;
  if (hits !== 1) throw new Error(`test edit expected exactly one ${String(from)} in the experiment, found ${hits}`);
  return text.replace(from, to);
}

export interface CliResult {
  code: number;
  stderr: string;
  stdout: string;
}

/**
 * `spillover <args>` in this process. Output is captured; process.exitCode is restored afterwards
 * because the CLI sets it and mocha would otherwise inherit it.
 */
export async function runCliInProcess(args: string[]): Promise<CliResult> {
  const { main } = await import('../../src/cli/main.ts');
  const saved = { err: process.stderr.write, out: process.stdout.write, exitCode: process.exitCode };
  let stderr = '';
  let stdout = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await main(['node', 'spillover', ...args]);
    return { code, stderr, stdout };
  } finally {
    process.stderr.write = saved.err;
    process.stdout.write = saved.out;
    process.exitCode = saved.exitCode;
  }
}

/** Files in a directory, or [] when it does not exist. */
export function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Live pids whose command line mentions `needle` (our runs put their run directory in every argv). */
export function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const d of listDir('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      // A zombie has no resources; it is reaped by its parent and not a leftover.
      if (cmd.includes(needle) && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/**
 * `--set` overrides giving a suite loopback ranges of its own (127.0.<base>.0/24 and the next):
 * slot claims live in each state directory, so runs of other people on this machine using the
 * default ranges could otherwise take the same addresses between a probe and a bind.
 */
export const ownRanges = (base: number): string[] => [
  `topology.clusters.cluster-1.addresses=127.0.${base}.0/24`,
  `topology.clusters.cluster-2.addresses=127.0.${base + 1}.0/24`,
];
export const ownRangeArgs = (base: number): string[] => ownRanges(base).flatMap((s) => ['--set', s]);

/**
 * Per-test temp dir and SPILLOVER_STATE_DIR for end-to-end suites, restored afterwards; whatever a
 * failed assertion left running is ended, not left for the next suite.
 */
export function isolatedRuns(prefix: string): { tmp(): string; stateDir(): string } {
  let tmp = '';
  let state = '';
  const saved = process.env.SPILLOVER_STATE_DIR;
  beforeEach(() => {
    tmp = tmpDir(prefix);
    state = path.join(tmp, 'state');
    process.env.SPILLOVER_STATE_DIR = state;
  });
  afterEach(async () => {
    const { cleanupStaleProcesses } = await import('../../src/process/processes.ts');
    cleanupStaleProcesses({ includeKept: true });
    if (saved === undefined) delete process.env.SPILLOVER_STATE_DIR;
    else process.env.SPILLOVER_STATE_DIR = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  return { tmp: () => tmp, stateDir: () => state };
}

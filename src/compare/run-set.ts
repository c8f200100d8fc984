/**
 * A set of runs of one experiment, read from disk: one run directory, a directory of run directories
 * (repeats), or a baseline file (results/baselines/<experiment>/baseline.json, or its directory).
 * Everything after this works on summaries, so the three are the same to compare and aggregate.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError } from '../errors.ts';
import { RAW, type RunManifest } from '../contracts/raw.ts';
import { checkSummary, readSummary, SUMMARY_FILE, type StoredSummary } from '../contracts/summary.ts';
export const BASELINE_FILE = 'baseline.json';
export const BASELINE_SCHEMA = 'spillover.dev/baseline/v1';

export interface RunRecord {
  /** Where it was read from: the run directory, or `<baseline file>#<runId>`. */
  source: string;
  runId: string;
  summary: StoredSummary;
  /** The run's manifest; baselines keep it without the resolved experiment's bulk. */
  manifest?: Partial<RunManifest>;
}

export interface RunSet {
  /** What the user named. */
  source: string;
  kind: 'run' | 'repeats' | 'baseline';
  experiment: string;
  runs: RunRecord[];
  /** The experiment's `expect:` block, from the resolved experiment of the runs (first run that has one). */
  expect: Record<string, string[]>;
}

export interface BaselineFile {
  schema: typeof BASELINE_SCHEMA;
  experiment: string;
  /** When the newest run of the baseline ended (not when the file was written: rewriting is byte-stable). */
  createdFrom: string;
  expect: Record<string, string[]>;
  runs: Array<Omit<RunRecord, 'source'>>;
}

const display = (p: string) => path.relative(process.cwd(), p) || p;

function readJson(file: string, what: string, fix: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SpilloverError({
      file: display(file),
      message: `cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      fix,
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SpilloverError({ file: display(file), message: `${what} is not valid JSON: ${(e as Error).message}`, fix });
  }
}

const isRunDir = (dir: string) => fs.existsSync(path.join(dir, SUMMARY_FILE));

export function readRunRecord(dir: string): RunRecord {
  const summary = readSummary(dir);
  const manifestFile = path.join(dir, RAW.manifest);
  const manifest = fs.existsSync(manifestFile)
    ? (readJson(manifestFile, 'the run manifest', 'the run directory is damaged; rerun the experiment') as Partial<RunManifest>)
    : undefined;
  return { source: dir, runId: String(summary.runId ?? manifest?.runId ?? path.basename(dir)), summary, manifest };
}

function expectOf(manifest: Partial<RunManifest> | undefined): Record<string, string[]> | undefined {
  const e = (manifest?.resolved as { expect?: unknown } | undefined)?.expect;
  return e && typeof e === 'object' && !Array.isArray(e) ? (e as Record<string, string[]>) : undefined;
}

/** Read what the user named: a run directory, a directory of run directories, or a baseline. */
export function readRunSet(source: string): RunSet {
  const abs = path.resolve(source);
  if (!fs.existsSync(abs)) {
    throw new SpilloverError({
      file: source,
      message: 'no such run directory or baseline',
      expected: 'a run directory, a directory of repeats, or results/baselines/<experiment>/',
      fix: 'list runs with `ls results/<experiment>/`',
    });
  }
  const stat = fs.statSync(abs);
  if (stat.isFile() || fs.existsSync(path.join(abs, BASELINE_FILE)))
    return readBaseline(stat.isFile() ? abs : path.join(abs, BASELINE_FILE), source);
  if (isRunDir(abs)) return finish(source, 'run', [readRunRecord(abs)]);
  const dirs = fs
    .readdirSync(abs, { withFileTypes: true })
    .filter((d) => d.isDirectory() && isRunDir(path.join(abs, d.name)))
    .map((d) => path.join(abs, d.name))
    .sort();
  if (dirs.length === 0) {
    throw new SpilloverError({
      file: source,
      message: `no ${SUMMARY_FILE} here nor in any sub-directory`,
      expected: `a run directory holding ${SUMMARY_FILE}, or a directory of such run directories`,
      found: 'a directory without runs',
      fix: `run \`spillover report <run-dir>\` on runs that lack a summary, or name another directory`,
    });
  }
  return finish(source, 'repeats', dirs.map(readRunRecord));
}

function finish(source: string, kind: RunSet['kind'], runs: RunRecord[]): RunSet {
  const names = [...new Set(runs.map((r) => String(r.summary.experiment ?? r.manifest?.experiment ?? '?')))];
  if (names.length > 1) {
    throw new SpilloverError({
      file: source,
      message: 'the runs are of different experiments',
      expected: 'repeats of one experiment',
      found: names.join(', '),
      fix: 'put the repeats of each experiment in their own directory',
    });
  }
  const expect = runs.map((r) => expectOf(r.manifest)).find((e) => e) ?? {};
  return { source, kind, experiment: names[0], runs, expect };
}

export function readBaseline(file: string, source = file): RunSet {
  const data = readJson(
    file,
    'the baseline',
    'restore it from git, or write a new one with `spillover compare ... --update-baseline`',
  ) as Partial<BaselineFile>;
  if (data?.schema !== BASELINE_SCHEMA || !Array.isArray(data.runs) || data.runs.length === 0) {
    throw new SpilloverError({
      file: display(file),
      path: data?.schema !== BASELINE_SCHEMA ? 'schema' : 'runs',
      message: 'not a Spillover baseline',
      expected: `schema "${BASELINE_SCHEMA}" and a non-empty runs list`,
      found: data?.schema !== BASELINE_SCHEMA ? JSON.stringify(data?.schema) : JSON.stringify(data.runs)?.slice(0, 40),
      fix: 'write baselines with `spillover compare <runs> <runs> --update-baseline`',
    });
  }
  return {
    source,
    kind: 'baseline',
    experiment: String(data.experiment),
    expect: data.expect ?? {},
    runs: data.runs.map((r, i) => ({
      ...r,
      summary: checkSummary(r.summary, { file: display(file), at: `runs[${i}].summary` }),
      source: `${display(file)}#${r.runId}`,
    })),
  };
}

/** The baseline file for a set of runs: stable key order, no wall-clock of its own. */
export function baselineOf(set: RunSet): BaselineFile {
  const ends = set.runs
    .map((r) => r.manifest?.endedAt ?? r.manifest?.startedAt ?? '')
    .filter(Boolean)
    .sort();
  return {
    schema: BASELINE_SCHEMA,
    experiment: set.experiment,
    createdFrom: ends.at(-1) ?? '',
    expect: set.expect,
    runs: set.runs.map((r) => {
      // The resolved experiment is kept (it is what ran); raw topology addresses are not needed.
      const m = r.manifest ? { ...r.manifest, topology: undefined } : undefined;
      return { runId: r.runId, summary: r.summary, manifest: m };
    }),
  };
}

export function baselinePath(root: string, experiment: string): string {
  return path.join(root, experiment, BASELINE_FILE);
}

export function writeBaseline(set: RunSet, root: string): string {
  const file = baselinePath(root, set.experiment);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(baselineOf(set), null, 2)}\n`);
  return file;
}

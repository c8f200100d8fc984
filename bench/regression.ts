/**
 * CI regression check: a shortened peak-load run N times on the local backend, compared with the
 * committed baseline (results/baselines/peak-load/) by `spillover compare`, plus the check that the
 * report regenerated from the same raw data is byte-identical.
 *
 * The runs use the baseline's own time scale and overrides (from its manifests), so both sides ran
 * the same thing. Exit: 0 no regression, 1 regression or a non-deterministic report, 2 error.
 *
 *   node --import tsx bench/regression.ts [--repeat 5] [--baseline results/baselines/peak-load]
 *                                          [--out results/ci-regression] [--junit file]
 *                                          [--fail-on any|thresholds]
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isSpilloverError, formatProblem } from '../src/errors.ts';
import { readRunSet, type RunSet } from '../src/compare/run-set.ts';
import { aggregateRuns, writeAggregate } from '../src/compare/aggregate.ts';
import { runCompare } from '../src/compare/run-compare.ts';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};

/** Time scale and overrides shared by every run of the baseline; differing ones are an error. */
function settingsOf(baseline: RunSet): { timeScale: number; set: string[]; experimentFile: string } {
  const keys = new Set(baseline.runs.map((r) => JSON.stringify([r.manifest?.timeScale ?? 1, r.manifest?.overrides ?? []])));
  if (keys.size !== 1) throw new Error(`the baseline's runs used different settings: ${[...keys].join(' / ')}`);
  const [timeScale, set] = JSON.parse([...keys][0]) as [number, string[]];
  const file =
    (baseline.runs[0].manifest?.resolved as { experimentFile?: string } | undefined)?.experimentFile ??
    `experiments/${baseline.experiment}.yaml`;
  return { timeScale, set, experimentFile: file };
}

/** sha256 of every file the report writes in a run directory (everything but raw data and inputs). */
function outputHashes(runDir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(runDir, p);
      if (e.isDirectory()) {
        if (rel !== 'raw' && rel !== 'config') walk(p);
      } else if (rel !== 'manifest.json' && !rel.endsWith('.resolved.yaml'))
        out.set(rel, crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex'));
    }
  };
  walk(runDir);
  return out;
}

async function reportIsDeterministic(runDir: string): Promise<string[]> {
  const { writeReport } = await import('../src/report/index.ts');
  const first = outputHashes(runDir);
  await writeReport(runDir);
  const second = outputHashes(runDir);
  const names = [...new Set([...first.keys(), ...second.keys()])].sort();
  return names.filter((n) => first.get(n) !== second.get(n));
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const repeat = Number(arg('--repeat', '5'));
  const baselineDir = arg('--baseline', path.join('results', 'baselines', 'peak-load'));
  const out = path.resolve(arg('--out', path.join('results', 'ci-regression')));
  const junit = arg('--junit', path.join(out, 'compare.junit.xml'));
  const baseline = readRunSet(baselineDir);
  const s = settingsOf(baseline);
  // Run-to-run spread grows a lot on a busy machine (see the report): say how busy it was.
  const load = () => os.loadavg()[0].toFixed(1);
  const loadBefore = load();
  process.stderr.write(
    `regression: ${repeat} × ${s.experimentFile} at time scale ${s.timeScale}${s.set.length ? ` with ${s.set.join(' ')}` : ''}, against ${baselineDir} (${baseline.runs.length} runs)\n`,
  );

  const { runExperiment } = await import('../src/orchestrate/run.ts');
  const setDir = path.join(out, `candidate-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`);
  fs.mkdirSync(setDir, { recursive: true });
  const runDirs: string[] = [];
  for (let i = 1; i <= repeat; i++) {
    const t = performance.now();
    const opts = {
      experimentFile: s.experimentFile,
      set: s.set,
      timeScale: s.timeScale,
      outDir: setDir,
      runId: `r${String(i).padStart(2, '0')}`,
      quiet: true,
    };
    // One retry: a run that could not start (e.g. a loopback port still held) says nothing about the mesh.
    const res = await runExperiment(opts).catch(async (e: Error) => {
      process.stderr.write(`  run ${i} failed (${e.message.split('\n')[0]}); retrying once\n`);
      fs.rmSync(path.join(setDir, opts.runId), { recursive: true, force: true });
      return runExperiment(opts);
    });
    process.stderr.write(
      `  run ${i}/${repeat}: ${path.relative(process.cwd(), res.runDir)} exit ${res.exitCode} in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
    );
    runDirs.push(res.runDir);
  }
  const agg = aggregateRuns(runDirs);
  await writeAggregate(setDir, agg, runDirs);
  process.stdout.write(`${fs.readFileSync(path.join(setDir, 'aggregate.md'), 'utf8')}\n`);

  const failOn = arg('--fail-on', 'any') === 'thresholds' ? 'thresholds' : 'any';
  const { exitCode } = runCompare(baselineDir, setDir, { markdown: path.join(out, 'compare.md'), junit, failOn });
  const changed = await reportIsDeterministic(runDirs[0]);
  if (changed.length) process.stdout.write(`\nreport NOT byte-identical on the same raw data: ${changed.join(', ')}\n`);
  else process.stdout.write(`\nreport regenerated from the same raw data: byte-identical (${outputHashes(runDirs[0]).size} files)\n`);
  process.stdout.write(`machine load (1-min average, ${os.cpus().length} cores): ${loadBefore} before the runs, ${load()} after\n`);
  process.stdout.write(
    `regression check took ${((performance.now() - t0) / 1000).toFixed(0)} s; ${path.relative(process.cwd(), path.join(out, 'compare.md'))}, ${path.relative(process.cwd(), junit)}\n`,
  );
  return exitCode === 0 && changed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(
      `regression: ${isSpilloverError(e) ? e.problems.map(formatProblem).join('\n') : ((e as Error).stack ?? String(e))}\n`,
    );
    process.exit(2);
  },
);

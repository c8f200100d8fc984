/**
 * `spillover eras <experiment>`: the same experiment under each Istio semantics era src/mesh models
 * (eras-model.ts), each `repeat` times, then a side-by-side table and figure of the key outcomes --
 * first overflow, first ejection, redirected share, success ratio -- with, per era, what the
 * translation changes there and why the redirect does or does not happen (from the configuration
 * diagnosis for that era and the run's own summary). Each era runs on the Envoy its Istio release
 * shipped where PyPI serves that wheel (eras-envoy.ts), else on the pinned one, and says which.
 *
 * Layout: <out>/eras-<id>/<istio>/<r01..>/, eras.md, eras.json, figures/eras.vl.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError } from '../errors.ts';
import { readExperiment } from '../experiment/read-experiment.ts';
import { diagnose } from '../analysis/diagnosis/pitfalls.ts';
import { readSummary, type Summary } from '../contracts/summary.ts';
import { runExperiment } from '../orchestrate/run.ts';
import { createLocalBackend } from '../runner/backends/local.ts';
import { eraOf, istioEras, type Era } from './eras-model.ts';
import type { SweepRunOptions } from './run-sweep.ts';
import { erasFigure, erasMarkdown, type EraRow } from './eras-table.ts';
import { eraEnvoy, ensureEraEnvoys, type EnvoyMode } from './eras-envoy.ts';

/** Runs one era's experiment; `envoyVersion` is the Envoy release it must run on (undefined: the default). */
export type EraRunner = (opts: SweepRunOptions & { envoyVersion?: string }) => Promise<{ runDir: string; exitCode: number }>;

export interface ErasOptions {
  experimentFile: string;
  /** Istio releases to run (each stands for its era); default the newest release of every era. */
  eras?: string[];
  repeat?: number;
  timeScale?: number;
  set?: string[];
  outDir?: string;
  id?: string;
  quiet?: boolean;
  signal?: AbortSignal;
  log?: (m: string) => void;
  /** `shipped` (default): each era on the Envoy its Istio shipped where a wheel exists; `pinned`: the default Envoy. */
  envoy?: EnvoyMode;
  runner?: EraRunner;
}

export async function runEras(opts: ErasOptions): Promise<{ dir: string; rows: EraRow[]; exitCode: number }> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const { repeat, eras } = checkedEras(opts);
  // Every era's experiment is validated before anything runs.
  const specs = eras.map((e) =>
    readExperiment(opts.experimentFile, { set: [...(opts.set ?? []), `istio.version="${e.istio}"`], timeScale: opts.timeScale }),
  );
  const envoys = eras.map((e) => eraEnvoy(e.istio, opts.envoy ?? 'shipped'));
  // Installed on first use, but before any era runs: a wheel that fails verification stops everything.
  await ensureEraEnvoys(envoys, log);
  const name = specs[0].spec.metadata.name;
  const dir = path.resolve(
    opts.outDir ?? path.join('results', name),
    opts.id ?? `eras-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`,
  );
  fs.mkdirSync(dir, { recursive: true });
  const runner: EraRunner =
    opts.runner ?? (({ envoyVersion, ...o }) => runExperiment({ ...o, backend: createLocalBackend({ envoyVersion }) }));
  const rows: EraRow[] = [];
  let failed = false;
  for (const [i, e] of eras.entries()) {
    const summaries: Summary[] = [];
    for (let r = 1; r <= repeat; r++) {
      if (opts.signal?.aborted) break;
      log(
        `[${i * repeat + r}/${eras.length * repeat}] Istio ${e.istio} (era ${e.era.from}–${e.era.to}) on Envoy ${envoys[i].version ?? 'from ENVOY_BIN'}, repeat ${r}/${repeat}`,
      );
      try {
        const res = await runner({
          experimentFile: opts.experimentFile,
          set: [...(opts.set ?? []), `istio.version="${e.istio}"`],
          timeScale: opts.timeScale,
          outDir: path.join(dir, e.istio),
          runId: `r${String(r).padStart(2, '0')}`,
          quiet: opts.quiet,
          signal: opts.signal,
          envoyVersion: envoys[i].version,
        });
        // Just written by this harness, so every key must be there.
        summaries.push(readSummary(res.runDir, { complete: true }));
      } catch (err) {
        failed = true;
        log(`  Istio ${e.istio} repeat ${r} failed: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    const diagnosis = diagnose({ spec: specs[i].spec, peakRps: null });
    rows.push({
      istio: e.istio,
      era: e.era,
      summaries,
      findings: diagnosis.map((f) => f.id),
      findingTitles: diagnosis.map((f) => f.title),
      envoy: envoys[i],
      envoyUsed: envoysRan(path.join(dir, e.istio)),
    });
  }
  writeEraOutputs(dir, name, repeat, rows);
  log(`eras: ${path.relative(process.cwd(), path.join(dir, 'eras.md'))}`);
  return { dir, rows, exitCode: opts.signal?.aborted ? 130 : failed ? 1 : 0 };
}

/** `--repeat` and `--eras`, refused before anything is read or installed. */
function checkedEras(opts: ErasOptions): { repeat: number; eras: { istio: string; era: Era }[] } {
  const repeat = opts.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1)
    throw new SpilloverError({
      file: '--repeat',
      message: 'the repeat count must be a whole number ≥ 1',
      found: String(opts.repeat),
      fix: 'e.g. --repeat 3',
    });
  const eras = (opts.eras ?? istioEras().map((e) => e.istio)).map((v) => {
    if (!/^1\.\d+$/.test(v))
      throw new SpilloverError({
        file: '--eras',
        message: 'not an Istio release',
        expected: 'a list such as 1.6,1.29',
        found: v,
        fix: 'name releases 1.0 to 1.29',
      });
    return { istio: v, era: eraOf(v) };
  });
  return { repeat, eras };
}

function writeEraOutputs(dir: string, name: string, repeat: number, rows: EraRow[]): void {
  fs.writeFileSync(
    path.join(dir, 'eras.json'),
    `${JSON.stringify({ experiment: name, repeat, eras: rows.map(({ summaries, ...r }) => ({ ...r, runs: summaries.length })) }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(dir, 'eras.md'), erasMarkdown(name, repeat, rows));
  fs.mkdirSync(path.join(dir, 'figures'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'figures', 'eras.vl.json'), `${JSON.stringify(erasFigure(name, rows), null, 2)}\n`);
}

/**
 * The Envoy versions an era's runs actually ran, from each run's manifest (the backend records what
 * `envoy --version` printed), not from what was asked for.
 */
function envoysRan(eraDir: string): string[] {
  const seen = new Set<string>();
  for (const run of fs.existsSync(eraDir) ? fs.readdirSync(eraDir).sort() : []) {
    const m = path.join(eraDir, run, 'manifest.json');
    if (!fs.existsSync(m)) continue;
    const v = (JSON.parse(fs.readFileSync(m, 'utf8')) as { versions?: Record<string, string> }).versions?.envoy;
    if (v) seen.add(v);
  }
  return [...seen];
}

export type { Era };

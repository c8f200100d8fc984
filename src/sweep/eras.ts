/**
 * `spillover eras <experiment>`: the same experiment under each Istio semantics era src/mesh models
 * (eras-model.ts), each `repeat` times, then a side-by-side table and figure of the key outcomes --
 * first overflow, first ejection, redirected share, success ratio -- with, per era, what the
 * translation changes there and why the redirect does or does not happen (from the configuration
 * diagnosis for that era and the run's own summary).
 *
 * Layout: <out>/eras-<id>/<istio>/<r01..>/, eras.md, eras.json, figures/eras.vl.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError } from '../errors.ts';
import { readExperiment } from '../experiment/read-experiment.ts';
import { readRunRecord } from '../compare/run-set.ts';
import { diagnose } from '../analysis/diagnosis/pitfalls.ts';
import type { Summary } from '../analysis/summary.ts';
import { eraOf, istioEras, ENVOY_WHEELS_SERVED, type Era } from './eras-model.ts';
import type { Runner } from './run-sweep.ts';
import { erasFigure, erasMarkdown, type EraRow } from './eras-table.ts';

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
  runner?: Runner;
}

export async function runEras(opts: ErasOptions): Promise<{ dir: string; rows: EraRow[]; exitCode: number }> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
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
  // Every era's experiment is validated before anything runs.
  const specs = eras.map((e) =>
    readExperiment(opts.experimentFile, { set: [...(opts.set ?? []), `istio.version="${e.istio}"`], timeScale: opts.timeScale }),
  );
  const name = specs[0].spec.metadata.name;
  const dir = path.resolve(
    opts.outDir ?? path.join('results', name),
    opts.id ?? `eras-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`,
  );
  fs.mkdirSync(dir, { recursive: true });
  const runner: Runner =
    opts.runner ?? (async (o) => (await import('../orchestrate/run.ts')).runExperiment({ ...o, backend: o.backend as never }));
  const rows: EraRow[] = [];
  let failed = false;
  for (const [i, e] of eras.entries()) {
    const summaries: Summary[] = [];
    for (let r = 1; r <= repeat; r++) {
      if (opts.signal?.aborted) break;
      log(`[${i * repeat + r}/${eras.length * repeat}] Istio ${e.istio} (era ${e.era.from}–${e.era.to}) repeat ${r}/${repeat}`);
      try {
        const res = await runner({
          experimentFile: opts.experimentFile,
          set: [...(opts.set ?? []), `istio.version="${e.istio}"`],
          timeScale: opts.timeScale,
          outDir: path.join(dir, e.istio),
          runId: `r${String(r).padStart(2, '0')}`,
          quiet: opts.quiet,
          signal: opts.signal,
        });
        summaries.push(readRunRecord(res.runDir).summary as unknown as Summary);
      } catch (err) {
        failed = true;
        log(`  Istio ${e.istio} repeat ${r} failed: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    const findings = diagnose({ spec: specs[i].spec, peakRps: null }).map((f) => f.id);
    rows.push({
      istio: e.istio,
      era: e.era,
      summaries,
      findings,
      envoyUsed: summaries[0] ? String((summaries[0] as unknown as { versions?: Record<string, string> }).versions?.envoy ?? '') : '',
    });
  }
  const envoy = rows.flatMap((r) => r.summaries).length ? envoyOf(dir, rows) : '';
  for (const r of rows) r.envoyUsed = envoy;
  fs.writeFileSync(
    path.join(dir, 'eras.json'),
    `${JSON.stringify({ experiment: name, repeat, eras: rows.map(({ summaries, ...r }) => ({ ...r, runs: summaries.length })) }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(dir, 'eras.md'), erasMarkdown(name, repeat, rows, ENVOY_WHEELS_SERVED));
  fs.mkdirSync(path.join(dir, 'figures'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'figures', 'eras.vl.json'), `${JSON.stringify(erasFigure(name, rows), null, 2)}\n`);
  log(`eras: ${path.relative(process.cwd(), path.join(dir, 'eras.md'))}`);
  return { dir, rows, exitCode: opts.signal?.aborted ? 130 : failed ? 1 : 0 };
}

/** The Envoy the runs used, from the first run's manifest. */
function envoyOf(dir: string, rows: EraRow[]): string {
  for (const r of rows) {
    const d = path.join(dir, r.istio);
    for (const run of fs.existsSync(d) ? fs.readdirSync(d).sort() : []) {
      const m = path.join(d, run, 'manifest.json');
      if (fs.existsSync(m))
        return String((JSON.parse(fs.readFileSync(m, 'utf8')) as { versions?: Record<string, string> }).versions?.envoy ?? '');
    }
  }
  return '';
}

export type { Era };

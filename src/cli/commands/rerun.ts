/**
 * `spillover rerun <run-dir>`: run again exactly what a run ran -- same experiment file, overrides,
 * time scale and backend, from its manifest.
 *
 * Before starting, the experiment as it would resolve today is compared with the one the run
 * recorded, and the scenario script with its recorded hash. If either changed since, the rerun would
 * not repeat the run, so it is refused (unless --allow-changed) with the fields that differ.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Command } from 'commander';
import { SpilloverError } from '../../errors.ts';
import { RAW, type RunManifest } from '../../contracts/raw.ts';
import { repeatFlag } from '../numeric-flags.ts';

export interface RerunPlan {
  experimentFile: string;
  set: string[];
  timeScale: number;
  backend: string;
  /** What differs between the recorded run and a run started now; empty when it is a faithful repeat. */
  drift: string[];
}

/** Dotted paths where a and b differ (leaves only). */
export function diffPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) =>
      diffPaths(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        Array.isArray(a) ? `${prefix}[${k}]` : prefix ? `${prefix}.${k}` : k,
      ),
    );
  }
  return [`${prefix || '(root)'}: ${JSON.stringify(a) ?? 'nothing'} then, ${JSON.stringify(b) ?? 'nothing'} now`];
}

export async function planRerun(runDir: string): Promise<RerunPlan> {
  const manifestFile = path.join(runDir, RAW.manifest);
  if (!fs.existsSync(manifestFile)) {
    throw new SpilloverError({
      file: manifestFile,
      message: 'no run manifest here',
      expected: 'a run directory (results/<experiment>/<run-id>/)',
      fix: 'name a run directory; list them with `ls results/<experiment>/`',
    });
  }
  let m: Partial<RunManifest>;
  try {
    m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Partial<RunManifest>;
  } catch (e) {
    throw new SpilloverError({
      file: manifestFile,
      message: 'the run manifest is not valid JSON',
      expected: 'the manifest.json a run wrote',
      found: (e as Error).message,
      fix: 'restore it from a copy, or run the experiment file again with the overrides you need',
    });
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) {
    throw new SpilloverError({
      file: manifestFile,
      message: 'the run manifest is not a JSON object',
      expected: 'the manifest.json a run wrote',
      found: JSON.stringify(m)?.slice(0, 60),
      fix: 'restore it from a copy',
    });
  }
  const resolved = (m.resolved ?? {}) as Record<string, unknown> & { experimentFile?: string; scenarioFile?: string };
  if (!resolved.experimentFile) {
    throw new SpilloverError({
      file: manifestFile,
      path: 'resolved.experimentFile',
      message: 'the manifest does not say which experiment file ran',
      fix: 'run the experiment file again with the overrides listed in the manifest',
    });
  }
  const experimentFile = path.resolve(resolved.experimentFile);
  if (!fs.existsSync(experimentFile)) {
    throw new SpilloverError({
      file: manifestFile,
      path: 'resolved.experimentFile',
      message: 'the experiment file of this run is not there',
      found: resolved.experimentFile,
      fix: 'run from the directory the run was started in (usually the repository root)',
    });
  }
  const plan: RerunPlan = { experimentFile, set: m.overrides ?? [], timeScale: m.timeScale ?? 1, backend: m.backend ?? 'local', drift: [] };

  const { readExperiment } = await import('../../experiment/read-experiment.ts');
  const now = readExperiment(experimentFile, { set: plan.set, timeScale: plan.timeScale });
  const { experimentFile: _f, scenarioFile: _s, ...then } = resolved;
  plan.drift.push(...diffPaths(JSON.parse(JSON.stringify(then)), JSON.parse(JSON.stringify(now.spec))).map((d) => `experiment ${d}`));
  if (m.scenarioSha256) {
    const sha = crypto.createHash('sha256').update(fs.readFileSync(now.scenarioPath)).digest('hex');
    if (sha !== m.scenarioSha256)
      plan.drift.push(
        `scenario ${path.relative(process.cwd(), now.scenarioPath)} changed since the run (sha256 ${m.scenarioSha256.slice(0, 12)}… then, ${sha.slice(0, 12)}… now)`,
      );
  }
  return plan;
}

export function register(program: Command): void {
  program
    .command('rerun')
    .description('repeat a run from its manifest: same experiment, overrides, time scale and backend')
    .argument('<run-dir>', 'a run directory, e.g. results/peak-load/<run-id>')
    .option('--repeat <n>', 'rerun it n times and aggregate', repeatFlag())
    .option('--out <dir>', 'parent directory of the new run directory (default results/<experiment>)')
    .option('--allow-changed', 'rerun even if the experiment or scenario changed since the run')
    .option('--dry-run', 'print what would run; start nothing')
    .option('--quiet', 'print only the run directory and errors')
    .action(async (runDir: string, flags: { repeat?: number; out?: string; allowChanged?: boolean; dryRun?: boolean; quiet?: boolean }) => {
      const plan = await planRerun(runDir);
      if (plan.drift.length && !flags.allowChanged) {
        throw new SpilloverError({
          file: path.join(runDir, RAW.manifest),
          message: `this run cannot be repeated as it was: ${plan.drift.length} thing${plan.drift.length === 1 ? '' : 's'} changed since\n  ${plan.drift.join('\n  ')}`,
          fix: 'restore the experiment/scenario (e.g. git checkout <gitSha from the manifest>), or pass --allow-changed',
        });
      }
      for (const d of plan.drift) process.stderr.write(`warning: ${d}\n`);
      const cmd = `spillover run ${path.relative(process.cwd(), plan.experimentFile)}${plan.set.map((s) => ` --set '${s}'`).join('')}${plan.timeScale !== 1 ? ` --time-scale ${plan.timeScale}` : ''} --backend ${plan.backend}`;
      if (flags.dryRun) {
        process.stdout.write(`${cmd}\n`);
        return;
      }
      if (!flags.quiet) process.stderr.write(`rerun: ${cmd}\n`);
      const { runFromCli } = await import('../run-options.ts');
      process.exitCode = await runFromCli(plan.experimentFile, {
        backend: plan.backend,
        set: plan.set,
        timeScale: plan.timeScale,
        out: flags.out,
        repeat: flags.repeat,
        quiet: flags.quiet,
      });
    });
}

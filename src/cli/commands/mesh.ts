/**
 * `spillover mesh diff <experiment>`: compare src/mesh's configuration of every proxy with what
 * istiod itself generates for the same resources (tools/istiod-config, built on first use). Exit 0
 * when every difference is a known one, 1 when any is not, 2 on bad input.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { SpilloverError } from '../../errors.ts';
import { readExperiment } from '../../experiment/read-experiment.ts';
import type { MeshPlan } from '../../mesh/plan.ts';
import { translate } from '../../mesh/translate.ts';
import { diffMesh, formatMeshDiff, oursXds, type MeshDiff } from '../../oracle/diff.ts';
import { oracleComparable } from '../../oracle/era.ts';
import { createLocalBackend } from '../../runner/backends/local.ts';
import { istiodXdsFor } from '../../runner/istiod-config.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command): void {
  const mesh = program.command('mesh').description('inspect the Istio -> Envoy translation');
  mesh
    .command('diff')
    .description("compare src/mesh's config of every proxy with istiod's own (builds tools/istiod-config on first use)")
    .argument('<experiment>', 'experiment name (experiments/<name>.yaml) or file')
    .option('--set <path=value>', 'override a field of the experiment (repeatable)', collect, [])
    .option('--verbose', 'also list every known difference')
    .option('--json <file>', 'write every difference as JSON')
    .action(async (experiment: string, flags: { set: string[]; verbose?: boolean; json?: string }) => {
      const plan = await experimentPlan(resolveExperimentFile(experiment), flags.set);
      const result = await diffPlan(plan, (m) => process.stderr.write(`${m}\n`));
      if (!result) return;
      process.stdout.write(formatMeshDiff(experiment, result.diff, flags));
      process.stdout.write(`  (istiod: istio.io/istio ${result.istio}; src/mesh era: Istio ${plan.istioVersion})\n`);
      if (flags.json) fs.writeFileSync(flags.json, JSON.stringify({ experiment, istio: result.istio, ...result.diff }, null, 2) + '\n');
      process.exitCode = result.diff.unexplained ? 1 : 0;
    });
}

export function resolveExperimentFile(name: string): string {
  if (fs.existsSync(name) && fs.statSync(name).isFile()) return name;
  const file = path.join('experiments', `${name}.yaml`);
  if (fs.existsSync(file)) return file;
  throw new SpilloverError({
    file: name,
    message: 'no such experiment',
    expected: 'an experiment file, or a name of experiments/<name>.yaml',
    fix: 'run from the repository root, or pass the file path',
  });
}

/** The local backend's mesh plan for an experiment, without starting anything (its dry run, in a temporary directory). */
export async function experimentPlan(file: string, set: string[] = []): Promise<MeshPlan> {
  const exp = readExperiment(file, { set });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-mesh-diff-'));
  try {
    const dry = await createLocalBackend().plan({
      experiment: exp,
      runDir,
      runId: 'mesh-diff',
      signal: new AbortController().signal,
      log: () => {},
      event: () => {},
    });
    if (!dry.meshPlan) throw new SpilloverError({ message: 'the local backend gave no mesh plan' }, 1);
    return dry.meshPlan;
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

/** undefined when the plan's Istio era is not the oracle's (printed, not an error). */
export async function diffPlan(plan: MeshPlan, progress: (m: string) => void): Promise<{ diff: MeshDiff; istio: string } | undefined> {
  const era = oracleComparable(plan.istioVersion);
  if (!era.ok) {
    progress(`mesh diff: skipped: ${era.why}`);
    return undefined;
  }
  const mine = translate(plan);
  const x = await istiodXdsFor(plan, { ours: oursXds(mine), onProgress: progress });
  return { diff: diffMesh(plan, x.ours, x.proxies), istio: x.istio };
}

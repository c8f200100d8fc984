/**
 * CI's oracle step: `spillover mesh diff` on every golden translation case (test/mesh/golden-cases.ts)
 * and every shipped experiment (experiments/*.yaml, experiments/istio-tasks/) and the general
 * topology's fixtures (test/fixtures/topology/). Builds tools/istiod-config on first use.
 * Exit 1 when any of them has a difference not in src/oracle/known-differences.ts.
 *
 *   node --import tsx scripts/mesh-diff-all.ts [--verbose]
 */
import fs from 'node:fs';
import path from 'node:path';
import { GOLDEN_CASES } from '../test/mesh/golden-cases.ts';
import { diffPlan, experimentPlan } from '../src/cli/commands/mesh.ts';
import { formatMeshDiff } from '../src/oracle/diff.ts';
import type { MeshPlan } from '../src/mesh/plan.ts';

const verbose = process.argv.includes('--verbose');
const log = (m: string) => process.stderr.write(`${m}\n`);
const targets: Array<{ name: string; plan: () => Promise<MeshPlan> }> = [
  ...GOLDEN_CASES.map((c) => ({ name: `golden ${c.name}`, plan: async () => c.plan() })),
  // The shipped experiments (the Istio tasks in their folder too) and the general topology's golden fixtures.
  ...['experiments', 'experiments/istio-tasks', 'test/fixtures/topology'].flatMap((dir) =>
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => path.join(dir, f))
      .map((f) => ({ name: `experiment ${path.relative('experiments', f)}`, plan: () => experimentPlan(f) })),
  ),
];

let failed = 0;
let skipped = 0;
for (const t of targets) {
  const plan = await t.plan();
  const r = await diffPlan(plan, (m) => log(`${t.name}: ${m}`)).catch((e: Error) => {
    // istiod refusing what src/mesh accepted is a difference too (usually a validation rule).
    process.stdout.write(`${t.name}: FAILED: ${e.message}\n`);
    failed++;
    return null;
  });
  if (r === null) continue;
  if (!r) {
    skipped++;
    continue;
  }
  const text = formatMeshDiff(t.name, r.diff, { verbose });
  process.stdout.write(r.diff.unexplained || verbose ? text : `${text.split('\n')[0]}\n`);
  if (r.diff.unexplained) failed++;
}
process.stdout.write(
  `mesh diff: ${targets.length - skipped} compared, ${failed} with unexplained differences, ${skipped} skipped (Istio era older than the oracle)\n`,
);
process.exit(failed ? 1 : 0);

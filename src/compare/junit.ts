/**
 * The comparison as JUnit XML, for CI dashboards: one test case per key figure and per threshold.
 * Informational figures and unchanged figures pass; a gated figure that moved and a failed threshold
 * fail, with the change in the failure message.
 */
import junitModule, { type Builder } from 'junit-report-builder';
import type { ComparisonResult } from './compare.ts';
import { formatActual } from './expect.ts';

// The package's types declare an ES default export, but its CommonJS entry assigns the builder to
// module.exports, which is what Node hands to a default import.
const junit = junitModule as unknown as Builder;

export function comparisonJUnit(r: ComparisonResult, names: { base: string; cand: string }): string {
  const builder = junit.newBuilder();
  const suite = builder.testSuite().name(`spillover compare ${r.experiment.cand}`).property('baseline', names.base).property('candidate', names.cand);
  for (const f of r.figures) {
    const tc = suite.testCase().className(`${r.experiment.cand}.figures`).name(f.field);
    const med = (m: number | null) => (m === Infinity ? 'never' : m === null ? 'none' : String(m));
    tc.standardOutput(`${f.label}: ${f.note}; baseline median ${med(f.base.median)}, candidate median ${med(f.cand.median)}, p=${f.p.toFixed(4)}`);
    if (f.changed && f.gate && !f.improved) tc.failure(`${f.label} ${f.note} (p=${f.p.toFixed(4)})`, 'changed');
  }
  for (const e of r.expectations) {
    const tc = suite.testCase().className(`${r.experiment.cand}.expect`).name(`${e.field} ${e.condition}`);
    tc.standardOutput(`typical value ${formatActual(e.field, e.actual)}; ${e.runsOk}/${e.runs} runs meet it`);
    if (!e.ok) tc.failure(`${e.field} ${e.condition} not met: typical value ${formatActual(e.field, e.actual)}`, 'threshold');
  }
  return builder.build();
}

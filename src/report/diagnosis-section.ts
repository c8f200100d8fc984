/**
 * The report's "Configuration diagnosis": the pitfalls src/diagnosis finds in the run's own resolved
 * experiment, each with what it will do, its source, and whether this run shows it.
 */
import type { Analysis } from '../analysis/analyze.ts';
import { observe, type Observation } from '../analysis/diagnosis/observed.ts';
import { diagnose, type Finding } from '../analysis/diagnosis/pitfalls.ts';

export interface DiagnosisRow {
  finding: Finding;
  observed: Observation;
}

export function diagnosisRows(a: Analysis): DiagnosisRow[] {
  // The schedule's peak (per bucket) stands in for the scenario's peak rate; a closed loop has none.
  const peak = a.summary.loadModel === 'closed' ? null : a.timeseries.reduce((m, r) => Math.max(m, r.target_rps), 0) || null;
  return diagnose({ spec: a.resolved, peakRps: peak }).map((finding) => ({ finding, observed: observe(finding, a.summary) }));
}

export const observedWords = (o: Observation) =>
  `${o.happened === true ? 'happened' : o.happened === false ? 'did not happen' : 'this run cannot tell'}: ${o.evidence}`;

export function diagnosisMarkdown(rows: DiagnosisRow[]): string[] {
  if (!rows.length) return ['No known pitfall found in this configuration.'];
  return rows.map(
    (r) => `- **${r.finding.title}.** ${r.finding.effect} _Source: ${r.finding.source}._ **In this run: ${observedWords(r.observed)}.**`,
  );
}

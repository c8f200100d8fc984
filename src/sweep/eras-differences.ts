/**
 * What differs between neighbouring rows of the eras table, and the change behind it: the
 * configuration diagnosis's findings that appear or disappear (the translation changes that touch
 * this experiment), the other modelled translation changes, and the Envoy changes between the two
 * Envoys that ran. An outcome difference with neither a translation nor an Envoy change behind it is
 * called noise, which `--repeat` measures.
 */
import type { Summary } from '../contracts/summary.ts';
import { envoyChangesBetween } from './envoy-changes.ts';
import { translationChanges } from './eras-model.ts';
import type { EraRow } from './eras-row.ts';

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const nums = (s: Summary[], f: (x: Summary) => number | null) => s.map(f).filter((x): x is number => x !== null);
/** 'yes' in every run, 'no' in none, else how many: a split is run-to-run variation, not an era difference. */
type Seen = 'yes' | 'no' | string;
const seen = (s: Summary[], f: (x: Summary) => boolean): Seen => {
  const n = s.filter(f).length;
  return n === s.length ? 'yes' : n === 0 ? 'no' : `in ${n}/${s.length} runs`;
};
const definite = (x: Seen) => x === 'yes' || x === 'no';
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** The outcomes of a row that the comparison looks at. */
function outcomes(r: EraRow) {
  const s = r.summaries;
  const success = nums(s, (x) => x.successRatio);
  return {
    redirect: seen(s, (x) => x.events.redirectOnsetS !== null),
    ejected: seen(s, (x) => x.events.firstEjectionS !== null),
    overflowed: seen(s, (x) => x.events.firstOverflowS !== null),
    blocked: seen(s, (x) => Boolean(x.blockedEjections)),
    success: mean(success),
    successRange: success.length ? [Math.min(...success), Math.max(...success)] : null,
  };
}

const EVENTS = [
  ['redirect', 'redirect'],
  ['ejected', 'A ejected'],
  ['blocked', 'ejections refused by maxEjectionPercent'],
  ['overflowed', 'circuit-breaker overflow'],
] as const;

/** Events that happen in some runs of a row and not in others: variation, named but not explained. */
export function splitEvents(a: EraRow, b: EraRow): string[] {
  const x = outcomes(a);
  const y = outcomes(b);
  return EVENTS.flatMap(([k, words]) => [
    ...(definite(x[k]) ? [] : [`${words} ${x[k]} of ${a.istio}`]),
    ...(definite(y[k]) ? [] : [`${words} ${y[k]} of ${b.istio}`]),
  ]);
}

/** The outcome differences between two rows, in words; empty when they agree. */
export function outcomeDifferences(a: EraRow, b: EraRow): string[] {
  const x = outcomes(a);
  const y = outcomes(b);
  const out: string[] = [];
  for (const [k, words] of EVENTS) if (definite(x[k]) && definite(y[k]) && x[k] !== y[k]) out.push(`${words} ${x[k]} → ${y[k]}`);
  // Success ratios differ only when the ranges over repeats do not overlap and the means are 5 points apart.
  if (x.success !== null && y.success !== null && Math.abs(x.success - y.success) >= 0.05) {
    const apart = x.successRange![1] < y.successRange![0] || y.successRange![1] < x.successRange![0];
    if (apart) out.push(`success ratio ${pct(x.success)} → ${pct(y.success)}`);
  }
  return out;
}

/** One line per neighbouring pair: what differs, and which translation or Envoy change causes it. */
export function erasDifferences(rows: EraRow[]): string[] {
  const lines: string[] = [];
  for (let i = 1; i < rows.length; i++) {
    const [a, b] = [rows[i - 1], rows[i]];
    const head = `Istio ${a.istio} (Envoy ${a.envoyUsed.join(', ') || 'not run'}) → ${b.istio} (Envoy ${b.envoyUsed.join(', ') || 'not run'})`;
    if (!a.summaries.length || !b.summaries.length) {
      lines.push(`${head}: not compared, an era has no completed run.`);
      continue;
    }
    const diffs = outcomeDifferences(a, b);
    const gained = b.findingTitles.filter((t, k) => !a.findings.includes(b.findings[k]));
    const lost = a.findingTitles.filter((t, k) => !b.findings.includes(a.findings[k]));
    const translation = translationChanges(a.istio, b.istio);
    const envoyA = a.envoyUsed[0];
    const envoyB = b.envoyUsed[0];
    const envoyDiffers = envoyA !== undefined && envoyB !== undefined && envoyA !== envoyB;
    const envoyChanges = envoyDiffers ? envoyChangesBetween(envoyA, envoyB) : [];
    const causes: string[] = [];
    if (gained.length) causes.push(`the diagnosis finds in ${b.istio} only: ${gained.join('; ')}`);
    if (lost.length) causes.push(`the diagnosis finds in ${a.istio} only: ${lost.join('; ')}`);
    const bearing = envoyChanges.filter((c) => c.outcomes);
    if (bearing.length) causes.push(`Envoy ${envoyA} → ${envoyB}: ${bearing.map((c) => `${c.what} (${c.envoy}, ${c.source})`).join('; ')}`);
    const context: string[] = [];
    if (translation.length) context.push(`translation changes: ${translation.join('; ')}`);
    if (envoyDiffers && !bearing.length)
      context.push(
        `Envoy ${envoyA} → ${envoyB}: no change listed in src/sweep/envoy-changes.ts bears on these outcomes${envoyChanges.length ? ` (listed: ${envoyChanges.map((c) => c.what).join('; ')})` : ''}`,
      );
    if (!envoyDiffers) context.push(`same Envoy (${envoyA ?? 'unknown'})`);
    const split = splitEvents(a, b);
    const varies = split.length ? ` Varies between runs: ${split.join(', ')}.` : '';
    if (!diffs.length) {
      lines.push(`${head}: same key outcomes${context.length ? `, although ${context.join('; ')}` : ''}.${varies}`);
    } else if (!causes.length && !translation.length && !envoyDiffers) {
      lines.push(
        `${head}: ${diffs.join(', ')}. Neither the translation nor the Envoy differs: run-to-run noise (see the ranges; use --repeat).${varies}`,
      );
    } else if (!causes.length) {
      lines.push(
        `${head}: ${diffs.join(', ')}. No diagnosis finding differs, so the cause is one of: ${context.join('; ')} -- or run-to-run noise (use --repeat).${varies}`,
      );
    } else {
      lines.push(
        `${head}: ${diffs.join(', ')}. Cause: ${causes.join('; ')}${context.length ? `. Also: ${context.join('; ')}` : ''}.${varies}`,
      );
    }
  }
  if (!lines.length) lines.push('Only one era was run: nothing to compare.');
  return lines;
}

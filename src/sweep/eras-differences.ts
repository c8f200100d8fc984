/**
 * What differs between neighbouring rows of the eras table, and the change behind it: the
 * configuration diagnosis's findings that appear or disappear (the translation changes that touch
 * this experiment), the other modelled translation changes, and the Envoy changes between the two
 * Envoys that ran. An outcome difference with neither a translation nor an Envoy change behind it is
 * called noise, which `--repeat` measures.
 */
import type { Summary } from '../analysis/summary.ts';
import { envoyChangesBetween } from './envoy-changes.ts';
import { translationChanges } from './eras-model.ts';
import type { EraRow } from './eras-row.ts';

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const nums = (s: Summary[], f: (x: Summary) => number | null) => s.map(f).filter((x): x is number => x !== null);
const majority = (s: Summary[], f: (x: Summary) => boolean) => s.filter(f).length * 2 > s.length;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** The outcomes of a row that the comparison looks at. */
function outcomes(r: EraRow) {
  const s = r.summaries;
  const success = nums(s, (x) => x.successRatio);
  return {
    redirect: majority(s, (x) => x.events.redirectOnsetS !== null),
    ejected: majority(s, (x) => x.events.firstEjectionS !== null),
    overflowed: majority(s, (x) => x.events.firstOverflowS !== null),
    blocked: majority(s, (x) => Boolean(x.blockedEjections)),
    success: mean(success),
    successRange: success.length ? [Math.min(...success), Math.max(...success)] : null,
  };
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** The outcome differences between two rows, in words; empty when they agree. */
export function outcomeDifferences(a: EraRow, b: EraRow): string[] {
  const x = outcomes(a);
  const y = outcomes(b);
  const out: string[] = [];
  if (x.redirect !== y.redirect) out.push(`redirect ${yesNo(x.redirect)} → ${yesNo(y.redirect)}`);
  if (x.ejected !== y.ejected) out.push(`A ejected ${yesNo(x.ejected)} → ${yesNo(y.ejected)}`);
  if (x.blocked !== y.blocked) out.push(`ejections refused by maxEjectionPercent ${yesNo(x.blocked)} → ${yesNo(y.blocked)}`);
  if (x.overflowed !== y.overflowed) out.push(`circuit-breaker overflow ${yesNo(x.overflowed)} → ${yesNo(y.overflowed)}`);
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
    if (!diffs.length) {
      lines.push(`${head}: same key outcomes${context.length ? `, although ${context.join('; ')}` : ''}.`);
    } else if (!causes.length && !translation.length && !envoyDiffers) {
      lines.push(
        `${head}: ${diffs.join(', ')}. Neither the translation nor the Envoy differs: run-to-run noise (see the ranges; use --repeat).`,
      );
    } else {
      const why = causes.length ? causes.join('; ') : `no diagnosis finding changes, so the candidates are the ${context.join('; ')}`;
      lines.push(`${head}: ${diffs.join(', ')}. Cause: ${why}${causes.length && context.length ? `. Also: ${context.join('; ')}` : ''}.`);
    }
  }
  if (!lines.length) lines.push('Only one era was run: nothing to compare.');
  return lines;
}

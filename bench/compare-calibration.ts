/**
 * Calibration of `spillover compare`'s change rule (benchmark, not a test): how often do two sets
 * of runs of the SAME setup get flagged (false alarms), and how often is a real shift caught (power)?
 * Synthetic log-normal figures with the run-to-run spread measured on peak-load (--repeat 5, time
 * scale 0.1): CV ≈ 4 % for event times, ≈ 15 % for fractions, ≈ 40 % for latency percentiles.
 *
 *   node --import tsx bench/compare-calibration.ts [--trials 4000] [--n 5]
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { compareSets } from '../src/compare/compare.ts';
import { KEY_FIGURES } from '../src/compare/key-figures.ts';
import type { RunSet } from '../src/compare/run-set.ts';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const trials = arg('--trials', 4000);
const n = arg('--n', 5);
const rng = xoroshiro128plus(20261125);
const normal = () => Math.sqrt(-2 * Math.log(1 - uniformFloat64(rng))) * Math.cos(2 * Math.PI * uniformFloat64(rng));

// field -> [median, CV] as measured on peak-load at time scale 0.1.
const PROFILE: Record<string, [number, number]> = {
  'events.firstOverflowS': [2.9, 0.05],
  'events.firstEjectionS': [2.7, 0.04],
  'events.redirectOnsetS': [2.7, 0.04],
  'events.redirectEndS': [8.8, 0.01],
  'events.noHealthyUpstreamS': [4.2, 0.05],
  'events.recoveryS': [8.8, 0.01],
  loadAtFirstEjectionRps: [193, 0.02],
  successRatio: [0.95, 0.15],
  redirectedFraction: [0.72, 0.12],
  'latencyMs.p50': [39, 0.25],
  'latencyMs.p95': [110, 0.45],
  'latencyMs.p99': [170, 0.55],
  'latencyMs.max': [220, 0.35],
};

function set(shift: Record<string, number>): RunSet {
  const runs = Array.from({ length: n }, (_, i) => {
    const summary: Record<string, unknown> = { experiment: 'sim', events: {}, latencyMs: {} };
    for (const [field, [median, cv]] of Object.entries(PROFILE)) {
      const v = median * (shift[field] ?? 1) * Math.exp(cv * normal());
      const [a, b] = field.split('.');
      if (b) (summary[a] as Record<string, number>)[b] = v;
      else summary[a] = v;
    }
    return { source: `r${i}`, runId: `r${i}`, summary };
  });
  return { source: 'sim', kind: 'repeats', experiment: 'sim', runs, expect: {} };
}

function rate(shift: Record<string, number>, rule: 'mann-whitney only' | 'spillover'): { any: number; perFigure: Map<string, number> } {
  let any = 0;
  const perFigure = new Map<string, number>();
  for (let t = 0; t < trials; t++) {
    const r = compareSets(set({}), set(shift), { minDeltaPct: rule === 'spillover' ? 5 : 0 });
    const flagged = r.figures.filter((f) => f.gate && (rule === 'spillover' ? f.changed : f.significant));
    if (flagged.length) any++;
    for (const f of flagged) perFigure.set(f.field, (perFigure.get(f.field) ?? 0) + 1);
  }
  return { any: any / trials, perFigure };
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const gated = KEY_FIGURES.filter((f) => f.gate).length;
console.log(`${trials} trials, ${n} vs ${n} runs, ${gated} gated figures`);
for (const rule of ['mann-whitney only', 'spillover'] as const) {
  const nul = rate({}, rule);
  console.log(`\n${rule}: identical setups flagged in ${pct(nul.any)} of comparisons`);
  for (const [shiftName, shift] of [
    ['first ejection +10 %', { 'events.firstEjectionS': 1.1 }],
    ['first ejection +25 %', { 'events.firstEjectionS': 1.25 }],
    ['redirected fraction −30 %', { redirectedFraction: 0.7 }],
  ] as const) {
    const r = rate(shift, rule);
    const field = Object.keys(shift)[0];
    console.log(`  power, ${shiftName}: caught in ${pct((r.perFigure.get(field) ?? 0) / trials)}`);
  }
}

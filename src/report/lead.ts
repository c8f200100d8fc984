/**
 * The report's first lines: how the run ended, and whether the machine was contended. A reader must
 * know both before trusting any number below them (README: "contention moves the results").
 */
import type { Summary } from '../analysis/summary.ts';
import { s1 } from './words.ts';

export function leadLines(s: Summary): string[] {
  const out: string[] = [];
  const e = s.ending;
  const got =
    e.lastRequestS !== null
      ? ` The last request was sent at ${s1(e.lastRequestS)}; everything below covers only the part that ran.`
      : ' No request was recorded.';
  if (e.ending === 'completed') out.push('The run completed: the whole scenario ran and the harness finished normally.');
  else if (e.ending === 'interrupted') out.push(`The run was INTERRUPTED (${e.reason}) before it finished.${got}`);
  else if (e.ending === 'killed')
    out.push(`The run was KILLED: ${e.reason}.${got} Files may end mid-record; the last half-written line of each was skipped.`);
  else out.push(`The run FAILED: ${e.reason}.${got}`);
  if (e.ending !== 'completed') {
    if (e.endedAt) out.push(`It ended at ${e.endedAt}${e.lastDataS !== null ? `; its last data were written at ${s1(e.lastDataS)}` : ''}.`);
    if (e.missing.length) out.push(`Missing from the data: ${e.missing.join('; ')}.`);
  }
  const c = s.contention;
  if (c.contended)
    out.push(
      `Contention caveat: ${c.reasons.join('; ')}. Times and rates below may reflect the machine as much as the mesh; repeat the run on a quiet machine (--repeat shows the spread).`,
    );
  else if (c.startLagP99Ms !== null)
    out.push(
      `No sign of contention: the driver's p99 start lag was ${c.startLagP99Ms} ms${c.loadavgPerCpu !== null ? `, load average ${c.loadavgPerCpu} per CPU` : ''}${c.stealPercent !== null ? `, CPU steal ${c.stealPercent} %` : ''}.`,
    );
  return out;
}

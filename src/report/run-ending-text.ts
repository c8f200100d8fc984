/**
 * The report's first words for a run that did not end as designed (issue 11): how it ended, when, and
 * what its data lack. Kept apart from the narrative (narrative.ts) so either can change alone.
 */
import type { RunEnding } from '../analysis/run-ending.ts';

const HOW: Record<RunEnding['how'], string> = {
  completed: '',
  interrupted: 'This run was interrupted before it finished.',
  failed: 'This run failed.',
  killed: 'This run was killed (SIGKILL, or the harness crashed): it never recorded its own end.',
  unrecorded: '',
};

/** Heading and paragraph, or undefined when the run completed as designed (or was not a harness run). */
export function runEndingText(e: RunEnding | undefined): { title: string; text: string } | undefined {
  if (!e || e.complete || e.how === 'unrecorded') return undefined;
  const parts = [HOW[e.how]];
  if (e.reason) parts.push(`Reason: ${e.reason}.`);
  if (e.how === 'killed') {
    if (e.endedAt) parts.push(`Its last data were written at ${e.lastDataS} s (${e.endedAt}).`);
  } else if (e.endedAt) parts.push(`It ended at ${e.endedAt}${e.lastDataS !== null ? `, its last data at ${e.lastDataS} s` : ''}.`);
  if (e.missing.length) parts.push(`Missing: ${e.missing.join('; ')}.`);
  parts.push('Everything below describes only the part that was recorded.');
  return { title: 'This run did not finish', text: parts.join(' ') };
}

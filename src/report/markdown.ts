/** report.md: the narrative, the summary table, the figures (PNG) and the caveats. */
import type { Analysis } from '../analysis/analyze.ts';
import type { Figure } from './figures.ts';
import { narrative } from './narrative.ts';
import { summaryRows } from './tables.ts';
import { clientTableMarkdown } from './client-table.ts';
import { leadLines } from './lead.ts';
import { diagnosisMarkdown, diagnosisRows } from './diagnosis-section.ts';
import { GLOSSARY } from './words.ts';

const esc = (s: string) => s.replace(/\|/g, '\\|');

export function reportMarkdown(a: Analysis, figures: Figure[]): string {
  const s = a.summary;
  const lines: string[] = [`# ${s.experiment}: run ${s.runId}`, ''];
  for (const p of leadLines(s)) lines.push(`**${p}**`, '');
  lines.push('## What happened', '');
  for (const p of narrative(a)) lines.push(`- ${p}`);
  lines.push('', `_${GLOSSARY}_`);
  lines.push('', '## Configuration diagnosis', '', ...diagnosisMarkdown(diagnosisRows(a)));
  lines.push('', '## Summary', '', '| | |', '|---|---|');
  for (const [k, v] of summaryRows(s)) lines.push(`| ${esc(k)} | ${esc(v)} |`);
  lines.push(...clientTableMarkdown(s));
  for (const f of figures) lines.push('', `## ${f.title}`, '', `![${f.title}](figures/${f.name}.png)`, '', f.caption);
  lines.push('', '## Caveats', '');
  if (s.warnings.length) for (const w of s.warnings) lines.push(`- ${w}`);
  else lines.push('- The translation reported no caveats for this run.');
  lines.push(
    '',
    '## Files',
    '',
    '- `summary.json`: the numbers above, stable keys.',
    '- `timeseries.csv`: per bucket offered/achieved load, served by A/B, outcomes, latency percentiles.',
    '- `events.csv`: every detected event with the load at that moment and the setting that caused it.',
    '- `requests.csv`: every request as the load driver saw it.',
    '- `figures/*.vl.json` (vega-lite, data inline), `figures/*.svg`, `figures/*.png`.',
    '',
  );
  return lines.join('\n');
}

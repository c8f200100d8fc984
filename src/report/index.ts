/**
 * `writeReport(runDir)`: every output of a run regenerated from its raw data. Byte-identical for the
 * same input: stable ordering, rounded numbers, no clock reads (the manifest holds the only stamps).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AnalyzeOptions } from '../analysis/analyze.ts';
import { analyzeRun, readManifest } from '../analysis/read-run.ts';
import { SUMMARY_FILE, type Summary } from '../contracts/summary.ts';
import { TIMESERIES_FILE } from '../contracts/timeseries.ts';
import { eventsCsv, requestsCsvWriter, timeseriesCsv } from './csv.ts';
import { servedByCsv } from '../analysis/mesh-summary.ts';
import { buildFigures } from './figures.ts';
import { reportHtml } from './html.ts';
import { reportMarkdown } from './markdown.ts';
import { renderSvg, svgToPng } from './render.ts';
import { abandon, commit, tempFor, writeFileAtomic } from './atomic-write.ts';

export type { Summary } from '../contracts/summary.ts';

export interface ReportOptions extends AnalyzeOptions {
  /** Skip PNG rendering (the slowest step) when only data files are wanted. */
  png?: boolean;
}

export async function writeReport(
  runDir: string,
  opts: ReportOptions = {},
): Promise<{ files: string[]; reportPath: string; summary: Summary }> {
  await mkdir(path.join(runDir, 'figures'), { recursive: true });
  // requests.csv is written while the requests stream past the analysis: one parse for both.
  const csvFile = path.join(runDir, 'requests.csv');
  const csvTemp = tempFor(csvFile);
  const clientColumn = Boolean((await readManifest(runDir).catch(() => undefined))?.topology?.clients);
  const requestsCsv = requestsCsvWriter(csvTemp, { clientColumn });
  let analysis;
  try {
    ({ analysis } = await analyzeRun(runDir, opts, { onRequests: (b) => requestsCsv.write(b) }));
  } catch (e) {
    await requestsCsv.end().catch(() => undefined);
    await abandon(csvTemp);
    throw e;
  }
  await requestsCsv.end();
  await commit(csvTemp, csvFile);
  const files: string[] = [csvFile];
  // Each output complete or absent, whatever interrupts this (atomic-write.ts).
  const put = async (rel: string, data: string | Buffer) => {
    const p = path.join(runDir, rel);
    await writeFileAtomic(p, data);
    files.push(p);
  };
  await put(SUMMARY_FILE, JSON.stringify(analysis.summary, null, 2) + '\n');
  await put(TIMESERIES_FILE, timeseriesCsv(analysis.timeseries));
  await put('events.csv', eventsCsv(analysis.events));
  if (analysis.servedBy) await put('served-by.csv', servedByCsv(analysis.servedBy));
  const figures = buildFigures(analysis);
  for (const f of figures) {
    await put(`figures/${f.name}.vl.json`, JSON.stringify(f.spec, null, 2) + '\n');
    const svg = await renderSvg(f.spec);
    await put(`figures/${f.name}.svg`, svg);
    if (opts.png !== false) await put(`figures/${f.name}.png`, svgToPng(svg));
  }
  await put('report.md', reportMarkdown(analysis, figures));
  await put('report.html', reportHtml(analysis, figures));
  return { files, reportPath: path.join(runDir, 'report.html'), summary: analysis.summary };
}

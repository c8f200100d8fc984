/**
 * Phase 5, analyse: CSV, figures and the report, from the raw data alone (the same code path as
 * `spillover report <run-dir>`). A report that cannot be written fails the run, not the teardown.
 */
import path from 'node:path';
import { writeReport } from '../report/index.ts';

export interface Analysed {
  summary?: unknown;
  reportPath?: string;
  failed: boolean;
}

export async function analyse(runDir: string, say: (msg: string) => void): Promise<Analysed> {
  try {
    const rep = await writeReport(runDir);
    say(`report: ${path.relative(process.cwd(), rep.reportPath)}`);
    return { summary: rep.summary, reportPath: rep.reportPath, failed: false };
  } catch (e) {
    say(`report failed: ${(e as Error).message}`);
    return { failed: true };
  }
}

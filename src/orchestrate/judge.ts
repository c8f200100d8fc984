/**
 * Phase 6, judge: how the run ended and what the exit code says. 0 ok, 1 a failed run (a crash
 * during the run, a report that could not be written), 99 an `expect:` condition failed, 130/143/129
 * interrupted by SIGINT/SIGTERM/SIGHUP. Expectations are judged only on a run that completed.
 */
import path from 'node:path';
import { checkParsedExpectations, formatActual } from '../compare/expect.ts';
import { SpilloverError } from '../errors.ts';
import type { ResolvedExperiment } from '../experiment/read-experiment.ts';
import type { Deployment } from '../runner/backend.ts';
import type { Analysed } from './analyse.ts';
import type { RunRecorder } from './recorder.ts';

export function signalExitCode(reason: unknown): number {
  const r = String(reason);
  return r.includes('SIGTERM') ? 143 : r.includes('SIGHUP') ? 129 : 130;
}

/** After the load ended by itself or by a signal: the outcome, and the exit code so far. */
export function settleCompleted(rec: RunRecorder, deployment: Deployment, signal: AbortSignal): number {
  const casualties = deployment.casualties();
  if (casualties.length) rec.manifest.warnings.push(`ended during the run without being asked: ${casualties.join(', ')}`);
  if (signal.aborted) {
    rec.manifest.outcome = 'interrupted';
    return signalExitCode(signal.reason);
  }
  rec.manifest.outcome = 'ok';
  // The data are complete, but not of the experiment as designed: a crash fails the run (exit 1).
  if (casualties.length) {
    rec.manifest.outcome = 'failed';
    rec.manifest.exitReason = `ended during the run without being asked: ${casualties.join(', ')}`;
    return 1;
  }
  return 0;
}

/**
 * After the run threw: an interruption is an outcome (its exit code returned); anything else is a
 * failure recorded in the manifest and the event log, and rethrown as the error to report.
 */
export function settleThrown(e: unknown, rec: RunRecorder, signal: AbortSignal): number {
  if (signal.aborted) {
    rec.manifest.outcome = 'interrupted';
    rec.manifest.exitReason = String(signal.reason ?? 'interrupted');
    return signalExitCode(signal.reason);
  }
  const err =
    (e as NodeJS.ErrnoException).code === 'ENOSPC'
      ? new SpilloverError(
          {
            file: path.relative(process.cwd(), rec.runDir),
            message: 'no space left on the device of the run directory: the run was stopped and torn down; what was written so far is kept',
            found: (e as Error).message,
            fix: 'free space there, or write runs to another disk with --out',
          },
          1,
        )
      : (e as Error);
  rec.manifest.outcome = 'failed';
  rec.manifest.exitReason = err.message;
  rec.event({ kind: 'error', what: err.message, detail: { code: (e as NodeJS.ErrnoException).code } });
  throw err;
}

/** The final exit code: the run's, then the report's, then the experiment's `expect:` block, then k6's thresholds. */
export function judge(
  exp: ResolvedExperiment,
  rec: RunRecorder,
  analysed: Analysed,
  exitCode: number,
  say: (msg: string) => void,
  k6ThresholdsFailed = false,
): number {
  let code = exitCode;
  if (analysed.failed && code === 0) code = 1;
  if (analysed.summary && exp.expect.length && rec.manifest.outcome === 'ok') {
    try {
      const results = checkParsedExpectations(exp.expect, analysed.summary);
      for (const r of results)
        say(`  expect ${r.field} ${r.condition}: ${r.ok ? 'ok' : 'FAILED'} (actual ${formatActual(r.field, r.actual)})`);
      if (results.some((r) => !r.ok) && code === 0) code = 99;
    } catch (e) {
      say(`expectations not checked: ${(e as Error).message}`);
    }
  }
  if (k6ThresholdsFailed && code === 0) code = 99;
  return code;
}

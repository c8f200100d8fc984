/**
 * `--engine k6`: run the same scenario file with a real k6 and import its JSON output into the run
 * directory. Locally the k6 on PATH is spawned; on cluster backends the same script runs as a
 * k6-operator TestRun (see {@link k6TestRun}) whose JSON output is imported the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError } from '../errors.ts';
import { RAW } from '../contracts/raw.ts';
import { Supervisor } from '../process/processes.ts';
import { importK6, type ImportResult } from './k6-import.ts';

/** Where a k6 engine run leaves k6's own output inside the run directory. */
export const K6_OUTPUT_FILE = 'raw/k6-output.json';

/**
 * IPv4 outside 127.0.0.0/8 plus global, unique-local and link-local IPv6: passed to k6's
 * `--blacklist-ip` so that on the local backend a real k6 is held to loopback as the embedded driver is.
 */
export const NON_LOOPBACK_CIDRS = [
  '0.0.0.0/2',
  '64.0.0.0/3',
  '96.0.0.0/4',
  '112.0.0.0/5',
  '120.0.0.0/6',
  '124.0.0.0/7',
  '126.0.0.0/8',
  '128.0.0.0/1',
  '2000::/3',
  'fc00::/7',
  'fe80::/10',
];

export interface K6RunOptions {
  script: string;
  runDir: string;
  env?: Record<string, string>;
  /** k6 executable; default `k6` looked up on PATH. */
  k6?: string;
  /** Scenario time zero; default the first instant in k6's output. */
  t0Epoch?: number;
  allowNonLoopback?: boolean;
  /** Extra `k6 run` arguments, placed before the script. */
  args?: string[];
  signal?: AbortSignal;
  /** Where k6's own stdout/stderr go; default a log file in the run directory. */
  logFile?: string;
  /** The run's process supervisor (so k6 is ended with the run); default a private one. */
  supervisor?: Supervisor;
}

export interface K6RunResult extends ImportResult {
  exitCode: number;
  /** k6 exit code 99: the test ran and its results are valid, but thresholds failed. */
  thresholdsFailed: boolean;
  argv: string[];
}

/** Find an executable on PATH (no shell). */
export function which(cmd: string, envPath = process.env.PATH ?? ''): string | undefined {
  if (cmd.includes('/')) return fs.existsSync(cmd) ? cmd : undefined;
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export async function runK6(opts: K6RunOptions): Promise<K6RunResult> {
  const bin = which(opts.k6 ?? 'k6');
  if (!bin) {
    throw new SpilloverError(
      {
        path: '--engine k6',
        message: 'no k6 executable found',
        expected: 'k6 on PATH (or --k6 <path>)',
        found: opts.k6 ?? 'k6',
        fix: 'install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/) or build one with xk6, or use --engine embedded',
      },
      1,
    );
  }
  const out = path.join(opts.runDir, K6_OUTPUT_FILE);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const argv = ['run', '--out', `json=${out}`];
  for (const [k, v] of Object.entries(opts.env ?? {})) argv.push('--env', `${k}=${v}`);
  if (!opts.allowNonLoopback) argv.push('--blacklist-ip', NON_LOOPBACK_CIDRS.join(','));
  argv.push(...(opts.args ?? []), opts.script);
  const logFile = opts.logFile ?? path.join(opts.runDir, RAW.rawDir, 'k6.log');
  const sup = opts.supervisor ?? new Supervisor(`k6-${process.pid}-${Date.now()}`);
  const proc = sup.start('k6', bin, argv, { logFile, env: { ...process.env, K6_NO_USAGE_REPORT: 'true' } });
  const onAbort = () => void sup.stop(proc, 5000);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const exit = await proc.exited;
  opts.signal?.removeEventListener('abort', onAbort);
  if (!opts.supervisor) await sup.stopAll();
  const canceled = opts.signal?.aborted ?? false;
  const exitCode = exit.code ?? (canceled ? 105 : 1);
  if (exitCode !== 0 && exitCode !== 99 && !canceled) {
    const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-12).join('\n');
    throw new SpilloverError(
      {
        path: '--engine k6',
        message: `k6 exited with code ${exitCode}`,
        found: tail,
        fix: `see ${logFile}; k6 exit codes: 104 invalid config, 107 script exception, 105 interrupted`,
      },
      1,
    );
  }
  if (!fs.existsSync(out))
    throw new SpilloverError({ path: '--engine k6', message: 'k6 wrote no JSON output', found: out, fix: `see ${logFile}` }, 1);
  const imported = await importK6(out, opts.runDir, { t0Epoch: opts.t0Epoch });
  return { ...imported, exitCode, thresholdsFailed: exitCode === 99, argv };
}

/**
 * A k6-operator TestRun (k6.io/v1alpha1) running `script` from a ConfigMap with JSON output to a file in
 * each runner's volume, for the cluster backends. k6-operator splits the scenario across `parallelism`
 * runners with execution segments, so the union of their outputs is the single-instance schedule.
 */
export function k6TestRun(o: {
  name: string;
  namespace: string;
  configMap: string;
  file: string;
  parallelism?: number;
  env?: Record<string, string>;
}) {
  return {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name: o.name, namespace: o.namespace },
    spec: {
      parallelism: o.parallelism ?? 1,
      script: { configMap: { name: o.configMap, file: o.file } },
      arguments: ['--out', `json=/tmp/${o.name}.json`, ...Object.entries(o.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`])].join(
        ' ',
      ),
    },
  };
}

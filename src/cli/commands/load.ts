/**
 * `spillover load`: the load driver on its own. Either a direct constant-arrival-rate against one URL
 * (`spillover load <url> --rate R --duration D`) or a k6 scenario file (`--scenario scenarios/x.js`),
 * run by the embedded driver or, with `--engine k6`, by a real k6. `--plan` prints the schedule only.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { SpilloverError } from '../../errors.ts';
import { parseK6DurationSeconds } from '../../util/duration.ts';
import { planSchedule } from '../../load/schedule.ts';
import { directScenario, readScenario } from '../../load/scenario.ts';
import { scaleScenarioDurations } from '../../experiment/time-scale.ts';
import { writeStandaloneManifest } from '../../load/standalone-manifest.ts';
import { formatSummary, summarizeRequests } from '../../load/summary.ts';
import type { Scenario } from '../../load/types.ts';
import { decimalText, integerText } from '../numeric-flags.ts';

interface LoadFlags {
  scenario?: string;
  rate?: string;
  duration?: string;
  timeUnit: string;
  method: string;
  header: string[];
  body?: string;
  preAllocatedVus?: string;
  maxVus?: string;
  gracefulStop: string;
  env: string[];
  timeScale: string;
  plan?: boolean;
  engine: 'embedded' | 'k6';
  out?: string;
  connectTo?: string;
  allowNonLoopback?: boolean;
  timeout: string;
  metricsPort?: string;
  k6?: string;
  live?: boolean;
  vus?: string;
  iterations?: string;
  summaryExport?: string;
  tag: string[];
}

/**
 * `--out json=FILE` is k6's habit for its JSON output; anything else is the run directory. A script as
 * the positional argument (`spillover load script.js`, like `k6 run script.js`) means --scenario.
 */
function k6Flags(url: string | undefined, f: LoadFlags): { url?: string; outJson?: string; runDirFlag?: string } {
  if (url && !f.scenario && /\.(m?js|ts|cjs)$/.test(url) && !/^[a-z]+:\/\//i.test(url)) {
    f.scenario = url;
    url = undefined;
  }
  const outs = (f.out ?? []) as unknown as string[];
  const json = outs.filter((o) => /^json=/.test(o));
  const dirs = outs.filter((o) => !/^json=/.test(o));
  if (json.length > 1 || dirs.length > 1)
    throw new SpilloverError({ path: '--out', message: 'at most one run directory and one json=FILE', found: outs.join(' ') });
  return { url, outJson: json[0]?.slice(5), runDirFlag: dirs[0] };
}

function cliOverrides(f: LoadFlags) {
  const o: import('../../load/vu/options.ts').CliOverrides = {};
  if (f.vus !== undefined) o.vus = integer('--vus', f.vus);
  if (f.iterations !== undefined) o.iterations = integer('--iterations', f.iterations);
  if (f.duration !== undefined) {
    duration('--duration', f.duration);
    o.duration = f.duration;
  }
  if (f.tag.length) o.tags = keyValues('--tag', f.tag, '=');
  return Object.keys(o).length ? o : undefined;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function duration(flag: string, v: string): number {
  const s = parseK6DurationSeconds(v);
  if (s === undefined || s < 0)
    throw new SpilloverError({
      file: flag,
      message: 'not a k6 duration',
      expected: 'e.g. 500ms, 30s, 1m30s',
      found: v,
      fix: `write a number with a unit, e.g. ${flag} 30s`,
    });
  return s;
}

function integer(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new SpilloverError({ path: flag, message: 'not a non-negative integer', found: v });
  return n;
}

function keyValues(flag: string, list: string[], sep: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf(sep);
    if (i <= 0) throw new SpilloverError({ path: flag, message: `expected KEY${sep}VALUE`, found: item });
    out[item.slice(0, i).trim()] = item.slice(i + 1).trim();
  }
  return out;
}

async function buildScenario(url: string | undefined, f: LoadFlags, outJson?: string): Promise<Scenario> {
  const env = keyValues('--env', f.env, '=');
  const timeScale = Number(f.timeScale);
  if (f.scenario) {
    if (url || f.rate) {
      throw new SpilloverError({
        path: '--scenario',
        message: 'a scenario file and <url>/--rate are alternatives',
        fix: 'set the target through __ENV (e.g. --env TARGET=http://127.0.0.1:8080) instead',
      });
    }
    return readScenario(f.scenario, {
      env,
      timeScale,
      cli: cliOverrides(f),
      outJson: outJson && path.resolve(outJson),
      summaryExport: f.summaryExport && path.resolve(f.summaryExport),
    });
  }
  if (!url || f.rate === undefined || f.duration === undefined) {
    throw new SpilloverError({
      message: 'nothing to run',
      expected: 'spillover load <url> --rate R --duration D, or spillover load --scenario scenarios/x.js',
      fix: 'see spillover load --help',
    });
  }
  const sc = directScenario({
    url,
    rate: Number(f.rate),
    duration: duration('--duration', f.duration),
    timeUnit: duration('--time-unit', f.timeUnit),
    method: f.method,
    body: f.body,
    headers: f.header.length ? keyValues('--header', f.header, ':') : undefined,
    preAllocatedVUs: integer('--pre-allocated-vus', f.preAllocatedVus),
    maxVUs: integer('--max-vus', f.maxVus),
    gracefulStop: duration('--graceful-stop', f.gracefulStop),
  });
  // The same scaling as a scenario file's and an experiment's (experiment/time-scale.ts).
  return { ...sc, timeScale, scenarios: sc.scenarios.map((s) => scaleScenarioDurations(s, timeScale)) };
}

/**
 * `--engine k6`: a real k6 runs the script as it is. Only what k6 itself needs is checked here (the
 * script is a readable file, k6 is on PATH), before anything starts; the k6 flags are passed through.
 */
async function runWithK6(f: LoadFlags, outJson?: string): Promise<void> {
  if (!f.scenario)
    throw new SpilloverError({
      path: '--engine k6',
      message: 'k6 runs scenario files',
      fix: 'pass the script: spillover load --engine k6 script.js',
    });
  const { readTextInput } = await import('../../util/read-text-input.ts');
  readTextInput(f.scenario, 'k6 script');
  const { runK6, which } = await import('../../load/k6-engine.ts');
  if (!which(f.k6 ?? 'k6')) {
    throw new SpilloverError({
      path: '--engine k6',
      message: 'no k6 executable found',
      expected: 'k6 on PATH (or --k6 <path>)',
      found: f.k6 ?? 'k6',
      fix: 'install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/), or drop --engine k6: the embedded engine runs k6 scripts too',
    });
  }
  const env = keyValues('--env', f.env, '=');
  const args: string[] = [];
  if (f.vus !== undefined) args.push('--vus', f.vus);
  if (f.duration !== undefined) args.push('--duration', f.duration);
  if (f.iterations !== undefined) args.push('--iterations', f.iterations);
  for (const t of f.tag) args.push('--tag', t);
  if (f.summaryExport) args.push('--summary-export', f.summaryExport);
  if (outJson) args.push('--out', `json=${outJson}`);
  const runDir = path.resolve(f.out ?? path.join('results', 'load', new Date().toISOString().replace(/[:.]/g, '-')));
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const res = await runK6({
      script: f.scenario,
      runDir,
      env,
      k6: f.k6,
      allowNonLoopback: f.allowNonLoopback,
      signal: controller.signal,
      args,
    });
    writeStandaloneManifest(runDir, {
      experiment: 'load',
      backend: 'direct',
      engine: 'k6',
      t0Epoch: res.t0Epoch,
      warnings: [],
      resolved: { scenario: f.scenario, env },
      outcome: controller.signal.aborted ? 'interrupted' : 'ok',
    });
    process.stderr.write(
      `k6 exit ${res.exitCode}${res.thresholdsFailed ? ' (thresholds failed)' : ''}; imported ${res.requests} requests, ${res.dropped} dropped iterations\n`,
    );
    if (res.thresholdsFailed) process.exitCode = 99;
    process.stderr.write(
      `${formatSummary(await summarizeRequests(path.join(runDir, 'raw/requests.ndjson')))}\nraw results: ${path.relative(process.cwd(), runDir)}\n`,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function register(program: Command): void {
  program
    .command('load')
    .description('open-loop load with k6 scenario semantics: a URL at a rate, or a k6 scenario file')
    .argument('[url]', 'target URL for a direct constant-arrival-rate run')
    .option('--scenario <file>', 'k6 script (scenarios/*.js) exporting options and requests')
    .option(
      '--rate <n>',
      'iterations per time unit (direct mode)',
      decimalText('--rate', { min: 0, minExclusive: true, max: 1e7, example: '--rate 100' }),
    )
    .option('-d, --duration <d>', 'how long to start iterations, k6 duration (direct mode; with a script: k6 --duration)')
    .option('--time-unit <d>', 'time unit of --rate', '1s')
    .option('--method <m>', 'HTTP method (direct mode)', 'GET')
    .option('--header <k:v>', 'request header, repeatable (direct mode)', collect, [])
    .option('--body <s>', 'request body (direct mode)')
    .option(
      '--pre-allocated-vus <n>',
      'concurrency slots allocated up front (direct mode; default min(rate, 100))',
      integerText('--pre-allocated-vus', { min: 1, max: 1e6, example: '--pre-allocated-vus 100' }),
    )
    .option(
      '--max-vus <n>',
      'most concurrency slots (direct mode; default max(pre-allocated, 1000))',
      integerText('--max-vus', { min: 1, max: 1e6, example: '--max-vus 1000' }),
    )
    .option('--graceful-stop <d>', 'how long in-flight iterations may finish after the end (direct mode)', '30s')
    .option('-e, --env <KEY=VALUE>', '__ENV for the script, repeatable', collect, [])
    .option(
      '-u, --vus <n>',
      'k6 --vus: VUs for the script (overrides options.vus)',
      integerText('--vus', { min: 1, max: 100000, example: '--vus 10' }),
    )
    .option(
      '-i, --iterations <n>',
      "k6 --iterations: total iterations (replaces the script's scenarios, as in k6)",
      integerText('--iterations', { min: 1, max: 1e9, example: '--iterations 100' }),
    )
    .option('--summary-export <file>', 'k6 --summary-export: write the end-of-test summary as JSON')
    .option('--tag <NAME=VALUE>', 'k6 --tag: a tag on every sample, repeatable', collect, [])
    .option(
      '--time-scale <f>',
      '0 < F <= 1: multiply every duration (rates stay)',
      decimalText('--time-scale', { min: 0, minExclusive: true, max: 1, example: '--time-scale 0.1' }),
      '1',
    )
    .option('--plan', 'print the planned iteration start times as JSON (seconds from start, per scenario) and send nothing')
    .addOption(new Option('--engine <engine>', 'who sends the load').choices(['embedded', 'k6']).default('embedded'))
    .option(
      '--out <run-dir>',
      "run directory for raw results (default results/load/<timestamp>); --out json=FILE (repeatable with a directory) writes k6's JSON output",
      collect,
      [],
    )
    .option('--connect-to <ip:port>', 'send every request to this address with the URL host as Host header')
    .option('--allow-non-loopback', 'allow targets outside 127.0.0.0/8 and ::1')
    .option('--timeout <d>', 'whole-request timeout', '60s')
    .option(
      '--metrics-port <n>',
      'serve Prometheus /metrics on 127.0.0.1:<n> during the run (0 = any free port)',
      integerText('--metrics-port', { min: 0, max: 65535, example: '--metrics-port 0' }),
    )
    .option('--k6 <path>', 'k6 executable for --engine k6 (default: k6 on PATH)')
    .option('--no-live', 'no progress line even on a terminal')
    .action(runLoad);
}

/** `spillover load`: k6 on PATH, a --plan, or the embedded driver on its own thread. */
async function runLoad(urlArg: string | undefined, f: LoadFlags): Promise<void> {
  const { url, outJson, runDirFlag } = k6Flags(urlArg, f);
  f.out = runDirFlag; // from here on: the run directory only
  if (f.engine === 'k6') return runWithK6(f, outJson);
  const scenario = await buildScenario(url, f, outJson);
  for (const w of scenario.warnings) process.stderr.write(`warning: ${w}\n`);
  if (f.plan) {
    const plan = planSchedule(scenario).map((p) => ({ ...p, times: p.times.map((t) => Math.round(t * 1e6) / 1e6) }));
    process.stdout.write(JSON.stringify({ timeScale: scenario.timeScale, scenarios: plan }) + '\n');
    return;
  }
  const runDir = path.resolve(f.out ?? path.join('results', 'load', new Date().toISOString().replace(/[:.]/g, '-')));
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    {
      const { DriverThread } = await import('../../load/driver-thread.ts');
      const thread = await DriverThread.start(scenario);
      const t0Epoch = Date.now() + 200;
      const res = await thread
        .run({
          scenario,
          runDir,
          t0Epoch,
          connectTo: f.connectTo,
          allowNonLoopback: f.allowNonLoopback,
          requestTimeoutMs: duration('--timeout', f.timeout) * 1000,
          signal: controller.signal,
          live: f.live === false ? false : undefined,
          metricsPort: integer('--metrics-port', f.metricsPort),
          onMetricsListening: (port) => process.stderr.write(`metrics: http://127.0.0.1:${port}/metrics\n`),
          onReady: () =>
            writeStandaloneManifest(runDir, {
              experiment: 'load',
              backend: 'direct',
              engine: 'embedded',
              t0Epoch,
              timeScale: scenario.timeScale,
              warnings: scenario.warnings,
              resolved: { scenario: scenario.file ?? null, scenarios: scenario.scenarios },
            }),
        })
        .finally(() => thread.close());
      const k6 = (res as { k6?: import('../../load/vu/engine.ts').VuRunOutcome }).k6;
      if (k6) {
        process.stdout.write(k6.stdout);
        if (k6.exitCode) process.exitCode = k6.exitCode;
      }
      process.stderr.write(
        `iterations: ${res.iterations} started, ${res.dropped} dropped, ${res.interrupted} interrupted${res.startLagMs.count ? `; start lag p99 ${res.startLagMs.p99.toFixed(3)} ms` : ''}\n`,
      );
      if (res.aborted) process.exitCode = 130;
    }
    process.stderr.write(
      `${formatSummary(await summarizeRequests(path.join(runDir, 'raw/requests.ndjson')))}\nraw results: ${path.relative(process.cwd(), runDir)}\n`,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Options shared by `spillover run` and `spillover experiment`, and the signal handling of a run:
 * the first Ctrl-C / SIGTERM stops the run cleanly (load stops, everything is torn down, data kept);
 * a second one kills every child at once.
 */
import type { Command } from 'commander';
import { runExperiment } from '../orchestrate/run.ts';
import { killEverythingNow } from '../process/processes.ts';
import { LiveSession } from '../live/live-session.ts';
import { choiceFlag, portFlag, repeatFlag, timeScaleFlag } from './numeric-flags.ts';
import type { RunOptions } from '../orchestrate/run-types.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

export function addRunOptions(cmd: Command): Command {
  return cmd
    .option('--backend <name>', 'local (default: real Envoy on loopback), kind, or kube (existing clusters)', 'local')
    .option('--context-1 <ctx>', 'kube backend: kubeconfig context of cluster-1')
    .option('--context-2 <ctx>', 'kube backend: kubeconfig context of cluster-2')
    .option(
      '--context <cluster=ctx>',
      'kube backend: kubeconfig context of an experiment cluster by name (repeatable, any number)',
      collect,
      [],
    )
    .option('--install-istio', 'kube backend: install Istio (otherwise it must be there)')
    .option(
      '--engine <name>',
      'load engine: embedded (default; the built-in driver) or k6 (a k6 binary on PATH)',
      choiceFlag('--engine', ['embedded', 'k6']),
    )
    .option(
      '--control-plane <name>',
      "who configures Envoy on the local backend: builtin (src/mesh, default) or istiod (istiod's own generator; needs Go 1.26+ the first time)",
      choiceFlag('--control-plane', ['builtin', 'istiod']),
    )
    .option('--set <path=value>', 'override any field of the experiment (repeatable), e.g. services.A.capacity.concurrency=2', collect, [])
    .option('--time-scale <F>', 'multiply every duration of the run by F (0 < F <= 1) for quick runs', timeScaleFlag())
    .option('--out <dir>', 'parent directory of the run directory (default results/<experiment>)')
    .option('--keep', 'leave the deployment running after the load and print how to reach it')
    .option('--dry-run', 'write the resolved experiment, every generated config and the plan; start nothing')
    .option('--repeat <n>', 'run the experiment n times and aggregate the key figures', repeatFlag())
    .option(
      '--metrics-port <port>',
      "serve live /metrics (mesh state and the load driver's) on 127.0.0.1:<port> (0 = any free port; the port is printed)",
      portFlag('--metrics-port'),
    )
    .option('--events', 'print each detected event as one JSON line on stdout while the run goes (for scripts)')
    .option('--quiet', 'print only the run directory and errors');
}

export interface CliRunFlags {
  backend: string;
  context1?: string;
  context2?: string;
  context?: string[];
  installIstio?: boolean;
  set: string[];
  engine?: string;
  controlPlane?: string;
  timeScale?: number;
  out?: string;
  keep?: boolean;
  dryRun?: boolean;
  repeat?: number;
  metricsPort?: number;
  events?: boolean;
  quiet?: boolean;
}

/** Run with signal handling; returns the process exit code. */
export async function runFromCli(experimentFile: string, flags: CliRunFlags): Promise<number> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\n${sig}: stopping the run cleanly (send it again to kill everything at once)\n`);
      controller.abort(sig);
    } else {
      killEverythingNow();
      process.exit(sig === 'SIGTERM' ? 143 : sig === 'SIGHUP' ? 129 : 130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A closed terminal (ssh session gone) must not leave the mesh running behind a dead harness.
  process.on('SIGHUP', onSignal);
  const terminal = !flags.quiet && !flags.dryRun && process.stderr.isTTY ? process.stderr : undefined;
  const session =
    !flags.dryRun && (terminal || flags.events || flags.metricsPort !== undefined)
      ? new LiveSession({
          terminal,
          json: flags.events ? process.stdout : undefined,
          metricsPort: flags.metricsPort,
          onMetricsPort: (port) => process.stderr.write(`metrics: http://127.0.0.1:${port}/metrics\n`),
        })
      : undefined;
  try {
    await session?.open();
    const base: RunOptions = {
      experimentFile,
      // --engine is shorthand for the experiment field, so it is validated and recorded like one.
      set: [
        ...flags.set,
        ...(flags.engine ? [`load.engine=${flags.engine}`] : []),
        ...(flags.controlPlane ? [`controlPlane=${flags.controlPlane}`] : []),
      ],
      timeScale: flags.timeScale,
      backend: flags.backend as RunOptions['backend'],
      backendOptions: { context1: flags.context1, context2: flags.context2, contexts: flags.context, installIstio: flags.installIstio },
      outDir: flags.out,
      keep: flags.keep,
      dryRun: flags.dryRun,
      quiet: flags.quiet,
      // The session serves the user's port and includes the driver's metrics, served on a free one.
      metricsPort: session && flags.metricsPort !== undefined ? 0 : flags.metricsPort,
      observer: session,
      signal: controller.signal,
    };
    if (flags.repeat && flags.repeat > 1) {
      const { runRepeated } = await import('../orchestrate/repeat.ts');
      return await runRepeated(base, flags.repeat);
    }
    const res = await runExperiment(base);
    // With --events stdout carries only JSON lines; the run directory goes to stderr then.
    if (flags.quiet) (flags.events ? process.stderr : process.stdout).write(`${res.runDir}\n`);
    return res.exitCode;
  } finally {
    await session?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}

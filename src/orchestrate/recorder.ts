/**
 * The run's own record: manifest.json and raw/run-events.ndjson. One owner, so every phase writes the
 * manifest the same way and an event is stamped against the same time zero.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RAW, type RunEvent, type RunManifest } from '../contracts/raw.ts';
import { effectiveTiming } from '../experiment/normalise.ts';
import type { ResolvedExperiment } from '../experiment/read-experiment.ts';
import { REPO_ROOT } from '../util/repo-root.ts';
import { toYaml } from '../util/yaml.ts';
import { asWritten } from '../experiment/clients.ts';

const HARNESS_VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${crypto.randomBytes(2).toString('hex')}`;
}

function gitSha(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/** A duration the harness raised to its floor is not what the file says: say so where the run is recorded. */
function floorWarnings(exp: ResolvedExperiment): string[] {
  const s = exp.timing.scrape;
  return s.intervalMs > s.requestedIntervalMs
    ? [`scrape.interval ${exp.spec.scrape.interval} is below the harness's floor: scraped every ${s.intervalMs} ms (effective.scrape)`]
    : [];
}

export class RunRecorder {
  readonly manifest: RunManifest;
  private readonly eventsFd: number;
  private t0Epoch = Date.now();

  /** Creates the run directory with the resolved experiment, the first manifest and the event log. */
  constructor(
    readonly runDir: string,
    exp: ResolvedExperiment,
    runId: string,
    backend: string,
  ) {
    const spec = exp.spec;
    fs.mkdirSync(path.join(runDir, RAW.rawDir), { recursive: true });
    fs.writeFileSync(path.join(runDir, RAW.resolvedExperiment), toYaml(asWritten(spec)));
    this.eventsFd = fs.openSync(path.join(runDir, RAW.runEvents), 'a');
    this.manifest = {
      experiment: spec.metadata.name,
      runId,
      backend,
      engine: spec.load.engine,
      t0Epoch: this.t0Epoch,
      startedAt: new Date().toISOString(),
      timeScale: exp.timeScale,
      overrides: exp.overrides,
      seeds: { experiment: spec.seed },
      versions: { harness: HARNESS_VERSION, node: process.versions.node, istioSemantics: spec.istio.version },
      gitSha: gitSha(),
      scenarioSha256: crypto.createHash('sha256').update(fs.readFileSync(exp.scenarioPath)).digest('hex'),
      machine: {
        platform: process.platform,
        arch: process.arch,
        cpus: os.cpus().length,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        cpuModel: os.cpus()[0]?.model,
      },
      warnings: [...exp.scaled.map((s) => `time scale ${exp.timeScale}: ${s}`), ...floorWarnings(exp)],
      resolved: {
        ...spec,
        experimentFile: path.relative(process.cwd(), exp.file),
        scenarioFile: path.relative(process.cwd(), exp.scenarioPath),
      },
      effective: effectiveTiming(exp.timing),
    };
    this.writeManifest();
  }

  /** Scenario time zero: events are stamped in seconds from it. */
  setT0(t0Epoch: number): void {
    this.t0Epoch = t0Epoch;
    this.manifest.t0Epoch = t0Epoch;
    this.writeManifest();
  }

  event = (e: Omit<RunEvent, 't'>): void => {
    try {
      fs.writeSync(this.eventsFd, `${JSON.stringify({ t: (Date.now() - this.t0Epoch) / 1000, ...e })}\n`);
    } catch {
      // A full disk must not stop the teardown that follows; the write that failed first is reported.
    }
  };

  writeManifest(): void {
    fs.writeFileSync(path.join(this.runDir, RAW.manifest), `${JSON.stringify(this.manifest, null, 2)}\n`);
  }

  /** A refusal after the directory was made (e.g. while planning a dry run): bad input leaves nothing. */
  discard(): void {
    fs.closeSync(this.eventsFd);
    fs.rmSync(this.runDir, { recursive: true, force: true });
  }

  /** The last manifest write; on a full disk the one written at start-up stays. */
  close(): void {
    this.manifest.endedAt = new Date().toISOString();
    try {
      this.writeManifest();
    } catch {
      // Disk full: teardown is done, which is what matters here.
    }
    fs.closeSync(this.eventsFd);
  }
}

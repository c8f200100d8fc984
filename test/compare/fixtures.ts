/** Synthetic run directories: a summary.json and a manifest.json, as a real run leaves them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface FakeRun {
  firstEjectionS: number | null;
  redirectedFraction?: number;
  successRatio?: number;
  p99?: number;
  loadRps?: number | null;
}

export function summaryFor(experiment: string, runId: string, r: FakeRun) {
  const total = 10000;
  const red = r.redirectedFraction ?? 0.2;
  return {
    experiment,
    runId,
    backend: 'local',
    requests: {
      total,
      ok: Math.round(total * (r.successRatio ?? 0.99)),
      failed: total - Math.round(total * (r.successRatio ?? 0.99)),
      dropped: 0,
    },
    successRatio: r.successRatio ?? 0.99,
    servedBy: { A: Math.round(total * (1 - red)), B: Math.round(total * red) },
    redirectedFraction: red,
    events: {
      firstOverflowS: r.firstEjectionS === null ? null : r.firstEjectionS - 0.5,
      firstEjectionS: r.firstEjectionS,
      redirectOnsetS: r.firstEjectionS === null ? null : r.firstEjectionS + 0.25,
      redirectEndS: r.firstEjectionS === null ? null : r.firstEjectionS + 60,
      recoveryS: r.firstEjectionS === null ? null : r.firstEjectionS + 61,
    },
    loadAtFirstEjectionRps: r.loadRps === undefined ? (r.firstEjectionS === null ? null : 200) : r.loadRps,
    latencyMs: { p50: 21, p95: 48, p99: r.p99 ?? 80, max: 300 },
  };
}

export function tmpDir(prefix = 'spillover-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Write run directories `<root>/<runId>/` and return their paths. */
export function writeRuns(
  root: string,
  experiment: string,
  runs: FakeRun[],
  opts: { expect?: Record<string, string[]>; prefix?: string } = {},
): string[] {
  return runs.map((r, i) => {
    const runId = `${opts.prefix ?? 'run'}-${String(i + 1).padStart(2, '0')}`;
    const dir = path.join(root, runId);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summaryFor(experiment, runId, r), null, 2));
    const manifest = {
      experiment,
      runId,
      backend: 'local',
      engine: 'embedded',
      t0Epoch: 1_700_000_000_000 + i * 1000,
      startedAt: new Date(1_700_000_000_000 + i * 100_000).toISOString(),
      endedAt: new Date(1_700_000_090_000 + i * 100_000).toISOString(),
      timeScale: 1,
      overrides: [],
      seeds: { experiment: 42 },
      versions: { spillover: '0.1.0', envoy: '1.40.0', node: 'v20.20.0', istio: '1.29' },
      warnings: [],
      outcome: 'ok',
      resolved: {
        metadata: { name: experiment },
        expect: opts.expect ?? { 'events.firstEjectionS': ['!= null'], redirectedFraction: ['>= 0.1'] },
      },
    };
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
    return dir;
  });
}

/** n runs jittered deterministically around a centre (no randomness: tests must be repeatable). */
export function around(n: number, centre: FakeRun, jitter = 0.02): FakeRun[] {
  const offsets = [0, 1, -1, 0.5, -0.5, 0.75, -0.75, 0.25, -0.25, 0.9];
  return Array.from({ length: n }, (_, i) => {
    const k = 1 + jitter * offsets[i % offsets.length];
    return {
      ...centre,
      firstEjectionS: centre.firstEjectionS === null ? null : +(centre.firstEjectionS * k).toFixed(3),
      redirectedFraction: +((centre.redirectedFraction ?? 0.2) * k).toFixed(4),
      successRatio: centre.successRatio,
      p99: +((centre.p99 ?? 80) * k).toFixed(2),
    };
  });
}

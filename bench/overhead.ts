/**
 * npm run bench:overhead -- what the harness costs around the scenario itself.
 *
 * Runs peak-load (time-scaled, default 0.1) on the local backend and prints the wall time of the full
 * run minus the scenario's own duration (start-up, readiness, drain, teardown, report), next to the
 * peer figure of a kind + Istio two-cluster setup (5-20 minutes, not measurable here). Also samples the
 * resident memory of every process of the topology (Envoys, services, the harness) and prints the peak.
 *
 *   npm run bench:overhead [-- --time-scale 0.1 --runs 3]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readScenario } from '../src/load/scenario.ts';
import { scenarioDuration, type Scenario } from '../src/load/types.ts';
import { readExperiment } from '../src/experiment/read-experiment.ts';
import { runExperiment } from '../src/orchestrate/run.ts';
import { stateDir } from '../src/process/processes.ts';

const { values } = parseArgs({
  options: {
    'time-scale': { type: 'string', default: '0.1' },
    runs: { type: 'string', default: '3' },
    experiment: { type: 'string', default: 'experiments/peak-load.yaml' },
  },
});
const timeScale = Number(values['time-scale']);
const runs = Number(values.runs);

const rssKiB = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
};

/** Sum of RSS of the harness and every process named in this harness's run state files. */
function topologyRssKiB(): number {
  let total = rssKiB(process.pid);
  let files: string[] = [];
  try {
    files = fs.readdirSync(stateDir());
  } catch {
    return total;
  }
  for (const f of files) {
    try {
      const st = JSON.parse(fs.readFileSync(path.join(stateDir(), f), 'utf8')) as { ownerPid: number; processes: Array<{ pid: number }> };
      if (st.ownerPid !== process.pid) continue;
      for (const p of st.processes) total += rssKiB(p.pid);
    } catch {
      /* a state file being rewritten */
    }
  }
  return total;
}

const exp = readExperiment(values.experiment!, { timeScale });
const scenario = await readScenario(exp.scenarioPath, { env: exp.spec.load.env, timeScale });
const scenarioS = scenarioDurationS(scenario);
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-bench-overhead-'));
const rows: Array<{ wall: number; overhead: number; peakMiB: number }> = [];
for (let i = 0; i < runs; i++) {
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, topologyRssKiB())), 100);
  const t = performance.now();
  const res = await runExperiment({ experimentFile: values.experiment!, timeScale, outDir: out, quiet: true });
  const wall = (performance.now() - t) / 1000;
  clearInterval(sampler);
  if (res.exitCode !== 0 && res.exitCode !== 99) throw new Error(`run failed with exit code ${res.exitCode}: ${res.runDir}`);
  rows.push({ wall, overhead: wall - scenarioS, peakMiB: peak / 1024 });
  console.log(
    `run ${i + 1}: wall ${wall.toFixed(2)} s, scenario ${scenarioS.toFixed(2)} s, overhead ${(wall - scenarioS).toFixed(2)} s, peak RSS ${(peak / 1024).toFixed(0)} MiB`,
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const overhead = median(rows.map((r) => r.overhead));
console.log(`\noverhead (median of ${runs}): ${overhead.toFixed(2)} s  (target <= 10 s)`);
console.log(`peak memory of the whole topology (median of peaks): ${median(rows.map((r) => r.peakMiB)).toFixed(0)} MiB`);
console.log(
  `peer: a kind + Istio two-cluster setup takes 5-20 min before the first request -> ${(300 / overhead).toFixed(0)}x-${(1200 / overhead).toFixed(0)}x faster to a result`,
);
console.log(`(${os.cpus().length} cores, ${os.cpus()[0]?.model}; runs in ${out})`);
fs.rmSync(out, { recursive: true, force: true });

function scenarioDurationS(s: Scenario): number {
  // The scenario's own length; gracefulStop is not counted: in-flight requests ending is the scenario's time.
  return Math.max(...s.scenarios.map((x) => x.startTime + scenarioDuration(x)));
}

// Start-up and memory per Envoy: today's two-cluster topology beside the 3-cluster, 4-locality,
// 2-replica one (experiments/three-cluster.yaml, 12 Envoys; target: up in <= 5 s).
{
  const { topologyStartup } = await import('./topology-startup.ts');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-bench-topology-'));
  console.log('\nstart-up and memory per Envoy (backend up = processes started, every Envoy /ready, every app ready):');
  for (const file of [values.experiment!, 'experiments/three-cluster.yaml']) {
    const figs = [];
    for (let i = 0; i < runs; i++) figs.push(await topologyStartup(file, timeScale, dir));
    const up = median(figs.map((f) => f.upS));
    console.log(
      `  ${path.basename(file, '.yaml').padEnd(14)} ${String(figs[0].envoys).padStart(2)} Envoys: backend up in ${up.toFixed(1)} s (median of ${runs}; runs ${figs.map((f) => f.upS.toFixed(1)).join(', ')}), ${median(figs.map((f) => f.perEnvoyMiB)).toFixed(1)} MiB RSS per Envoy at peak${file.includes('three-cluster') ? `  (target <= 5 s: ${up <= 5 ? 'met' : 'NOT met'})` : ''}`,
    );
  }
  console.log(
    `  (load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

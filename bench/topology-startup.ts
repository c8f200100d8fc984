/**
 * Start-up time and memory per Envoy of a topology: the backend's own "backend up in" figure (from
 * the run's log) and, at the peak of the run, the resident memory of the run's Envoys divided by
 * their number. Used by bench/overhead.ts for today's two-cluster topology and the three-cluster one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runExperiment } from '../src/orchestrate/run.ts';
import { stateDir } from '../src/process/processes.ts';

const rssKiB = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
};

/** RSS of this harness's Envoys (processes whose /proc/<pid>/comm is envoy), and how many there are. */
function envoyRss(): { kib: number; count: number } {
  let kib = 0;
  let count = 0;
  let files: string[] = [];
  try {
    files = fs.readdirSync(stateDir());
  } catch {
    return { kib, count };
  }
  for (const f of files) {
    try {
      const st = JSON.parse(fs.readFileSync(path.join(stateDir(), f), 'utf8')) as { ownerPid: number; processes: Array<{ pid: number }> };
      if (st.ownerPid !== process.pid) continue;
      for (const p of st.processes) {
        // The supervisor starts each child as a process-group leader; the Envoy is that process.
        if (fs.readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim() !== 'envoy') continue;
        kib += rssKiB(p.pid);
        count++;
      }
    } catch {
      /* a state file being rewritten, or a process just gone */
    }
  }
  return { kib, count };
}

export interface StartupFigures {
  upS: number;
  envoys: number;
  perEnvoyMiB: number;
}

export async function topologyStartup(experimentFile: string, timeScale: number, outDir: string): Promise<StartupFigures> {
  let upS = NaN;
  let peak = { kib: 0, count: 0 };
  const sampler = setInterval(() => {
    const now = envoyRss();
    if (now.kib > peak.kib) peak = now;
  }, 100);
  try {
    const res = await runExperiment({
      experimentFile,
      timeScale,
      outDir,
      log: (m) => {
        const up = /^backend up in ([\d.]+)s/.exec(m);
        if (up) upS = Number(up[1]);
      },
    });
    if (res.exitCode !== 0 && res.exitCode !== 99) throw new Error(`run failed with exit code ${res.exitCode}: ${res.runDir}`);
  } finally {
    clearInterval(sampler);
  }
  return { upS, envoys: peak.count, perEnvoyMiB: peak.count ? peak.kib / 1024 / peak.count : NaN };
}

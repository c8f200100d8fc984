/**
 * How busy the machine was around a run: load average and CPU steal, read from /proc at the start and
 * the end of the load. The report puts a contention caveat in front when these (or the driver's own
 * start lag) say the numbers were measured on a crowded machine. Linux only; elsewhere: nothing.
 */
import fs from 'node:fs';
import os from 'node:os';

import type { CpuSample } from '../contracts/raw.ts';

export function sampleCpu(): CpuSample {
  const s: CpuSample = { at: Date.now(), loadavg1: Math.round(os.loadavg()[0] * 100) / 100, cpus: os.cpus().length };
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice: guests are already in user/nice.
    s.totalJiffies = f.slice(0, 8).reduce((a, b) => a + b, 0);
    s.stealJiffies = f[7] ?? 0;
  } catch {
    // not Linux: the load average alone
  }
  return s;
}

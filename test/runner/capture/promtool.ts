/**
 * Test helper: pipe Prometheus exposition text through `promtool check metrics` (Debian package
 * `prometheus`). Returns undefined when promtool is not installed, so callers can skip with a reason.
 */
import { spawnSync } from 'node:child_process';

export const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

export function promtoolAvailable(): boolean {
  const r = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

/** `ok` is promtool's verdict; `output` its complaints (lint problems name the metric). */
export function promtoolCheck(text: string): { ok: boolean; output: string } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}

/**
 * A minimal manifest.json for run directories made outside an experiment (`spillover load`,
 * `spillover import k6`), so analysis and report can read them like any other run. Never overwrites
 * the manifest an experiment run wrote.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RAW, type RunManifest } from '../contracts/raw.ts';

export function writeStandaloneManifest(
  runDir: string,
  m: Pick<RunManifest, 'experiment' | 'backend' | 'engine' | 't0Epoch' | 'warnings' | 'resolved'> & Partial<RunManifest>,
): boolean {
  const file = path.join(runDir, RAW.manifest);
  if (fs.existsSync(file)) return false;
  const manifest: RunManifest = {
    runId: path.basename(path.resolve(runDir)),
    startedAt: new Date(m.t0Epoch).toISOString(),
    timeScale: 1,
    overrides: [],
    seeds: {},
    versions: { node: process.version },
    ...m,
  };
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
  return true;
}

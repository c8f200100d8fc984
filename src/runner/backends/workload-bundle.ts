/**
 * The app of every local pod (src/workload/main.ts) as one pre-built ES module, so a pod's process
 * starts with plain `node <bundle>` instead of `node --import tsx src/workload/main.ts`.
 *
 * Why: measured on the project's 2-core machine (2026-12-01, load ~19), eight
 * apps started at once took 18.8 s to their ready lines through tsx and 5.3 s from this bundle
 * (one alone: 2.2 s and 0.7 s). tsx registers its loader hooks on a thread of its own and resolves
 * and transforms every module (198 files with zod and prom-client) in each process; the bundle is
 * the same code, transformed once. The three-cluster topology (8 apps) is where that counted most.
 *
 * The bundle is cached under <repo>/.cache/workload/ with the content hash of every input esbuild
 * read, and the bundle's own hash: any changed input rebuilds it (about a second), so an edited
 * src/workload never runs stale, and a bundle the harness did not write whole (a crash mid-write, an
 * edit by hand) is not trusted either.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from '../../util/repo-root.ts';

const ENTRY = path.join(REPO_ROOT, 'src/workload/main.ts');
const DIR = path.join(REPO_ROOT, '.cache/workload');
const BUNDLE = path.join(DIR, 'main.mjs');
const META = path.join(DIR, 'inputs.json');

const hashOf = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The cached bundle's sha256 and each input's (relative to the repository) still match what was recorded. */
function cachedInputsMatch(): boolean {
  try {
    const { bundle, inputs } = JSON.parse(fs.readFileSync(META, 'utf8')) as { bundle?: string; inputs?: Record<string, string> };
    if (!bundle || !inputs || !Object.keys(inputs).length || !fs.existsSync(BUNDLE) || hashOf(BUNDLE) !== bundle) return false;
    return Object.entries(inputs).every(([f, h]) => hashOf(path.join(REPO_ROOT, f)) === h);
  } catch {
    return false;
  }
}

let building: Promise<string> | undefined;

/** The path of an up-to-date bundle of the pods' app; built (once per process) when an input changed. */
export function workloadBundle(): Promise<string> {
  building ??= (async () => {
    if (cachedInputsMatch()) return BUNDLE;
    fs.mkdirSync(DIR, { recursive: true });
    const tmp = `${BUNDLE}.${process.pid}.tmp`;
    const r = await build({
      entryPoints: [ENTRY],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: tmp,
      metafile: true,
      absWorkingDir: REPO_ROOT,
      logLevel: 'silent',
      // CommonJS dependencies (prom-client) call require() for Node's built-ins.
      banner: {
        js: "import { createRequire as __spilloverRequire } from 'node:module'; const require = __spilloverRequire(import.meta.url);",
      },
    });
    const inputs = Object.fromEntries(Object.keys(r.metafile.inputs).map((f) => [f, hashOf(path.join(REPO_ROOT, f))]));
    // Renamed into place: a concurrent run reads either the old bundle or the new one, never half of one.
    fs.renameSync(tmp, BUNDLE);
    const metaTmp = `${META}.${process.pid}.tmp`;
    fs.writeFileSync(metaTmp, JSON.stringify({ bundle: hashOf(BUNDLE), inputs }));
    fs.renameSync(metaTmp, META);
    return BUNDLE;
  })();
  building.catch(() => (building = undefined));
  return building;
}

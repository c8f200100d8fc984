/**
 * Checks that need the experiment and its scenario together, or the machine, made before the run
 * directory exists: each would otherwise fail after the mesh is up (a fault that never fires, an
 * `expect:` condition that cannot be read, a k6 that is not there).
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { SpilloverError, type ProblemDetail } from '../errors.ts';
import type { ResolvedExperiment } from '../experiment/read-experiment.ts';
import type { Scenario } from '../load/types.ts';
import { scenarioDuration } from '../load/types.ts';
import { refuseClientsOffLocal } from './client-engines.ts';
import { which } from '../load/k6-engine.ts';

const rel = (f: string) => path.relative(process.cwd(), f) || f;

/** Faults must fire while load is offered (`expect:` was parsed when the experiment loaded). */
export async function checkRunInputs(exp: ResolvedExperiment, scenario: Scenario): Promise<void> {
  const problems: ProblemDetail[] = [];
  const file = rel(exp.file);
  // Load is offered until the last scenario's last start; gracefulStop only lets iterations finish.
  const loadEndS = Math.max(0, ...scenario.scenarios.map((s) => s.startTime + scenarioDuration(s)));
  exp.timing.faults.forEach((f, i) => {
    const atS = f.atMs / 1000;
    if (atS < loadEndS) return;
    const scaled = exp.timeScale !== 1 ? ` (after --time-scale ${exp.timeScale})` : '';
    problems.push({
      file,
      path: `faults[${i}].at`,
      message: `the fault would fire after the load has ended${scaled}, so it would change nothing the run measures`,
      expected: `a time before the end of the load, ${loadEndS.toFixed(3).replace(/\.?0+$/, '')}s (the end of ${scenarioName(scenario)})`,
      found: `${f.at}${scaled}`,
      fix: `fire it earlier (e.g. at: ${Math.max(1, Math.floor(loadEndS / 2 / exp.timeScale))}s in the file), or lengthen the scenario`,
    });
  });
  if (problems.length) throw new SpilloverError(problems.map((p) => blameOverride(p, exp.overrides)));
}

/** A problem in a field that --set gave is the flag's (as the loader reports it). */
function blameOverride(p: ProblemDetail, overrides: string[]): ProblemDetail {
  const hit = [...overrides].reverse().find((o) => {
    const set = o.slice(0, o.indexOf('='));
    return p.path === set || p.path?.startsWith(`${set}.`) || p.path?.startsWith(`${set}[`);
  });
  return hit ? { ...p, file: `--set ${hit}`, line: undefined } : p;
}

const scenarioName = (sc: Scenario) => (sc.file ? sc.file.split('/').pop() : 'the scenario');

/**
 * On the local backend every address Envoy is given must be on loopback: a ServiceEntry endpoint at
 * 10.1.2.3 would have the client's sidecar send the experiment's traffic off this machine. (On real
 * clusters such an address is legitimate; the placeholder {{gateway.<cluster>}} is filled in by the backend.)
 */
function checkLoopbackEndpoints(exp: ResolvedExperiment, file: string): ProblemDetail[] {
  const out: ProblemDetail[] = [];
  exp.spec.resources.forEach((r, i) => {
    if (r.kind !== 'ServiceEntry') return;
    const eps = (r.spec as { endpoints?: Array<{ address?: unknown }> } | undefined)?.endpoints ?? [];
    eps.forEach((ep, j) => {
      const a = typeof ep?.address === 'string' ? ep.address : '';
      const v = isIP(a);
      if (!v || (v === 4 ? a.startsWith('127.') : a === '::1')) return;
      out.push({
        file,
        path: `resources[${i}].spec.endpoints[${j}].address`,
        message: 'the local backend sends traffic only on loopback, and this endpoint is elsewhere',
        expected: 'an address in 127.0.0.0/8, or the placeholder "{{gateway.<cluster>}}" for the other cluster\'s east-west gateway',
        found: JSON.stringify(a),
        fix: 'use address: "{{gateway.cluster-2}}", or run on a real cluster (--backend kind|kube)',
      });
    });
  });
  return out;
}

/** What the backend needs: loopback-only addresses locally, and for a real run the tools (k6). */
export async function checkRunTools(exp: ResolvedExperiment, backend: string, dryRun = false): Promise<void> {
  refuseClientsOffLocal(exp, backend, rel(exp.file));
  if (backend === 'local') {
    const problems = checkLoopbackEndpoints(exp, rel(exp.file));
    if (problems.length) throw new SpilloverError(problems.map((p) => blameOverride(p, exp.overrides)));
  }
  if (dryRun || exp.spec.load.engine !== 'k6' || backend !== 'local') return; // cluster backends run k6 in the cluster
  if (which('k6')) return;
  throw new SpilloverError({
    file: '--engine k6',
    path: 'load.engine',
    message: 'the k6 engine needs a k6 executable on PATH, and there is none',
    expected: 'k6 on PATH',
    found: `PATH=${process.env.PATH ?? ''}`,
    fix: 'install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/), or use the embedded driver (drop --engine k6 / load.engine: embedded)',
  });
}

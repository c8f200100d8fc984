/**
 * Several clients (`clients:`), each with its own scenario: one load engine per client, all run at
 * the same scenario time zero, each through its own sidecar, each writing its own raw load files
 * (contracts/raw.ts clientLoadDir). The run's phases see one engine: the first client's, wrapped so
 * that ready/run/close cover them all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clientLoadDir, RAW } from '../contracts/raw.ts';
import { SpilloverError } from '../errors.ts';
import { clientsOf } from '../experiment/clients.ts';
import type { ResolvedExperiment } from '../experiment/read-experiment.ts';
import { embeddedEngine, k6Engine, type LoadEngine } from '../load/engine.ts';
import { readScenario } from '../load/scenario.ts';
import type { Scenario } from '../load/types.ts';

export interface ClientScenario {
  name: string;
  scenarioPath: string;
  /** The embedded engine's parsed scenario (time scale applied); undefined for a real k6. */
  scenario?: Scenario;
}

/** Every further client's scenario, read and checked like the first one's (prepare.ts). */
export async function readClientScenarios(exp: ResolvedExperiment): Promise<ClientScenario[]> {
  if (!exp.clientScenarios) return [];
  const out: ClientScenario[] = [];
  for (const c of clientsOf(exp.spec).slice(1)) {
    const scenarioPath = exp.clientScenarios[c.name];
    if (c.load.engine === 'k6') {
      if (exp.timeScale !== 1)
        throw new SpilloverError({
          file: '--time-scale',
          message: "the time scale shortens the embedded driver's schedule; a real k6 runs the script's own durations",
          found: `--time-scale ${exp.timeScale} with ${c.loadAt.join('.')}.engine k6`,
          fix: `drop --time-scale, or use the embedded engine (${c.loadAt.join('.')}.engine: embedded)`,
        });
      out.push({ name: c.name, scenarioPath });
      continue;
    }
    out.push({ name: c.name, scenarioPath, scenario: await readScenario(scenarioPath, { env: c.load.env, timeScale: exp.timeScale }) });
  }
  return out;
}

export interface EngineOptions {
  allowNonLoopback?: boolean;
}

/** An engine per further client, started now so that each driver's warm-up overlaps the backend's start. */
export function clientEngines(exp: ResolvedExperiment, scenarios: ClientScenario[], opts: EngineOptions): Record<string, LoadEngine> {
  const byName = new Map(clientsOf(exp.spec).map((c) => [c.name, c]));
  const out: Record<string, LoadEngine> = {};
  for (const s of scenarios) {
    const load = byName.get(s.name)!.load;
    out[s.name] =
      load.engine === 'k6' || !s.scenario
        ? k6Engine(s.scenarioPath, load.env, opts.allowNonLoopback)
        : embeddedEngine(s.scenario, {
            allowNonLoopback: opts.allowNonLoopback,
            requestTimeoutMs: exp.timing.requestTimeoutMsByClient[s.name],
            reconnectOnError: load.reconnectOnError,
            // One progress line and one /metrics: the first client's.
            live: false,
          });
  }
  return out;
}

/**
 * The first client's engine with every further one beside it. `run` starts them all at the same time
 * zero, each aimed at its own entry (`targets`, by client name), and resolves once all have ended.
 */
export function withClientEngines(
  first: LoadEngine & { ready?(): Promise<void> },
  firstName: string,
  others: Record<string, LoadEngine & { ready?(): Promise<void> }>,
): LoadEngine & { ready?(): Promise<void> } {
  if (!Object.keys(others).length) return first;
  return {
    name: first.name,
    ready: async () => void (await Promise.all([first.ready?.(), ...Object.values(others).map((e) => e.ready?.())])),
    run: async (r) => {
      const targets = r.targets ?? {};
      const runs = Object.entries(others).map(async ([name, e]) => {
        const target = targets[name];
        if (!target) throw new SpilloverError({ message: `the backend gave no entry for client ${name}`, fix: 'use the local backend' });
        const dir = clientLoadDir(r.runDir, name, false);
        fs.mkdirSync(path.join(dir, RAW.rawDir), { recursive: true });
        return [name, await e.run({ ...r, runDir: dir, target })] as const;
      });
      const [tally, ...rest] = await Promise.all([first.run({ ...r, target: targets[firstName] ?? r.target }), ...runs]);
      return { ...tally, clients: Object.fromEntries(rest) };
    },
    close: async () => void (await Promise.all([first.close(), ...Object.values(others).map((e) => e.close())])),
  };
}

/**
 * The kind and kube backends render one load client (a k6 Job or the client pod in the first
 * client's cluster); several would be rendered as one, so they are refused before anything starts.
 */
export function refuseClientsOffLocal(exp: ResolvedExperiment, backend: string, file: string): void {
  const clients = clientsOf(exp.spec);
  if (backend === 'local' || clients.length < 2) return;
  throw new SpilloverError({
    file,
    path: 'clients',
    message: `the ${backend} backend renders one load client; this experiment has ${clients.length} (${clients.map((c) => c.name).join(', ')})`,
    expected: `one client for --backend ${backend} (clients: with one entry, or client: + load:)`,
    found: `${clients.length} clients`,
    fix: `run it on the local backend (--backend local), or keep one client (a copy of the file with only clients.${clients[0].name})`,
  });
}

/**
 * k6's executors over VUs that run script iterations (facts §1): the same maths as the fast path
 * (schedule.ts: arrival times, VU steps) driving a pool of initialised VUs. Arrival-rate executors drop
 * an iteration when no VU of the scenario is idle (one `dropped_iterations` sample) and grow the pool
 * one VU at a time up to maxVUs; VU executors loop closed; shared-iterations/per-vu-iterations stop at
 * maxDuration. Every scenario has a regular end (no new iterations) and a hard end gracefulStop later,
 * where in-flight iterations are interrupted (not counted as iterations, as in k6).
 */
import { arrivalTimes, vuSteps } from '../schedule.ts';
import { isArrivalRate, scenarioDuration, type ScenarioSpec } from '../types.ts';
import type { Vu } from './runtime.ts';

export interface ScenarioCtx {
  spec: ScenarioSpec;
  startMs: number;
  regularEndMs: number;
  hardEndMs: number;
  /** Iterations started in this scenario (k6's iterationInTest). */
  started: number;
  completed: number;
  interrupted: number;
  dropped: number;
  allocated: number;
  active: Set<Vu>;
  tick: { target: number; started: number; dropped: number };
}

export interface ExecutorHost {
  /** An initialised VU not used by any scenario now (initialises one if needed). */
  acquire(): Promise<Vu>;
  release(vu: Vu): void;
  /** Run one iteration; resolves when it ended (completed, failed or interrupted). */
  iterate(vu: Vu, sc: ScenarioCtx, intendedMs: number): Promise<void>;
  dropped(sc: ScenarioCtx): void;
  stopped(): boolean;
  /** Resolves after `ms` or when the run stops. */
  wait(ms: number): Promise<void>;
}

export function scenarioCtx(spec: ScenarioSpec, t0: number): ScenarioCtx {
  const startMs = t0 + spec.startTime * 1000;
  const regularEndMs = startMs + scenarioDuration(spec) * 1000;
  return {
    spec,
    startMs,
    regularEndMs,
    hardEndMs: regularEndMs + spec.gracefulStop * 1000,
    started: 0,
    completed: 0,
    interrupted: 0,
    dropped: 0,
    allocated: 0,
    active: new Set(),
    tick: { target: 0, started: 0, dropped: 0 },
  };
}

const now = () => Date.now();

export async function runExecutor(sc: ScenarioCtx, h: ExecutorHost): Promise<void> {
  await h.wait(sc.startMs - now());
  if (h.stopped()) return;
  const s = sc.spec;
  if (isArrivalRate(s)) return arrivalRate(sc, h);
  if (s.executor === 'shared-iterations' || s.executor === 'per-vu-iterations') return iterationsExecutor(sc, h);
  return vuExecutor(sc, h);
}

async function arrivalRate(sc: ScenarioCtx, h: ExecutorHost): Promise<void> {
  const s = sc.spec as Extract<ScenarioSpec, { preAllocatedVUs: number }>;
  const idle: Vu[] = [];
  const all: Vu[] = [];
  for (let i = 0; i < s.preAllocatedVUs; i++) {
    const vu = await h.acquire();
    idle.push(vu);
    all.push(vu);
  }
  sc.allocated = all.length;
  let growing = false;
  const running: Promise<void>[] = [];
  for (const t of arrivalTimes(s)) {
    const due = sc.startMs + t * 1000;
    await h.wait(due - now());
    // Due times already end before the regular deadline (arrivalTimes); one fired late still starts,
    // as on the fast path (k6 catches up instead of skipping), so a busy machine does not change the count.
    if (h.stopped()) break;
    sc.tick.target++;
    const vu = idle.pop();
    if (!vu) {
      h.dropped(sc);
      if (!growing && all.length < s.maxVUs) {
        growing = true;
        void h.acquire().then((v) => {
          all.push(v);
          idle.push(v);
          sc.allocated = all.length;
          growing = false;
        });
      }
      continue;
    }
    const p = h.iterate(vu, sc, due).then(() => {
      idle.push(vu);
    });
    running.push(p);
    // Bounds memory: the oldest of 4096 iterations have long ended; only the newest are awaited at the end.
    if (running.length > 4096) void running.splice(0, running.length - 1024);
  }
  await Promise.all(running);
  while (growing) await h.wait(5);
  for (const vu of all) h.release(vu);
}

async function vuExecutor(sc: ScenarioCtx, h: ExecutorHost): Promise<void> {
  const s = sc.spec;
  const steps = vuSteps(s).map(([t, v]) => [sc.startMs + t * 1000, v] as [number, number]);
  const rampDown = s.executor === 'ramping-vus' ? s.gracefulRampDown * 1000 : 0;
  let target = 0;
  const loops = new Map<number, Promise<void>>();
  const vuByIndex = new Map<number, Vu>();
  const cutAt = new Map<number, number>();
  const loop = async (index: number) => {
    const vu = await h.acquire();
    vuByIndex.set(index, vu);
    sc.allocated = Math.max(sc.allocated, vuByIndex.size);
    while (!h.stopped() && index < target && now() < sc.regularEndMs) await h.iterate(vu, sc, now());
    vuByIndex.delete(index);
    loops.delete(index);
    h.release(vu);
  };
  for (const [at, v] of steps) {
    await h.wait(at - now());
    if (h.stopped()) break;
    const prev = target;
    target = at >= sc.regularEndMs ? 0 : v;
    for (let i = 0; i < target; i++) if (!loops.has(i)) loops.set(i, loop(i));
    // A VU removed by a ramp-down may finish its iteration for gracefulRampDown, then it is interrupted.
    if (target < prev && at < sc.regularEndMs && rampDown >= 0) {
      for (let i = target; i < prev; i++) {
        const vu = vuByIndex.get(i);
        if (vu) {
          cutAt.set(i, at + rampDown);
          setTimeout(() => {
            if (vuByIndex.get(i) === vu && i >= target) vu.state.interrupt.abort('gracefulRampDown');
          }, rampDown).unref();
        }
      }
    }
  }
  await Promise.all([...loops.values()]);
}

async function iterationsExecutor(sc: ScenarioCtx, h: ExecutorHost): Promise<void> {
  const s = sc.spec as Extract<ScenarioSpec, { executor: 'shared-iterations' | 'per-vu-iterations' }>;
  let next = 0;
  let started = 0;
  const loop = async () => {
    const vu = await h.acquire();
    sc.allocated++;
    let mine = 0;
    for (;;) {
      if (h.stopped() || now() >= sc.regularEndMs) break;
      if (s.executor === 'shared-iterations') {
        if (next >= s.iterations) break;
        next++;
      } else if (mine >= s.iterations) break;
      mine++;
      started++;
      await h.iterate(vu, sc, now());
    }
    h.release(vu);
  };
  await Promise.all(Array.from({ length: s.vus }, () => loop()));
  // k6 reports the iterations that maxDuration left undone as dropped_iterations (facts §1.4).
  const undone = s.executor === 'shared-iterations' ? s.iterations - next : s.iterations * s.vus - started;
  for (let i = 0; i < undone; i++) h.dropped(sc);
}

/** Most VUs needed at once over the run (k6 initialises them all before the test starts). */
export function requiredVus(specs: ScenarioSpec[]): number {
  const ev: Array<[number, number]> = [];
  for (const s of specs) {
    const n = isArrivalRate(s) ? s.maxVUs : s.executor === 'ramping-vus' ? Math.max(s.startVUs, ...s.stages.map((x) => x.target)) : s.vus;
    const pre = isArrivalRate(s) ? s.preAllocatedVUs : n;
    ev.push([s.startTime, pre], [s.startTime + scenarioDuration(s) + s.gracefulStop, -pre]);
  }
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0,
    max = 0;
  for (const [, d] of ev) {
    cur += d;
    max = Math.max(max, cur);
  }
  return Math.max(1, max);
}

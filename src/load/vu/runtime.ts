/**
 * VU instances: one shared `node:vm` context for the run (async-aware builtins, console, timers) and
 * per VU one evaluation of the transformed module (k6's init context), with that VU's own k6 modules.
 * Memory per VU is the module's closures and exports plus the module objects, not a V8 context.
 * (Measured in test/load/vu-runtime.test.ts; see the note for the numbers.)
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { ASYNC_BUILTINS } from './builtins.ts';
import { CookieJar } from './cookie-jar.ts';
import { makeHttp } from './k6-http.ts';
import { makeJslib } from './jslib.ts';
import { LoopInterrupt, loopCheck } from './loop-guard.ts';
import { parseHTML } from './k6-html.ts';
import { makeCrypto, makeData, makeEncoding, makeExecution, makeK6, makeMetrics } from './k6-modules.ts';
import { markOwn, RealmGuard } from './realm-guard.ts';
import { sandboxGlobals } from './sandbox-globals.ts';
import { Interrupt, type VuHost, type VuState } from './vu-state.ts';

// Interrupt crosses into the script and back: its prototype is re-parented, so the engine's instanceof holds.
markOwn(Interrupt, LoopInterrupt);
const timers = () => {
  const { crypto: _crypto, ...t } = sandboxGlobals();
  return t;
};

export interface Vu {
  state: VuState;
  exports: Record<string, unknown>;
}

type ModuleFn = (
  require: (n: string) => unknown,
  module: { exports: unknown },
  exports: unknown,
  vu: VuState,
  open: (p: string, mode?: string) => unknown,
) => Promise<void>;

export class VuRuntime {
  readonly context: vm.Context;
  /** Every host value the script can reach goes through it (realm-guard.ts: what is and is not defended). */
  readonly guard: RealmGuard;
  private readonly fn: ModuleFn;
  private readonly parseJSON: (s: string) => unknown;
  private readonly toArray: (a: unknown[]) => unknown[];
  private readonly newObject: () => Record<string, unknown>;
  private readonly then: (p: Promise<unknown>, f: (v: unknown) => unknown) => Promise<unknown>;
  /** Chains on a context promise with context functions, so its jobs stay on the context's microtask queue. */
  readonly settle: (p: Promise<unknown>, box: { done?: boolean; err?: unknown; value?: unknown }) => void;
  private readonly finishInit: (p: Promise<void>, m: { exports: unknown }, st: VuState) => Promise<Record<string, unknown>>;

  /**
   * `microtasks: 'afterEvaluate'` (the probe in program.ts): everything the init code does, including
   * the continuations of its awaits, runs inside vm's time limit. The run's VUs use the normal mode,
   * since their awaits wait for real I/O.
   */
  constructor(
    code: string,
    readonly host: Omit<VuHost, 'realm'>,
    o: { timeoutMs?: number; afterEvaluate?: boolean; globalEnv: Record<string, string> },
  ) {
    this.context = vm.createContext(
      {},
      {
        codeGeneration: { strings: false, wasm: false },
        microtaskMode: o.afterEvaluate ? 'afterEvaluate' : undefined,
      },
    );
    this.guard = new RealmGuard(this.context);
    const globals = { console: makeConsole(host), ...sandboxGlobals(), __ENV: o.globalEnv };
    for (const [k, v] of Object.entries(globals))
      Object.defineProperty(this.context, k, { value: this.guard.expose(v), writable: true, configurable: true });
    const opts = { timeout: o.timeoutMs ?? 2000 };
    vm.runInContext(ASYNC_BUILTINS, this.context, opts);
    this.parseJSON = vm.runInContext('(s) => JSON.parse(s)', this.context) as (s: string) => unknown;
    this.toArray = vm.runInContext('(a) => Array.from(a)', this.context) as (a: unknown[]) => unknown[];
    this.newObject = vm.runInContext('() => ({})', this.context) as () => Record<string, unknown>;
    this.then = vm.runInContext('(p, f) => p.then((v) => f(v))', this.context) as VuRuntime['then'];
    this.settle = vm.runInContext(
      '(p, box) => { p.then((v) => { box.done = true; box.value = v; }, (e) => { box.done = true; box.err = e; }); }',
      this.context,
    ) as VuRuntime['settle'];
    this.finishInit = vm.runInContext(
      '(p, m, st) => p.then(() => { st.initPhase = false; return m.exports; })',
      this.context,
    ) as VuRuntime['finishInit'];
    this.fn = vm.runInContext(code, this.context, { ...opts, filename: 'k6-script.js' }) as ModuleFn;
  }

  /** The host with the realm helpers, the same object every VU holds: a later run can update its fields. */
  get realmHost(): VuHost {
    const h = this.host as VuHost;
    if (!h.realm) h.realm = { parseJSON: this.parseJSON, array: this.toArray, object: this.newObject, then: this.then };
    return h;
  }

  newState(id: number, env: Record<string, string>): VuState {
    return {
      id,
      iter: 0,
      iterInInstance: 0,
      iterInScenario: 0,
      tags: {},
      groupPath: '',
      jar: new CookieJar(),
      initPhase: true,
      intendedMs: 0,
      interrupt: new AbortController(),
      env,
      loops: 0,
      deadlineMs: Infinity,
      loopCheck(where: string) {
        loopCheck(this, where);
      },
    };
  }

  /** Evaluate the module for one VU (the init context). Resolves to its exports. */
  async init(state: VuState): Promise<Vu> {
    return { state, exports: await this.startInit(state) };
  }

  /** The init as a promise of the context's realm (see settle). */
  startInit(state: VuState): Promise<Record<string, unknown>> {
    const host = this.realmHost;
    const mods: Record<string, unknown> = {};
    // The module object is the API object itself with `default` pointing back at it, so default,
    // named and namespace imports all work however esbuild's interop reads it (getters stay live).
    const esm = (o: Record<string, unknown>) => Object.defineProperties(o, { __esModule: { value: true }, default: { value: o } });
    const require = (name: string) => {
      if (mods[name]) return mods[name];
      let m: Record<string, unknown>;
      switch (name) {
        case 'k6/http':
          m = makeHttp(host, state);
          break;
        case 'k6':
          m = makeK6(host, state);
          break;
        case 'k6/metrics':
          m = makeMetrics(host, state);
          break;
        case 'k6/data':
          m = makeData(host, state);
          break;
        case 'k6/execution':
          m = makeExecution(host, state);
          break;
        case 'k6/encoding':
          m = makeEncoding();
          break;
        case 'k6/crypto':
          m = makeCrypto();
          break;
        case 'k6/timers':
          m = timers();
          break;
        case 'k6/html':
          m = { parseHTML };
          break;
        default:
          if (name.startsWith('jslib:')) {
            m = makeJslib(name, host, state);
            break;
          }
          throw new Error(`module ${name} is not available`);
      }
      return (mods[name] = esm(m));
    };
    const open = (p: string, mode?: string) => {
      if (!state.initPhase) throw new Error('open() can only be called from the init context');
      const full = path.resolve(host.scriptDir, String(p));
      const buf = fs.readFileSync(full);
      return mode === 'b' ? buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) : buf.toString('utf8');
    };
    // The module function is the script's: it gets only context values (bridges, context objects).
    const g = this.guard;
    const module = this.newObject() as { exports: unknown };
    module.exports = this.newObject();
    const view = this.stateView(state);
    state.initPhase = true;
    const run = this.fn(g.bridge(require as never) as never, module, module.exports, view, g.bridge(open as never) as never);
    return this.finishInit(run, module, state);
  }

  /** What the script sees of its VU's state (`__VU`, `__ITER`, `__ENV`, the loop guard): a guarded view, not the state. */
  private stateView(state: VuState): VuState {
    const g = this.guard;
    return g.expose({
      get id() {
        return state.id;
      },
      get iter() {
        return state.iter;
      },
      get env() {
        return g.expose(state.env);
      },
      // The loop guard's counter and check (async-transform injects them at every loop's back edge).
      get loops() {
        return state.loops;
      },
      set loops(v: number) {
        state.loops = v;
      },
      loopCheck(where: string) {
        state.loopCheck(where);
      },
    }) as VuState;
  }
}

function makeConsole(host: Pick<VuHost, 'log'>) {
  const fmt = (args: unknown[]) =>
    args
      .map((a) => {
        if (typeof a === 'string') return a;
        if (a instanceof Error) return a.message;
        try {
          return JSON.stringify(a);
        } catch {
          return String(a);
        }
      })
      .join(' ');
  return {
    log: (...a: unknown[]) => host.log('info', fmt(a)),
    info: (...a: unknown[]) => host.log('info', fmt(a)),
    debug: (...a: unknown[]) => host.log('debug', fmt(a)),
    warn: (...a: unknown[]) => host.log('warn', fmt(a)),
    error: (...a: unknown[]) => host.log('error', fmt(a)),
    trace: (...a: unknown[]) => host.log('debug', fmt(a)),
  };
}

/**
 * The k6 modules other than k6/http, for one VU: `k6` (check, group, sleep, fail, randomSeed),
 * `k6/metrics`, `k6/data` (SharedArray), `k6/execution`, `k6/encoding`, `k6/crypto`, `k6/timers`.
 * Callbacks may be async (the transform makes any function that calls something async): results that
 * are promises are awaited, results that are not stay synchronous.
 */
import crypto from 'node:crypto';
import { Interrupt, sampleTags, throwIfInterrupted, type VuHost, type VuState } from './vu-state.ts';

const isThenable = (v: unknown): v is Promise<unknown> => !!v && typeof (v as { then?: unknown }).then === 'function';

/** SharedArray data per name, shared by every VU of the run (k6 keeps one copy too). */
const shared = new Map<string, unknown[]>();
export const resetShared = () => shared.clear();

export function makeK6(host: VuHost, vu: VuState) {
  const check = (val: unknown, sets: Record<string, unknown>, tags?: Record<string, unknown>): boolean | Promise<boolean> => {
    if (vu.initPhase) throw new Error('check() can only be used in a VU function, not in the init context');
    const entries = Object.entries(sets ?? {});
    let all = true;
    const emit = (name: string, ok: boolean) => {
      host.store.add('checks', ok ? 1 : 0, sampleTags(host, vu, { group: vu.groupPath, check: name, ...tags }));
      if (!ok) all = false;
    };
    for (let i = 0; i < entries.length; i++) {
      const [name, fn] = entries[i];
      let r: unknown;
      try {
        r = typeof fn === 'function' ? fn(val) : fn;
      } catch (e) {
        if (e instanceof Interrupt) throw e;
        emit(name, false);
        throw e;
      }
      if (isThenable(r)) {
        return (async () => {
          emit(name, Boolean(await r));
          for (const [n2, f2] of entries.slice(i + 1)) emit(n2, Boolean(typeof f2 === 'function' ? await f2(val) : f2));
          return all;
        })();
      }
      emit(name, Boolean(r));
    }
    return all;
  };

  const group = (name: string, fn: () => unknown): unknown => {
    if (vu.initPhase) throw new Error('group() can only be used in a VU function, not in the init context');
    if (String(name).includes('::')) throw new Error("group and check names may not contain '::'");
    const parent = vu.groupPath;
    vu.groupPath = `${parent}::${name}`;
    const t0 = performance.now();
    const end = () => {
      host.store.add('group_duration', performance.now() - t0, sampleTags(host, vu, { group: vu.groupPath }));
      vu.groupPath = parent;
    };
    let r: unknown;
    try {
      r = fn();
    } catch (e) {
      end();
      throw e;
    }
    if (isThenable(r))
      return r.then(
        (v) => {
          end();
          return v;
        },
        (e) => {
          end();
          throw e;
        },
      );
    end();
    return r;
  };

  const sleep = (seconds: unknown): Promise<void> => {
    throwIfInterrupted(vu);
    const ms = Math.max(0, Number(seconds) * 1000 * (host.timeScale ?? 1)) || 0;
    return new Promise((resolve, reject) => {
      const sig = vu.interrupt.signal;
      const onAbort = () => {
        clearTimeout(t);
        reject(new Interrupt('interrupted during sleep'));
      };
      const t = setTimeout(() => {
        sig.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      sig.addEventListener('abort', onAbort, { once: true });
    });
  };

  const fail = (msg = '') => {
    throw new Error(msg);
  };
  return { check, group, sleep, fail, randomSeed: (_n: number) => undefined };
}

export function makeMetrics(host: VuHost, vu: VuState) {
  const make = (type: 'counter' | 'gauge' | 'rate' | 'trend') =>
    class {
      readonly name: string;
      constructor(name: string, isTime = false) {
        if (!vu.initPhase) throw new Error('metrics must be declared in the init context (k6 refuses new metrics in VU code)');
        const err = host.store.define(String(name), type, type === 'trend' && isTime ? 'time' : 'default');
        if (err) throw new Error(err);
        this.name = String(name);
      }
      add(value: unknown, tags?: Record<string, unknown>): boolean {
        if (vu.initPhase) throw new Error('metric.add() can only be called in VU code, not in the init context');
        const v = type === 'rate' ? (value ? 1 : 0) : Number(value);
        if (!Number.isFinite(v)) {
          host.log('warn', `${this.name}.add(${String(value)}): not a number, sample dropped`);
          return false;
        }
        host.store.add(this.name, v, sampleTags(host, vu, { group: vu.groupPath, ...tags }));
        return true;
      }
    };
  return { Counter: make('counter'), Gauge: make('gauge'), Rate: make('rate'), Trend: make('trend') };
}

export function makeData(host: VuHost, vu: VuState) {
  return {
    SharedArray: function SharedArray(name: string, fn: () => unknown) {
      if (!vu.initPhase) throw new Error('SharedArray can only be created in the init context');
      if (typeof fn !== 'function') throw new Error('SharedArray needs a function that returns an array');
      const have = shared.get(name);
      if (have) return have;
      const finish = (arr: unknown) => {
        if (!Array.isArray(arr)) throw new Error(`SharedArray "${name}": the function must return an array, found ${typeof arr}`);
        const frozen = Object.freeze(host.realm.array(Array.from(arr as unknown[]).map((x) => deepFreeze(x))));
        shared.set(name, frozen as unknown[]);
        return frozen;
      };
      const r = fn();
      return isThenable(r) ? host.realm.then(r, finish) : finish(r);
    },
  };
}

function deepFreeze<T>(x: T): T {
  if (x && typeof x === 'object') {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

export function makeExecution(host: VuHost, vu: VuState) {
  // Read at use: VUs initialised before the run (engine.ts prewarm) see the run's execution state.
  const exe = () => host.execution;
  return {
    get vu() {
      return {
        idInInstance: vu.id,
        idInTest: vu.id,
        iterationInInstance: vu.iterInInstance,
        iterationInScenario: vu.iterInScenario,
        tags: vu.tags,
        metrics: { tags: vu.tags, metadata: {} },
      };
    },
    get scenario() {
      const s = vu.scenario;
      if (!s)
        throw new Error('k6/execution: scenario information is only available in VU code (not in the init context, setup or teardown)');
      return {
        name: s.name,
        executor: s.executor,
        startTime: s.startMs,
        progress: s.progress(),
        iterationInInstance: s.iterationInTest(),
        iterationInTest: s.iterationInTest(),
      };
    },
    get instance() {
      const e = exe();
      return {
        vusActive: e.vusActive(),
        vusInitialized: e.vusInitialized(),
        iterationsCompleted: e.iterationsCompleted(),
        iterationsInterrupted: e.iterationsInterrupted(),
        currentTestRunDuration: Date.now() - e.startMs,
      };
    },
    test: {
      abort: (reason = 'test aborted') => {
        exe().abort(String(reason));
        throw new Interrupt(`test aborted: ${reason}`);
      },
      get options() {
        return exe().options;
      },
    },
  };
}

const toBuf = (input: unknown, enc?: string): Buffer => {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (input instanceof ArrayBuffer || Object.prototype.toString.call(input) === '[object ArrayBuffer]')
    return Buffer.from(input as ArrayBuffer);
  if (ArrayBuffer.isView(input)) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return Buffer.from(String(input), (enc as BufferEncoding) ?? 'utf8');
};
const toArrayBuffer = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);

export function makeEncoding() {
  const variant = (s: string, enc = 'std') => {
    if (enc === 'std') return s;
    if (enc === 'rawstd') return s.replace(/=+$/, '');
    const url = s.replace(/\+/g, '-').replace(/\//g, '_');
    return enc === 'rawurl' ? url.replace(/=+$/, '') : url;
  };
  return {
    b64encode: (input: unknown, enc?: string) => variant(toBuf(input).toString('base64'), enc),
    b64decode: (input: string, enc?: string, format?: string) => {
      const b = Buffer.from(String(input), enc === 'url' || enc === 'rawurl' ? 'base64url' : 'base64');
      return format === 's' ? b.toString('utf8') : toArrayBuffer(b);
    },
  };
}

export function makeCrypto() {
  const out = (b: Buffer, enc?: string) =>
    enc === 'base64'
      ? b.toString('base64')
      : enc === 'base64url'
        ? b.toString('base64url')
        : enc === 'binary'
          ? toArrayBuffer(b)
          : b.toString('hex');
  const alg = (a: string) => a.toLowerCase().replace('sha512_256', 'sha512-256').replace('sha512_224', 'sha512-224');
  const hash = (a: string) => (input: unknown, enc?: string) => out(crypto.createHash(alg(a)).update(toBuf(input)).digest(), enc);
  // k6 (Go's hash.Hash) may digest more than once and keep updating; Node's may not, so the data is kept.
  const hasher = (make: () => crypto.Hash | crypto.Hmac) => {
    const parts: Buffer[] = [];
    return {
      update(d: unknown) {
        parts.push(toBuf(d));
        return this;
      },
      digest: (enc?: string) => {
        const h = make();
        for (const p of parts) h.update(p);
        return out(h.digest(), enc);
      },
    };
  };
  return {
    md4: hash('md4'),
    md5: hash('md5'),
    sha1: hash('sha1'),
    sha256: hash('sha256'),
    sha384: hash('sha384'),
    sha512: hash('sha512'),
    sha512_224: hash('sha512-224'),
    sha512_256: hash('sha512-256'),
    ripemd160: hash('ripemd160'),
    hmac: (a: string, secret: unknown, data: unknown, enc?: string) =>
      out(crypto.createHmac(alg(a), toBuf(secret)).update(toBuf(data)).digest(), enc),
    createHash: (a: string) => hasher(() => crypto.createHash(alg(a))),
    createHMAC: (a: string, secret: unknown) => hasher(() => crypto.createHmac(alg(a), toBuf(secret))),
    randomBytes: (n: number) => toArrayBuffer(crypto.randomBytes(n)),
  };
}

/**
 * The boundary between the host (Node) and the VU context (node:vm), against the classic escape:
 * every host object's prototype chain ends at the host's `Object.prototype` / `Function.prototype`, so
 * `require('k6/http').constructor.constructor('return process')()` reaches the host's `Function`
 * constructor — and the context's `codeGeneration: { strings: false }` does not bind that realm.
 *
 * What this defends (test/load/vu-sandbox.test.ts tries each vector):
 * - every function the script can reach is created inside the context (a bridge that calls the host
 *   function), so `.constructor`, `__proto__`, `.call/.bind` lead to the context's own intrinsics, whose
 *   `Function`/`eval` refuse strings;
 * - every host object handed to the script (module objects, responses, selections, metric objects,
 *   errors the host throws, promises the host returns, arrays, buffers, exec.* views) is re-parented
 *   in place onto the context's prototypes (Object, Array, Error, Promise, ArrayBuffer, typed arrays…);
 *   the prototypes of our own classes are re-parented once, a host builtin's prototype (URL, Timeout…)
 *   is never changed: its instances get a context-side mirror of its methods instead;
 * - a host error or rejection reaches the script re-parented (`e.constructor.constructor` is the
 *   context's Function); a host promise reaches it as a context promise;
 * - a callback the script passes to the host gets its arguments exposed the same way.
 *
 * What it does NOT defend: node:vm is not a security boundary. A bug in V8's context separation, an
 * infinite loop without calls inside an iteration (see the note in program.ts), memory exhaustion, and
 * host objects handed to the script by code that bypasses `expose` are out of reach of this file. An
 * object is walked once (first exposure); a host object that later gains a new host-realm child is not
 * re-walked — the host code that mutates exposed objects only stores primitives into them.
 */
import vm from 'node:vm';

type Fn = (...a: unknown[]) => unknown;
type Bridge = (self: unknown, args: unknown[], newTarget: unknown) => unknown;

/** Host globals whose prototypes have a same-named twin in the context. */
const TWINS = [
  'Object',
  'Function',
  'Array',
  'Error',
  'TypeError',
  'RangeError',
  'SyntaxError',
  'ReferenceError',
  'EvalError',
  'URIError',
  'AggregateError',
  'Promise',
  'Date',
  'RegExp',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Uint8Array',
  'Int8Array',
  'Uint8ClampedArray',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'BigUint64Array',
  'BigInt64Array',
  'Number',
  'String',
  'Boolean',
  'Symbol',
  'BigInt',
] as const;

const FACTORY = `'use strict';
(() => {
  const def = Object.defineProperty;
  return {
    // A context function that forwards to the host through a bridge only its closure can see.
    bridge: (call, name, length) => {
      const f = function (...args) { return call(this, args, new.target); };
      def(f, 'name', { value: name, configurable: true });
      def(f, 'length', { value: length, configurable: true });
      return f;
    },
    // A context promise that settles with the host promise, both outcomes exposed first.
    promise: (p, then, ok, err) => new Promise((res, rej) => { then.call(p, (v) => res(ok(v)), (e) => rej(err(e))); }),
    fnProto: Function.prototype,
  };
})()`;

export class RealmGuard {
  /** Host prototype → its context twin (or the context-side mirror of a host builtin prototype). */
  private readonly twin = new Map<object, object>();
  /** Prototypes of the host's builtins (globalThis constructors, Node's internal classes we meet). */
  private readonly builtin = new Set<object>();
  /** The context's prototypes (twins and mirrors): an object pointing at one is already re-parented. */
  private readonly ctxProtos = new Set<object>();
  private readonly seen = new WeakSet<object>();
  private readonly bridged = new WeakMap<Fn, Fn>();
  /** Context functions this guard made → the host function behind them (unwrapped when passed back). */
  private readonly hostOf = new WeakMap<Fn, Fn>();
  private readonly ctxFnProto: object;
  private readonly factory: {
    bridge: (call: Bridge, name: string, length: number) => Fn;
    promise: (p: Promise<unknown>, then: Fn, ok: (v: unknown) => unknown, err: (e: unknown) => unknown) => Promise<unknown>;
  };

  constructor(readonly context: vm.Context) {
    const ctx = vm.runInContext(`({ ${TWINS.join(', ')} })`, context) as Record<string, { prototype: object }>;
    const g = globalThis as unknown as Record<string, { prototype: object } | undefined>;
    for (const n of TWINS) if (g[n] && ctx[n]) this.twin.set(g[n].prototype, ctx[n].prototype);
    this.twin.set(Buffer.prototype, ctx.Uint8Array.prototype);
    // The intrinsics without a global name: async/generator function prototypes, %TypedArray%.
    const hostIntr = vm.runInThisContext(HIDDEN) as object[];
    const ctxIntr = vm.runInContext(HIDDEN, context) as object[];
    hostIntr.forEach((p, i) => this.twin.set(p, ctxIntr[i]));
    for (const p of this.twin.values()) this.ctxProtos.add(p);
    // Read through descriptors: a getter global (deprecated ones warn) is not called.
    for (const d of Object.values(Object.getOwnPropertyDescriptors(globalThis))) {
      const v = d.value as { prototype?: unknown } | undefined;
      if (typeof v === 'function' && v.prototype && typeof v.prototype === 'object') this.builtin.add(v.prototype);
    }
    this.factory = vm.runInContext(FACTORY, context) as RealmGuard['factory'];
    this.ctxFnProto = (this.factory as unknown as { fnProto: object }).fnProto;
  }

  /** Hand a host value to the script: functions bridged, objects re-parented (in place), recursively. */
  expose = (v: unknown): unknown => {
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return v;
    if (typeof v === 'function') return this.bridge(v as Fn);
    if (isThenable(v) && !this.isContextObject(v)) {
      const p = v as Promise<unknown>;
      return this.factory.promise(p, p.then as Fn, this.expose, this.expose);
    }
    this.walk(v);
    return v;
  };

  /** A context function forwarding to `f`; a function already from the context is returned as it is. */
  bridge(f: Fn): Fn {
    if (this.isContextFunction(f)) return f;
    const have = this.bridged.get(f);
    if (have) return have;
    const call: Bridge = (self, args, newTarget) => {
      const a = args.map(this.inbound);
      let r: unknown;
      try {
        r = newTarget ? Reflect.construct(f, a) : Reflect.apply(f, self, a);
      } catch (e) {
        throw this.expose(e);
      }
      return this.expose(r);
    };
    const w = this.factory.bridge(call, typeof f.name === 'string' ? f.name : '', f.length);
    if (f.prototype && typeof f.prototype === 'object') {
      this.walk(f.prototype as object);
      Object.defineProperty(w, 'prototype', { value: f.prototype, writable: false });
    }
    // Static members (Class.CONST, http.CookieJar's statics) follow the bridge.
    for (const k of Reflect.ownKeys(f))
      if (!['length', 'name', 'prototype', 'caller', 'arguments'].includes(k as string)) {
        const d = Reflect.getOwnPropertyDescriptor(f, k)!;
        Object.defineProperty(w, k, this.exposeDescriptor(d));
      }
    this.bridged.set(f, w);
    this.hostOf.set(w, f);
    return w;
  }

  /** An argument from the script to the host: our own bridges unwrap, a script callback gets exposed arguments. */
  private inbound = (a: unknown): unknown => {
    if (typeof a !== 'function') return a;
    const host = this.hostOf.get(a as Fn);
    if (host) return host;
    const cb = a as Fn;
    const expose = this.expose;
    return function (this: unknown, ...args: unknown[]) {
      return Reflect.apply(cb, expose(this), args.map(expose));
    };
  };

  private isContextFunction(f: Fn): boolean {
    for (let p = Object.getPrototypeOf(f) as object | null; p; p = Object.getPrototypeOf(p) as object | null)
      if (p === this.ctxFnProto) return true;
    return false;
  }

  private isContextObject(o: object): boolean {
    const p = Object.getPrototypeOf(o) as object | null;
    return p === null || this.ctxProtos.has(p);
  }

  private walk(o: object): void {
    if (this.seen.has(o)) return;
    this.seen.add(o);
    this.reparent(o);
    for (const k of Reflect.ownKeys(o)) {
      const d = Reflect.getOwnPropertyDescriptor(o, k);
      if (!d) continue;
      const nd = this.exposeDescriptor(d);
      if (nd.value !== d.value || nd.get !== d.get || nd.set !== d.set) {
        if (!d.configurable && !d.writable) throw new Error(`internal: a frozen host object would leak its property ${String(k)}`);
        Object.defineProperty(o, k, nd);
      }
    }
  }

  private exposeDescriptor(d: PropertyDescriptor): PropertyDescriptor {
    if ('value' in d) {
      const v = d.value as unknown;
      if (v !== null && (typeof v === 'object' || typeof v === 'function')) return { ...d, value: this.expose(v) };
      return d;
    }
    return {
      ...d,
      get: d.get && (this.bridge(d.get as Fn) as () => unknown),
      set: d.set && (this.bridge(d.set as Fn) as (x: unknown) => void),
    };
  }

  /** Point `o` at context prototypes: a twin directly, our class prototypes re-parented, a host builtin mirrored. */
  private reparent(o: object): void {
    const p = Object.getPrototypeOf(o) as object | null;
    if (p === null) return;
    const t = this.twin.get(p);
    if (t) {
      if (t !== p) setProto(o, t);
      return;
    }
    if (this.rootedInContext(p)) return; // a context prototype, or a script's own class
    // A prototype of our own (markOwn) is re-parented itself; anything else (a host builtin, one of
    // Node's internal classes, a class we did not mark) is never changed: the instance gets a mirror.
    if (OURS.has((p as { constructor?: object }).constructor ?? {}) && !this.builtin.has(p)) this.walk(p);
    else setProto(o, this.mirror(p));
  }

  private rootedInContext(p: object): boolean {
    for (let q: object | null = p; q; q = Object.getPrototypeOf(q) as object | null) {
      if (this.ctxProtos.has(q)) return true;
      if (this.twin.has(q)) return false;
    }
    return false;
  }

  /** A context object standing for a host builtin prototype: its methods and getters, bridged. */
  private mirror(p: object): object {
    const have = this.twin.get(p);
    if (have) return have;
    const parent = Object.getPrototypeOf(p) as object | null;
    const up = parent === null || this.ctxProtos.has(parent) ? parent : (this.twin.get(parent) ?? this.mirror(parent));
    const m = Object.create(up) as object;
    this.twin.set(p, m);
    this.ctxProtos.add(m);
    for (const k of Reflect.ownKeys(p)) {
      if (k === 'constructor') continue;
      const d = Reflect.getOwnPropertyDescriptor(p, k)!;
      Object.defineProperty(m, k, this.exposeDescriptor(d));
    }
    return m;
  }
}

function setProto(o: object, p: object): void {
  if (!Reflect.setPrototypeOf(o, p))
    throw new Error(
      `internal: a non-extensible host object (${Object.prototype.toString.call(o)}, ${(Object.getPrototypeOf(o) as { constructor?: { name?: string } })?.constructor?.name}) would leak to the script`,
    );
}

const isThenable = (v: unknown) => typeof (v as { then?: unknown }).then === 'function';

/** Classes of ours whose prototype the guard re-parents in place, so the host's `instanceof` keeps working. */
const OURS = new WeakSet<object>();
export function markOwn(...classes: Array<{ prototype: object }>): void {
  for (const c of classes) OURS.add(c);
}

/** The intrinsics without a global name, read with source text (allowed in the context: it is not eval). */
const HIDDEN = `[Object.getPrototypeOf(function* () {}), Object.getPrototypeOf(async function () {}),
  Object.getPrototypeOf(async function* () {}), Object.getPrototypeOf(Uint8Array.prototype),
  Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())), Object.getPrototypeOf([][Symbol.iterator]()),
  Object.getPrototypeOf(new Map()[Symbol.iterator]()), Object.getPrototypeOf(new Set()[Symbol.iterator]()),
  Object.getPrototypeOf(''[Symbol.iterator]()), Object.getPrototypeOf(/x/[Symbol.matchAll](''))]
  .map((p) => (typeof p === 'function' ? p.prototype : p))`;

/**
 * Guard a context made elsewhere (the plain-data reader in src/load/scenario.ts): every host value on
 * its global object is exposed through a RealmGuard, in place (the global keeps the same objects, so
 * the host still reads `module.exports` and sets `__VU`). Values the host sets on the global later must
 * be context values or go through the returned guard.
 */
export function guardGlobals(context: vm.Context): RealmGuard {
  const g = new RealmGuard(context);
  for (const k of Reflect.ownKeys(context)) {
    const d = Reflect.getOwnPropertyDescriptor(context, k);
    if (d && 'value' in d && d.value !== null && (typeof d.value === 'object' || typeof d.value === 'function'))
      Object.defineProperty(context, k, { ...d, value: g.expose(d.value) });
  }
  return g;
}

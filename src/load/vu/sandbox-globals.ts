/**
 * The host globals a k6 script may use (timers, WebCrypto), as fresh objects made for the context:
 * the host's own `crypto` object and its timers' Timeout objects never reach the script (realm-guard.ts
 * re-parents what it exposes, and the host's singletons must stay as they are). As in k6, the timer
 * functions return numbers.
 */
import { webcrypto } from 'node:crypto';

type Cb = (...a: unknown[]) => unknown;

export function sandboxGlobals(): Record<string, unknown> {
  const subtle = webcrypto.subtle;
  const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(subtle)).filter(
    (k) => k !== 'constructor' && typeof (subtle as unknown as Record<string, unknown>)[k] === 'function',
  );
  const crypto = {
    getRandomValues: <T extends ArrayBufferView>(a: T) => webcrypto.getRandomValues(a as never) as T,
    randomUUID: () => webcrypto.randomUUID(),
    subtle: Object.fromEntries(
      methods.map((k) => [k, (...a: unknown[]) => ((subtle as unknown as Record<string, Cb>)[k] as Cb).apply(subtle, a)]),
    ),
  };
  return {
    setTimeout: (fn: Cb, ms?: number, ...a: unknown[]) => Number(setTimeout(fn, ms, ...a)),
    clearTimeout: (id: unknown) => clearTimeout(id as number),
    setInterval: (fn: Cb, ms?: number, ...a: unknown[]) => Number(setInterval(fn, ms, ...a)),
    clearInterval: (id: unknown) => clearInterval(id as number),
    crypto,
  };
}

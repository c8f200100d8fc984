/**
 * Field-by-field difference of two canonical proxies (canonical.ts): every leaf that differs, is
 * missing on one side or only present on the other, with its path. Pure.
 */
import type { Json } from '../mesh/resources.ts';
import type { CanonicalProxy } from './canonical.ts';

export interface Difference {
  proxy: string;
  /** e.g. clusters/outbound|80||a.istio.svc.cluster.local/outlier_detection/interval */
  path: string;
  /** undefined: absent on that side. */
  ours: unknown;
  istiod: unknown;
}

const isObject = (x: unknown): x is Record<string, Json> => typeof x === 'object' && x !== null && !Array.isArray(x);

export function diffValues(ours: unknown, istiod: unknown, path: string, proxy: string, out: Difference[] = []): Difference[] {
  if (isObject(ours) && isObject(istiod)) {
    for (const k of [...new Set([...Object.keys(ours), ...Object.keys(istiod)])].sort())
      diffValues(ours[k], istiod[k], `${path}/${k}`, proxy, out);
  } else if (Array.isArray(ours) && Array.isArray(istiod)) {
    // Scalar lists (domains, ALPNs, filter names) are compared whole: their order is reported at once.
    if (!ours.some((x) => typeof x === 'object') && !istiod.some((x) => typeof x === 'object')) {
      if (JSON.stringify(ours) !== JSON.stringify(istiod)) out.push({ proxy, path, ours, istiod });
    } else {
      for (let i = 0; i < Math.max(ours.length, istiod.length); i++) diffValues(ours[i], istiod[i], `${path}[${i}]`, proxy, out);
    }
  } else if (JSON.stringify(ours) !== JSON.stringify(istiod)) {
    out.push({ proxy, path, ours, istiod });
  }
  return out;
}

/**
 * Resources present on only one side are one difference each (not one per field), so that e.g. a
 * catch-all cluster istiod adds reads as one line.
 */
export function diffProxy(proxy: string, ours: CanonicalProxy, istiod: CanonicalProxy): Difference[] {
  const out: Difference[] = [];
  for (const section of ['clusters', 'listeners', 'routes'] as const) {
    const a = ours[section];
    const b = istiod[section];
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const path = `${section}/${k}`;
      if (!(k in a)) out.push({ proxy, path, ours: undefined, istiod: summary(b[k]) });
      else if (!(k in b)) out.push({ proxy, path, ours: summary(a[k]), istiod: undefined });
      else diffValues(a[k], b[k], path, proxy, out);
    }
  }
  return out;
}

/** A whole resource in a message: present, not its body. */
const summary = (_x: Json) => 'present';

export const formatValue = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));

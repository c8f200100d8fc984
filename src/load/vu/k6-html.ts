/**
 * `k6/html` (parseHTML, Response.html()) for what load scripts do with it: pick an element with a
 * simple CSS selector and read its text, attribute or value (CSRF tokens, links, form fields). A
 * tolerant parser (void and raw-text elements, unclosed tags) and a selector subset: tag, #id, .class,
 * [attr], [attr=v], [attr^=v], [attr$=v], [attr*=v], [attr~=v], descendant and child (>) combinators,
 * comma groups, :first-child. Anything else is a clear error rather than a silently empty selection.
 */

interface El {
  tag: string;
  attrs: Record<string, string>;
  children: Array<El | string>;
  parent?: El;
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
const RAW = new Set(['script', 'style', 'textarea', 'title']);

const decode = (s: string) =>
  s.replace(/&(#x?[0-9a-f]+|amp|lt|gt|quot|apos|nbsp);/gi, (_m, e: string) => {
    const l = e.toLowerCase();
    if (l[0] === '#') return String.fromCodePoint(l[1] === 'x' ? parseInt(l.slice(2), 16) : Number(l.slice(1)));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' } as Record<string, string>)[l];
  });

export function parseDocument(html: string): El {
  const root: El = { tag: '#document', attrs: {}, children: [] };
  let cur = root;
  const re =
    /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<![^>]*>|<\/\s*([a-zA-Z][\w:-]*)\s*>|<([a-zA-Z][\w:-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*(\/?)>/g;
  let at = 0;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    if (m.index > at) cur.children.push(decode(html.slice(at, m.index)));
    at = re.lastIndex;
    if (m[1]) {
      const tag = m[1].toLowerCase();
      for (let e: El | undefined = cur; e && e !== root; e = e.parent)
        if (e.tag === tag) {
          cur = e.parent ?? root;
          break;
        }
      continue;
    }
    if (!m[2]) continue;
    const tag = m[2].toLowerCase();
    const attrs: Record<string, string> = {};
    for (const a of m[3].matchAll(/([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g))
      attrs[a[1].toLowerCase()] = decode(a[2] ?? a[3] ?? a[4] ?? '');
    const el: El = { tag, attrs, children: [], parent: cur };
    cur.children.push(el);
    if (RAW.has(tag) && !m[4]) {
      const end = html.toLowerCase().indexOf(`</${tag}`, at);
      const stop = end < 0 ? html.length : end;
      el.children.push(tag === 'textarea' || tag === 'title' ? decode(html.slice(at, stop)) : html.slice(at, stop));
      at = stop;
      re.lastIndex = stop;
    } else if (!VOID.has(tag) && !m[4]) cur = el;
  }
  if (at < html.length) cur.children.push(decode(html.slice(at)));
  return root;
}

type Simple = {
  tag?: string;
  id?: string;
  classes: string[];
  attrs: Array<{ name: string; op?: string; value?: string }>;
  firstChild?: boolean;
};
type Step = { comb: ' ' | '>'; simple: Simple };

function parseSelector(sel: string): Step[][] {
  return sel.split(',').map((group) => {
    const steps: Step[] = [];
    const re = /\s*(>)?\s*([^\s>]+)/g;
    for (let m = re.exec(group.trim()); m; m = re.exec(group.trim())) {
      const simple: Simple = { classes: [], attrs: [] };
      let rest = m[2];
      const tm = /^([a-zA-Z][\w-]*|\*)/.exec(rest);
      if (tm) {
        if (tm[1] !== '*') simple.tag = tm[1].toLowerCase();
        rest = rest.slice(tm[1].length);
      }
      while (rest) {
        let p: RegExpExecArray | null;
        if ((p = /^#([\w-]+)/.exec(rest))) simple.id = p[1];
        else if ((p = /^\.([\w-]+)/.exec(rest))) simple.classes.push(p[1]);
        else if ((p = /^\[\s*([\w:-]+)\s*(?:([~^$*]?=)\s*(?:"([^"]*)"|'([^']*)'|([^\]\s]*)))?\s*\]/.exec(rest)))
          simple.attrs.push({ name: p[1].toLowerCase(), op: p[2], value: p[3] ?? p[4] ?? p[5] });
        else if ((p = /^:first-child/.exec(rest))) simple.firstChild = true;
        else
          throw new Error(
            `html: selector "${sel}" uses "${rest}", which the embedded engine does not support (tag, #id, .class, [attr=value], descendant and > combinators, :first-child)`,
          );
        rest = rest.slice(p[0].length);
      }
      steps.push({ comb: m[1] ? '>' : ' ', simple });
    }
    return steps;
  });
}

function matches(e: El, s: Simple): boolean {
  if (s.tag && e.tag !== s.tag) return false;
  if (s.id && e.attrs.id !== s.id) return false;
  const cls = (e.attrs.class ?? '').split(/\s+/);
  if (s.classes.some((c) => !cls.includes(c))) return false;
  if (s.firstChild && e.parent?.children.find((c) => typeof c !== 'string') !== e) return false;
  return s.attrs.every(({ name, op, value = '' }) => {
    const v = e.attrs[name];
    if (v === undefined) return false;
    switch (op) {
      case undefined:
        return true;
      case '=':
        return v === value;
      case '^=':
        return v.startsWith(value);
      case '$=':
        return v.endsWith(value);
      case '*=':
        return v.includes(value);
      default:
        return v.split(/\s+/).includes(value);
    }
  });
}

const descendants = (e: El, out: El[] = []): El[] => {
  for (const c of e.children)
    if (typeof c !== 'string') {
      out.push(c);
      descendants(c, out);
    }
  return out;
};

function select(from: El[], sel: string): El[] {
  const found = new Set<El>();
  for (const group of parseSelector(sel)) {
    let cur = from;
    for (const step of group) {
      const next: El[] = [];
      for (const e of cur)
        for (const c of step.comb === '>' ? e.children.filter((x): x is El => typeof x !== 'string') : descendants(e))
          if (matches(c, step.simple) && !next.includes(c)) next.push(c);
      cur = next;
    }
    for (const e of cur) found.add(e);
  }
  const order = new Map(from.flatMap((f) => descendants(f)).map((e, i) => [e, i]));
  return [...found].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
}

const textOf = (e: El): string => e.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');

export class Selection {
  constructor(private readonly els: El[]) {}
  find(sel: string): Selection {
    return new Selection(select(this.els, sel));
  }
  text(): string {
    return this.els.map(textOf).join('');
  }
  attr(name: string, def?: string): string | undefined {
    return this.els[0]?.attrs[name.toLowerCase()] ?? def;
  }
  val(): string | undefined {
    const e = this.els[0];
    if (!e) return undefined;
    if (e.tag === 'textarea') return textOf(e);
    if (e.tag === 'select') {
      const o = select([e], 'option').find((x) => 'selected' in x.attrs) ?? select([e], 'option')[0];
      return o ? (o.attrs.value ?? textOf(o)) : undefined;
    }
    return e.attrs.value ?? '';
  }
  size(): number {
    return this.els.length;
  }
  get length(): number {
    return this.els.length;
  }
  first(): Selection {
    return new Selection(this.els.slice(0, 1));
  }
  last(): Selection {
    return new Selection(this.els.slice(-1));
  }
  eq(i: number): Selection {
    return new Selection(this.els.slice(i, i + 1));
  }
  children(sel?: string): Selection {
    const c = this.els.flatMap((e) => e.children.filter((x): x is El => typeof x !== 'string'));
    return new Selection(sel ? c.filter((x) => select([{ tag: '#', attrs: {}, children: [x] }], sel).includes(x)) : c);
  }
  parent(): Selection {
    return new Selection(this.els.map((e) => e.parent).filter((p): p is El => !!p && p.tag !== '#document'));
  }
  each(fn: (i: number, s: Selection) => unknown): unknown {
    // The callback may be async after the transform: wait for each in turn.
    let chain: Promise<unknown> | undefined;
    this.els.forEach((e, i) => {
      if (chain) {
        chain = chain.then(() => fn(i, new Selection([e])));
        return;
      }
      const r = fn(i, new Selection([e]));
      if (r && typeof (r as Promise<unknown>).then === 'function') chain = r as Promise<unknown>;
    });
    return chain ? chain.then(() => this) : this;
  }
  map<T>(fn: (i: number, s: Selection) => T): T[] {
    return this.els.map((e, i) => fn(i, new Selection([e])));
  }
  toArray(): Selection[] {
    return this.els.map((e) => new Selection([e]));
  }
  get(i: number): { textContent: string; id?: string; nodeName: string } | undefined {
    const e = this.els[i];
    return e && { textContent: textOf(e), id: e.attrs.id, nodeName: e.tag.toUpperCase() };
  }
}

export const parseHTML = (html: string) => new Selection([parseDocument(String(html))]);

/**
 * Makes a k6 script's synchronous API run on Node's event loop: every user function that makes a call
 * becomes `async` and every call inside such a function is awaited, so `const res = http.get(url)`
 * yields to the event loop while the request is in flight and `res` is the Response on the next line,
 * as in k6. Input is esbuild's bundle (plain ES2022, TypeScript and local imports already resolved).
 *
 * Why this mechanism (measured, see test/load/vu-runtime.test.ts and the note): the alternatives were
 * a worker thread per VU that blocks on Atomics.wait while another thread does the I/O (a V8 isolate
 * per VU: ~10 MB each, so 1,000 VUs do not fit the ≤ 1 MB/VU target), or a second JS engine with
 * suspendable host calls (none in the dependencies, and an interpreter is 10-100x slower than V8).
 * With this transform all VUs share one V8 context and one event loop; a VU is its own module instance
 * (closures), which is what k6's per-VU init context gives a script.
 *
 * What stays synchronous, and why: functions that make no call at all (`r => r.status === 200`), so
 * comparators and predicates keep working with native builtins; getters, setters, constructors,
 * generators and class field initialisers (the language forbids `await` there); default parameter
 * values (same). Higher-order builtins that get an async callback (`forEach`, `map`, `replace`, ...) are
 * made async-aware in the VU context (see builtins.ts), since the call site awaits their result.
 */
import { parse, type Node } from 'acorn';
import { LOOP_MASK } from './loop-guard.ts';

interface Edit {
  pos: number;
  text: string;
  /** Order among edits at the same position: lower first. */
  rank: number;
}

type AnyNode = Node & Record<string, unknown>;

const isNode = (v: unknown): v is AnyNode => typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';

function children(n: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  for (const k of Object.keys(n)) {
    if (k === 'type' || k === 'start' || k === 'end' || k === 'loc' || k === 'range') continue;
    const v = n[k];
    if (Array.isArray(v))
      for (const c of v) {
        if (isNode(c)) out.push(c);
      }
    else if (isNode(v)) out.push(v);
  }
  return out;
}

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/** Does the function's own body (not nested functions) contain a call or `new`? */
function hasOwnCall(fn: AnyNode): boolean {
  let found = false;
  const visit = (n: AnyNode) => {
    if (found) return;
    if (
      n.type === 'CallExpression' ||
      n.type === 'NewExpression' ||
      n.type === 'TaggedTemplateExpression' ||
      n.type === 'AwaitExpression'
    ) {
      found = true;
      return;
    }
    if (FUNCTION_TYPES.has(n.type) || n.type === 'ClassBody') return;
    for (const c of children(n)) visit(c);
  };
  visit(fn.body as AnyNode);
  return found;
}

/** Identifiers k6 gives every VU that change per VU or per iteration: read from the VU's own state. */
const VU_GLOBALS = new Map([
  ['__VU', '__k6vu.id'],
  ['__ITER', '__k6vu.iter'],
  ['__ENV', '__k6vu.env'],
]);

export class TransformError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/**
 * Returns `async function (require, module, exports, __k6vu, open) { <code> }` as source: calling it
 * evaluates the module for one VU (its init context) and resolves when the init code is done.
 */
export function asyncWrap(code: string): string {
  const wrapped = `(async function (require, module, exports, __k6vu, open) {\n${code}\n})`;
  let ast: AnyNode;
  try {
    ast = parse(wrapped, { ecmaVersion: 'latest', sourceType: 'script', allowAwaitOutsideFunction: false }) as unknown as AnyNode;
  } catch (e) {
    const err = e as { message: string; loc?: { line: number } };
    throw new TransformError(err.message, err.loc ? err.loc.line - 1 : undefined);
  }
  const edits: Edit[] = [];
  const replaced: Array<[number, number, string]> = [];
  const guard = loopGuards(wrapped);
  // `await` allowed in the current function? (the outer wrapper is async)
  const walk = (n: AnyNode, canAwait: boolean, parent?: AnyNode): void => {
    if (FUNCTION_TYPES.has(n.type)) {
      const isMethod =
        parent && (parent.type === 'MethodDefinition' || (parent.type === 'Property' && (parent.method || parent.kind !== 'init')));
      const kind = parent?.kind as string | undefined;
      const syncOnly = n.generator === true || (isMethod && (kind === 'get' || kind === 'set' || kind === 'constructor'));
      let makeAsync = false;
      if (!n.async && !syncOnly && hasOwnCall(n)) {
        makeAsync = true;
        edits.push({ pos: isMethod ? (parent!.start as number) : n.start, text: 'async ', rank: -1e9 });
        if (isMethod && parent!.static) {
          // `static foo()`: async goes after `static`.
          edits.pop();
          edits.push({ pos: (parent!.key as AnyNode).start - ((parent!.computed as boolean) ? 1 : 0), text: 'async ', rank: -1e9 });
        }
      }
      const inner = !syncOnly && (n.async === true || makeAsync) && n.generator !== true;
      for (const p of n.params as AnyNode[]) walk(p, false, n);
      if (n.id) walk(n.id as AnyNode, false, n);
      walk(n.body as AnyNode, inner, n);
      return;
    }
    if (n.type === 'PropertyDefinition' || n.type === 'StaticBlock') {
      for (const c of children(n)) walk(c, false, n);
      return;
    }
    if (n.type === 'Identifier' && VU_GLOBALS.has(n.name as string) && !(parent && isBindingPosition(parent, n))) {
      const expr = VU_GLOBALS.get(n.name as string)!;
      const shorthandValue = parent?.type === 'Property' && parent.shorthand && parent.value === n;
      replaced.push([n.start, n.end, shorthandValue ? `${n.name as string}: ${expr}` : expr]);
      return;
    }
    if (LOOP_TYPES.has(n.type)) guard(n, edits);
    // `new` too: a constructor such as SharedArray may return a promise when its callback is async.
    // `new Promise(...)` is left alone, since awaiting it would turn the promise into its value.
    const isNew = n.type === 'NewExpression' && !((n.callee as AnyNode).type === 'Identifier' && (n.callee as AnyNode).name === 'Promise');
    if ((n.type === 'CallExpression' || isNew) && canAwait && !isSuperOrImport(n) && !returnsPromise(n)) {
      const span = n.end - n.start;
      edits.push({ pos: n.start, text: '(await ', rank: -span });
      edits.push({ pos: n.end, text: ')', rank: span - 1e12 });
    }
    for (const c of children(n)) walk(c, canAwait, n);
  };
  walk(ast, false);
  return applyEdits(wrapped, edits, replaced);
}

/**
 * k6's promise-returning calls (`http.asyncRequest(...)`) keep their promise, so `.then()`, `await` and
 * `Promise.all` see what k6 gives them; the iteration still waits for the request (engine.ts).
 */
function returnsPromise(n: AnyNode): boolean {
  const c = n.callee as AnyNode;
  return n.type === 'CallExpression' && c.type === 'MemberExpression' && !c.computed && (c.property as AnyNode).name === 'asyncRequest';
}

/**
 * Applies the insertions and replacements. Closing parens before opening ones at the same position;
 * among opens the widest first, among closes the narrowest first, so nested calls nest correctly.
 */
function applyEdits(wrapped: string, edits: Edit[], replaced: Array<[number, number, string]>): string {
  edits.sort((a, b) => a.pos - b.pos || a.rank - b.rank);
  replaced.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  let ei = 0;
  let ri = 0;
  while (ei < edits.length || ri < replaced.length) {
    const nextEdit = ei < edits.length ? edits[ei].pos : Infinity;
    const nextRep = ri < replaced.length ? replaced[ri][0] : Infinity;
    if (nextEdit <= nextRep) {
      out += wrapped.slice(at, nextEdit) + edits[ei].text;
      at = nextEdit;
      ei++;
    } else {
      const [s, e, text] = replaced[ri++];
      out += wrapped.slice(at, s) + text;
      at = e;
    }
  }
  return out + wrapped.slice(at);
}

const LOOP_TYPES = new Set(['ForStatement', 'ForInStatement', 'ForOfStatement', 'WhileStatement', 'DoWhileStatement']);

/**
 * The back-edge guard of loop-guard.ts: the loop's body becomes `{ <guard> <body> }`. Edits at the
 * body's ends are ranked between the closing parens (which end expressions before them) and the opening
 * ones / `async ` (which start expressions after them). The guard's call is inserted after the call
 * analysis, so it is never awaited and a loop-only function stays synchronous.
 */
function loopGuards(code: string): (loop: AnyNode, edits: Edit[]) => void {
  const lineStarts = [0];
  for (let i = code.indexOf('\n'); i >= 0; i = code.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  // esbuild marks each bundled module with a `// path` comment line.
  const files: Array<[number, string]> = [];
  for (const m of code.matchAll(/^\/\/ (\S.*\.(?:[cm]?[jt]s|tsx?|jsx))$/gm)) files.push([m.index, m[1]]);
  const lineOf = (pos: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo; // the wrapper's first line is not the script's
  };
  return (loop, edits) => {
    const body = loop.body as AnyNode;
    const file = files.filter(([at]) => at < loop.start).pop()?.[1] ?? 'the script';
    const head = code.slice(loop.start, Math.min(body.start, loop.start + 80)).split('\n')[0];
    const where = JSON.stringify(`${file}\u0000${lineOf(loop.start)}\u0000${head}`);
    edits.push({ pos: body.start, text: `{ if ((++__k6vu.loops & ${LOOP_MASK}) === 0) __k6vu.loopCheck(${where}); `, rank: -5e11 });
    edits.push({ pos: body.end, text: ' }', rank: -5e11 });
  };
}

function isSuperOrImport(n: AnyNode): boolean {
  if (n.type === 'NewExpression') return false;
  const callee = n.callee as AnyNode;
  return callee.type === 'Super' || callee.type === 'Import';
}

/** `__VU` used as a property key or declared by the script itself is not k6's global. */
function isBindingPosition(parent: AnyNode, id: AnyNode): boolean {
  if (parent.type === 'MemberExpression' && parent.property === id && !parent.computed) return true;
  if (parent.type === 'Property' && parent.key === id && !parent.computed) return true;
  if (parent.type === 'VariableDeclarator' && parent.id === id) return true;
  return false;
}

/**
 * Property-based fuzzing of the experiment loader: random mutations of experiments/peak-load.yaml --
 * of its structure (replace, delete, rename, add fields anywhere, with values of any type), of its
 * text (bytes inserted or cut anywhere), of `--set` overrides and of the time scale -- must yield
 * either a valid experiment or a SpilloverError whose every problem names the file, where (a field
 * path or a line) and what is wrong. Never a TypeError, never a crash. The same for k6 scenario scripts
 * (their text, their options and requests) through the scenario loader. None may take 5 s or more
 * (a hang): the slowest case is measured and reported.
 *
 * Issue 11 asks for at least 1,000 experiment and 1,000 scenario mutations per `npm test`: the
 * defaults below add up to 1,100 and 1,000 (FUZZ_RUNS scales them all).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { SpilloverError } from '../../src/errors.ts';
import { parseExperiment } from '../../src/experiment/read-experiment.ts';
import { readScenario } from '../../src/load/scenario.ts';
import { PEAK_SCENARIO, peakLoadDoc, peakLoadText, REPO_ROOT, tmpDir } from './harness.ts';

const FILE = 'experiments/fuzzed.yaml';
const ABS = path.join(REPO_ROOT, FILE);
/** Runs per property, scaled from a default of 1 (FUZZ_RUNS=2 doubles every count). */
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
/** A case slower than this is a hang, whatever the machine's load (the real ones take milliseconds). */
const HANG_MS = 5000;
let slowest = { ms: 0, what: '' };
function timed<T>(what: string, f: () => T): T {
  const t0 = performance.now();
  try {
    return f();
  } finally {
    const ms = performance.now() - t0;
    if (ms > slowest.ms) slowest = { ms, what };
    assert.ok(ms < HANG_MS, `a case took ${ms.toFixed(0)} ms (a hang): ${what}`);
  }
}
async function timedAsync<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    const ms = performance.now() - t0;
    if (ms > slowest.ms) slowest = { ms, what };
    assert.ok(ms < HANG_MS, `a case took ${ms.toFixed(0)} ms (a hang): ${what}`);
  }
}

type Json = unknown;
type Path = Array<string | number>;

/** Every path in the base experiment, so mutations hit real fields as often as random ones. */
function pathsOf(v: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}

const BASE = peakLoadDoc().toJS() as Record<string, Json>;
const PATHS = pathsOf(BASE).filter((p) => p.length > 0);

/** Values a user might plausibly write where another was expected, plus anything at all. */
const value = fc.oneof(
  fc.constantFrom(
    '10s',
    '250ms',
    '1m30s',
    '-1s',
    '0ms',
    '1d',
    '',
    ' ',
    '127.0.9.0/24',
    '10.0.0.0/24',
    'cluster-1',
    'cluster-3',
    'ISTIO_MUTUAL',
    'DestinationRule',
    '{{gateway.cluster-2}}',
    '__proto__',
    'constructor',
  ),
  fc.constantFrom(0, -1, 1, 2.5, 65536, 1e308, Number.MAX_SAFE_INTEGER, null, true, false),
  fc.constantFrom([], {}, [null], { kind: 'DestinationRule' }, { distribution: 'fixed' }, [{ at: '1s', action: 'kill', target: 'a' }]),
  fc.anything({ maxDepth: 2, maxKeys: 3, withNullPrototype: true }),
);

const mutation = fc.record({
  at: fc.nat({ max: PATHS.length - 1 }),
  op: fc.constantFrom('replace', 'delete', 'rename', 'add', 'wrap-in-list'),
  key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'tls', 'seeed', 'consecutiveErrors', '0')),
  value,
});

function clone<T>(v: T): T {
  return structuredClone(v);
}

function apply(doc: Record<string, Json>, m: { at: number; op: string; key: string; value: Json }, paths: Path[] = PATHS): void {
  const p = paths[m.at];
  let parent: Record<string | number, Json> | undefined = doc as Record<string | number, Json>;
  for (const seg of p.slice(0, -1)) {
    parent = parent?.[seg] as Record<string | number, Json> | undefined;
    if (parent === null || typeof parent !== 'object') return; // an earlier mutation removed the way here
  }
  if (!parent) return;
  const last = p[p.length - 1];
  switch (m.op) {
    case 'replace':
      parent[last] = m.value;
      break;
    case 'delete':
      if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
      else delete parent[last];
      break;
    case 'rename':
      if (!Array.isArray(parent) && last in parent) {
        Object.defineProperty(parent, m.key, { value: parent[last], enumerable: true, configurable: true, writable: true });
        if (m.key !== last) delete parent[last];
      }
      break;
    case 'add': {
      const target = parent[last];
      if (target && typeof target === 'object' && !Array.isArray(target)) {
        Object.defineProperty(target, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
      } else if (Array.isArray(target)) target.push(m.value);
      break;
    }
    case 'wrap-in-list':
      parent[last] = [parent[last]];
      break;
  }
}

/** The property: a result, or a SpilloverError every problem of which says where and what. */
function checkOutcome(run: () => unknown): void {
  try {
    const r = timed('experiment', run) as { spec?: unknown };
    assert.ok(r && r.spec, 'a loaded experiment has a spec');
  } catch (e) {
    checkError(e);
  }
}

function checkError(e: unknown): void {
  {
    if (!(e instanceof SpilloverError)) throw new Error(`not a SpilloverError: ${(e as Error)?.stack ?? String(e)}`);
    assert.ok(e.problems.length > 0, 'at least one problem');
    assert.equal(e.exitCode, 2, 'bad input exits 2');
    for (const p of e.problems) {
      assert.ok(p.file, `problem without a file: ${JSON.stringify(p)}`);
      assert.ok(p.path || p.line || p.file.startsWith('--'), `problem that says neither path nor line: ${JSON.stringify(p)}`);
      assert.ok(typeof p.message === 'string' && p.message.length > 0, `problem without a message: ${JSON.stringify(p)}`);
      assert.doesNotMatch(p.message, /\bundefined\b|\[object Object\]/, `a message leaking internals: ${p.message}`);
    }
  }
}

describe('hardening: fuzzing the experiment loader', function () {
  this.timeout(120_000);

  it('the unmutated base loads (otherwise every run below would test the same error)', () => {
    const r = parseExperiment(peakLoadText(), FILE, ABS);
    assert.equal(r.spec.metadata.name, 'peak-load');
  });

  it('structural mutations: a valid experiment or a SpilloverError naming file, path and problem', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        const doc = clone(BASE);
        for (const m of ms) apply(doc, m);
        let text: string;
        try {
          text = stringify(doc);
        } catch {
          fc.pre(false); // not representable as YAML: not an input a user can write
          return;
        }
        checkOutcome(() => parseExperiment(text, FILE, ABS));
      }),
      { numRuns: runs(400) },
    );
  });

  it('text mutations: bytes cut or inserted anywhere', () => {
    const base = peakLoadText();
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.nat({ max: base.length }),
            cut: fc.nat({ max: 40 }),
            insert: fc.oneof(
              fc.string({ maxLength: 8 }),
              fc.constantFrom(
                '\t',
                ': ',
                '- ',
                '{',
                '}',
                '[',
                '"',
                "'",
                '&a',
                '*a',
                '!!binary ',
                '<<: *a',
                '\n  ',
                '%YAML 1.1\n---\n',
                '---\n',
              ),
            ),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        (edits) => {
          let text = base;
          for (const e of edits) {
            const at = Math.min(e.at, text.length);
            text = text.slice(0, at) + e.insert + text.slice(at + e.cut);
          }
          checkOutcome(() => parseExperiment(text, FILE, ABS));
        },
      ),
      { numRuns: runs(400) },
    );
  });

  it('overrides and time scales: --set any path to anything, any --time-scale', () => {
    const base = peakLoadText();
    const setPath = fc.oneof(
      fc.constantFrom(
        ...PATHS.map((p) =>
          p
            .map((s) => (typeof s === 'number' ? `[${s}]` : s))
            .join('.')
            .replace(/\.\[/g, '['),
        ),
      ),
      fc.constantFrom(
        'resources.DestinationRule/a.spec.trafficPolicy.tls.mode',
        'resources.ServiceEntry/a.spec.hosts[0]',
        'resources.Nope/x.spec',
        'a..b',
        '[0]',
        'services.A[3].x',
        '__proto__.polluted',
        'constructor.prototype.x',
      ),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            setPath,
            fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('5', '-1', '2s', 'null', '[1,2]', '{a: 1}', '"quoted"', '')),
          ),
          { maxLength: 3 },
        ),
        fc.option(fc.oneof(fc.double({ noNaN: false }), fc.constantFrom(0, 0.05, 1, 1.5, -0.1)), { nil: undefined }),
        (sets, timeScale) => {
          checkOutcome(() => parseExperiment(base, FILE, ABS, { set: sets.map(([p, v]) => `${p}=${v}`), timeScale }));
          // Prototype pollution through a path would be a security bug, not just a crash.
          assert.equal(({} as Record<string, unknown>).polluted, undefined);
          assert.equal(({} as Record<string, unknown>).x, undefined);
        },
      ),
      { numRuns: runs(300) },
    );
  });
});

/** The options and requests of scenarios/peak-load.js as data, the base the structural mutations break. */
const BASE_SCENARIO = {
  requests: [{ method: 'GET', url: 'http://a.istio.svc.cluster.local/work', headers: { 'x-spillover-scenario': 'peak' } }],
  options: {
    scenarios: {
      peak: {
        executor: 'ramping-arrival-rate',
        startRate: 20,
        timeUnit: '1s',
        preAllocatedVUs: 100,
        maxVUs: 1000,
        stages: [
          { duration: '10s', target: 20 },
          { duration: '20s', target: 250 },
          { duration: '20s', target: 20 },
        ],
        gracefulStop: '5s',
      },
    },
  },
};
const SCENARIO_PATHS = pathsOf(BASE_SCENARIO).filter((p) => p.length > 0);
const scenarioValue = fc.oneof(
  fc.constantFrom(
    '1s',
    '0s',
    '-1s',
    '1d',
    '10',
    '',
    'constant-arrival-rate',
    'ramping-vus',
    'constant-vus',
    'per-vu-iterations',
    'externally-controlled',
    'POST',
    'http://10.0.0.1/',
    'ftp://x',
    '__proto__',
  ),
  fc.constantFrom(0, -1, 1, 0.5, 1e9, 1e308, Number.MAX_SAFE_INTEGER, null, true, false),
  fc.constantFrom([], {}, [null], [{ duration: '1s', target: 1 }], { executor: 'constant-vus', vus: 1, duration: '1s' }),
  fc.anything({ maxDepth: 2, maxKeys: 3 }),
);
const scenarioMutation = fc.record({
  at: fc.nat({ max: SCENARIO_PATHS.length - 1 }),
  op: fc.constantFrom('replace', 'delete', 'rename', 'add', 'wrap-in-list'),
  key: fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom('__proto__', 'constructor', 'executor', 'stages', 'vus', 'iterations', 'exec', 'env', 'tags'),
  ),
  value: scenarioValue,
});

/** A k6 script exporting `data` as its requests and options, with the default function a loop over them. */
const scriptOf = (data: Record<string, Json>) =>
  `import http from 'k6/http';\nexport const requests = ${JSON.stringify(data.requests) ?? 'undefined'};\nexport const options = ${JSON.stringify(data.options) ?? 'undefined'};\n` +
  'export default function () {\n  for (const r of requests) http.request(r.method, r.url, r.body || null, { headers: r.headers });\n}\n';

async function checkScenario(file: string, timeScale?: number): Promise<void> {
  try {
    const sc = await timedAsync(`scenario ${fs.readFileSync(file, 'utf8').slice(0, 400)}`, () =>
      readScenario(file, { timeScale, evalTimeoutMs: 1000 }),
    );
    assert.ok(sc && Array.isArray(sc.scenarios), 'a loaded scenario has scenarios');
  } catch (e) {
    if (!(e instanceof SpilloverError)) throw new Error(`not a SpilloverError: ${(e as Error)?.stack ?? String(e)}`);
    assert.ok(e.problems.length > 0, 'at least one problem');
    for (const p of e.problems) {
      assert.ok(p.file, `problem without a file: ${JSON.stringify(p)}`);
      assert.ok(typeof p.message === 'string' && p.message.length > 0, `problem without a message: ${JSON.stringify(p)}`);
      assert.doesNotMatch(p.message, /\[object Object\]/, `a message leaking internals: ${p.message}`);
    }
  }
}

describe('hardening: fuzzing the scenario loader', function () {
  this.timeout(180_000);
  let dir: string;
  let n = 0;
  before(() => {
    dir = tmpDir('scenario-fuzz');
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    // Shown with the results: how far the slowest case of either loader is from a hang.
    console.log(`      slowest fuzz case: ${slowest.ms.toFixed(0)} ms (a hang is >= ${HANG_MS} ms)`);
  });
  const fileFor = (text: string) => {
    const f = path.join(dir, `s${n++ % 8}.js`);
    fs.writeFileSync(f, text);
    return f;
  };

  it('the unmutated base loads', async () => {
    const sc = await readScenario(fileFor(scriptOf(structuredClone(BASE_SCENARIO))));
    assert.equal(sc.scenarios.length, 1);
  });

  it('options and requests mutated: a scenario or a SpilloverError, in under 5 s', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(scenarioMutation, { minLength: 1, maxLength: 4 }),
        fc.option(fc.constantFrom(0.1, 0.5, 1), { nil: undefined }),
        async (ms, timeScale) => {
          const data = structuredClone(BASE_SCENARIO) as Record<string, Json>;
          for (const m of ms) apply(data, { ...m, at: m.at % SCENARIO_PATHS.length }, SCENARIO_PATHS);
          let text: string;
          try {
            text = scriptOf(data);
          } catch {
            fc.pre(false); // a cycle the mutation made: not a script anyone can write as data
            return;
          }
          await checkScenario(fileFor(text), timeScale);
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('script text mutated: bytes cut or inserted anywhere', async () => {
    const base = fs.readFileSync(PEAK_SCENARIO, 'utf8');
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            at: fc.nat({ max: base.length }),
            cut: fc.nat({ max: 30 }),
            insert: fc.oneof(
              fc.string({ maxLength: 8 }),
              fc.constantFrom(
                '{',
                '}',
                '(',
                ')',
                ';',
                ',',
                '`',
                '"',
                '//',
                '/*',
                'export ',
                'await ',
                'yield ',
                '0',
                '-1',
                'null',
                'undefined',
                '\u200B',
                '\uFEFF',
              ),
            ),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        async (edits) => {
          let text = base;
          for (const e of edits) {
            const at = Math.min(e.at, text.length);
            text = text.slice(0, at) + e.insert + text.slice(at + e.cut);
          }
          await checkScenario(fileFor(text));
        },
      ),
      { numRuns: runs(500) },
    );
  });
});

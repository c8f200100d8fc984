/**
 * A k6 script and its local imports as one CommonJS bundle (esbuild: TypeScript, ES modules, relative
 * imports, as k6 resolves them). What needs the network or a browser is refused here, before anything
 * starts, with the importing file and line: remote `https://` modules (e.g. jslib.k6.io), k6/browser,
 * extensions (`k6/x/...`) and k6 modules the embedded engine does not implement. The popular jslib
 * modules k6-summary, k6-utils and url are built in (jslib.ts) and need no network.
 */
import path from 'node:path';
import { build, type Message, type Plugin } from 'esbuild';
import { SpilloverError, type ProblemDetail } from '../../errors.ts';
import { readTextInput } from '../../util/read-text-input.ts';
import { jslibModule } from './jslib.ts';

/** k6 modules the VU runtime provides (runtime.ts). */
export const K6_MODULES = ['k6', 'k6/http', 'k6/metrics', 'k6/data', 'k6/execution', 'k6/encoding', 'k6/crypto', 'k6/timers', 'k6/html'];

function refusal(spec: string): { text: string; fix: string } | undefined {
  if (/^https?:\/\//.test(spec)) {
    return {
      text: `remote module ${spec}: the embedded engine has no network access to fetch it`,
      fix: `vendor it: download ${spec} once, save it beside the script (e.g. ./vendor/${path.basename(new URL(spec).pathname)}) and import it by that relative path`,
    };
  }
  if (spec === 'k6/browser' || spec === 'k6/experimental/browser')
    return {
      text: `${spec} drives a real browser, which the embedded engine does not have`,
      fix: 'run this script with --engine k6 (a k6 binary with a browser)',
    };
  if (spec.startsWith('k6/x/'))
    return {
      text: `${spec} is a k6 extension (xk6), not part of the embedded engine`,
      fix: 'run it with --engine k6 and a k6 built with that extension',
    };
  if (
    spec === 'k6/ws' ||
    spec.startsWith('k6/net/grpc') ||
    spec.startsWith('k6/experimental/') ||
    spec === 'k6/websockets' ||
    spec === 'k6/secrets'
  ) {
    return {
      text: `${spec} is not implemented by the embedded engine (it implements ${K6_MODULES.join(', ')})`,
      fix: 'run this script with --engine k6',
    };
  }
  if (spec.startsWith('k6'))
    return { text: `unknown k6 module ${spec}`, fix: `check the name; the embedded engine implements ${K6_MODULES.join(', ')}` };
  if (!spec.startsWith('.') && !spec.startsWith('/'))
    return {
      text: `bare module "${spec}": k6 does not resolve node_modules`,
      fix: 'bundle the dependency into a local file (as k6 requires) and import it by a relative path',
    };
  return undefined;
}

export interface Bundle {
  code: string;
  /** k6 modules imported anywhere in the bundle. */
  modules: string[];
}

export async function bundleScript(file: string, rel: string): Promise<Bundle> {
  readTextInput(file, 'k6 script');
  const modules = new Set<string>();
  const plugin: Plugin = {
    name: 'k6-modules',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (K6_MODULES.includes(args.path)) {
          modules.add(args.path);
          return { path: args.path, external: true };
        }
        const builtIn = jslibModule(args.path);
        if (builtIn) {
          modules.add(builtIn);
          return { path: builtIn, external: true };
        }
        const r = refusal(args.path);
        if (r) return { errors: [{ text: r.text, detail: r.fix }] };
        return undefined;
      });
    },
  };
  try {
    const res = await build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'neutral',
      target: 'es2022',
      plugins: [plugin],
      loader: { '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.ts': 'ts', '.json': 'json', '.txt': 'text', '.csv': 'text' },
      mainFields: ['module', 'main'],
      logLevel: 'silent',
      sourcemap: false,
      charset: 'utf8',
      keepNames: false,
    });
    return { code: res.outputFiles[0].text, modules: [...modules] };
  } catch (e) {
    const errors = (e as { errors?: Message[] }).errors ?? [];
    if (errors.length === 0)
      throw new SpilloverError({ file: rel, message: 'cannot bundle the script', found: String((e as Error).message ?? e) });
    throw new SpilloverError(
      errors.map((m): ProblemDetail => {
        const file = m.location ? path.relative(process.cwd(), path.resolve(m.location.file)) || m.location.file : rel;
        if (typeof m.detail === 'string' || m.text.startsWith('Could not resolve')) {
          return {
            file,
            line: m.location?.line,
            message: m.text,
            found: m.location?.lineText?.trim(),
            fix: typeof m.detail === 'string' ? m.detail : 'check the relative path of the import',
          };
        }
        return {
          file,
          line: m.location?.line,
          message: 'the script is not valid JavaScript',
          found: m.text,
          fix: `correct the syntax at that line (\`node --check ${file}\` shows it too); k6 scripts are ES modules`,
        };
      }),
    );
  }
}

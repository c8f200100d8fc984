/** Backend by name; the real-cluster ones load lazily so the local path needs none of their code. */
import { SpilloverError } from '../../errors.ts';
import type { Backend } from '../backend.ts';
import { createLocalBackend } from './local.ts';

export type BackendChoice = 'local' | 'kind' | 'kube' | Backend;

export interface BackendOptions {
  context1?: string;
  context2?: string;
  /** `--context <cluster>=<ctx>` (repeatable): any number of clusters by name. */
  contexts?: string[];
  installIstio?: boolean;
}

/** `cluster=ctx` pairs -> a map; a pair without `=` is a clear error. */
function parseContexts(pairs: string[] = []): Record<string, string> {
  return Object.fromEntries(
    pairs.map((p) => {
      const i = p.indexOf('=');
      if (i <= 0 || i === p.length - 1)
        throw new SpilloverError({
          file: '--context',
          message: 'expected <cluster>=<kubeconfig context>',
          found: p,
          fix: 'e.g. --context cluster1=kind-east (one per experiment cluster)',
        });
      return [p.slice(0, i), p.slice(i + 1)];
    }),
  );
}

export async function createBackend(choice: BackendChoice, opts: BackendOptions = {}): Promise<Backend> {
  if (typeof choice !== 'string') return choice;
  switch (choice) {
    case 'local':
      return createLocalBackend();
    case 'kind': {
      const { createKindBackend } = await import('./kind.ts');
      return createKindBackend({ k6InCluster: true });
    }
    case 'kube': {
      const contexts = parseContexts(opts.contexts);
      if (!Object.keys(contexts).length && (!opts.context1 || !opts.context2)) {
        throw new SpilloverError({
          file: '--backend kube',
          message: 'the kube backend needs two kubeconfig contexts',
          expected: '--context-1 <ctx> --context-2 <ctx>, or --context <cluster>=<ctx> per cluster',
          fix: 'name the contexts of the experiment clusters (kubectl config get-contexts)',
        });
      }
      const { createKubeBackend } = await import('./kube.ts');
      return createKubeBackend({
        context1: opts.context1,
        context2: opts.context2,
        contexts,
        installIstio: Boolean(opts.installIstio),
        k6InCluster: true,
      });
    }
    default:
      throw new SpilloverError({
        file: '--backend',
        message: `unknown backend "${choice as string}"`,
        expected: 'local, kind or kube',
        found: String(choice),
        fix: 'use --backend local (default), kind or kube',
      });
  }
}

/** Backend by name; the real-cluster ones load lazily so the local path needs none of their code. */
import { SpilloverError } from '../../errors.ts';
import type { Backend } from '../backend.ts';
import { createLocalBackend } from './local.ts';

export type BackendChoice = 'local' | 'kind' | 'kube' | Backend;

export interface BackendOptions {
  context1?: string;
  context2?: string;
  installIstio?: boolean;
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
      if (!opts.context1 || !opts.context2) {
        throw new SpilloverError({
          file: '--backend kube',
          message: 'the kube backend needs two kubeconfig contexts',
          expected: '--context-1 <ctx> --context-2 <ctx>',
          fix: 'name the contexts of cluster-1 and cluster-2 (kubectl config get-contexts)',
        });
      }
      const { createKubeBackend } = await import('./kube.ts');
      return createKubeBackend({
        context1: opts.context1,
        context2: opts.context2,
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

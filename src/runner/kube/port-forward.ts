/**
 * Loopback ends for pods' ports: `kubectl port-forward` through the API server, on 127.0.0.1 and a
 * port the kernel picks. A port-forward reaches the pod's own localhost, which is where Envoy's admin
 * endpoint (15000) and the loopback-bound service listen, so the capture code scrapes a pod exactly as
 * it scrapes a local Envoy. kubectl rather than the client library's websocket port-forward: kubectl
 * negotiates whichever streaming protocol the API server speaks (SPDY or websockets) and reconnects
 * nothing behind our back; a broken forward is a gap in the data, which capture records.
 */
import readline from 'node:readline';
import { SpilloverError } from '../../errors.ts';
import type { ManagedProcess, Supervisor } from '../../process/processes.ts';

export interface Forward {
  localPort: number;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  process?: ManagedProcess;
}

export interface PortForwarder {
  forward(
    opts: { name: string; context: string; kubeconfig?: string; namespace: string; pod: string; port: number },
    signal?: AbortSignal,
  ): Promise<Forward>;
}

const FORWARDING = /Forwarding from 127\.0\.0\.1:(\d+) ->/;

export function kubectlPortForwarder(sup: Supervisor, env?: NodeJS.ProcessEnv, timeoutMs = 30_000): PortForwarder {
  return {
    async forward({ name, context, kubeconfig, namespace, pod, port }, signal) {
      const p = sup.start(
        `port-forward-${name}`,
        'kubectl',
        [
          ...(kubeconfig ? ['--kubeconfig', kubeconfig] : []),
          '--context',
          context,
          '-n',
          namespace,
          'port-forward',
          '--address',
          '127.0.0.1',
          `pod/${pod}`,
          `:${port}`,
        ],
        { captureStdout: true, env },
      );
      const rl = readline.createInterface({ input: p.child.stdout! });
      const timer = AbortSignal.timeout(timeoutMs);
      let onAbort = () => undefined as void;
      try {
        const localPort = await new Promise<number>((resolve, reject) => {
          const fail = (why: string) =>
            reject(
              new SpilloverError(
                {
                  message: `port-forward to ${context} ${namespace}/${pod}:${port} failed: ${why}`,
                  fix: `try it by hand: kubectl --context ${context} -n ${namespace} port-forward pod/${pod} :${port}`,
                },
                1,
              ),
            );
          onAbort = () => fail('interrupted');
          rl.on('line', (line) => {
            const m = FORWARDING.exec(line);
            if (m) resolve(Number(m[1]));
          });
          void p.exited.then(({ code, signal: sig }) => fail(`kubectl exited with ${sig ?? `code ${code}`}`));
          timer.addEventListener('abort', () => fail(`no "Forwarding from" line within ${timeoutMs / 1000}s`));
          signal?.addEventListener('abort', onAbort, { once: true });
        });
        return { localPort, baseUrl: `http://127.0.0.1:${localPort}`, process: p };
      } finally {
        signal?.removeEventListener('abort', onAbort);
        // kubectl prints a line per connection; keep draining so it never blocks on a full pipe.
        rl.removeAllListeners('line');
        rl.on('line', () => undefined);
      }
    },
  };
}

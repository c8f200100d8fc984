/** Debian's nginx as a static 200 on a loopback port for the benches (temp config, non-daemon, ended by the Supervisor). */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { which } from '../src/load/k6-engine.ts';
import type { Supervisor } from '../src/process/processes.ts';

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function waitForPort(port: number, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port}`);
}

export async function startNginx(sup: Supervisor, dir: string): Promise<string> {
  const port = await freePort();
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  const temps = ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t === 'body' ? 'client_body' : t}_temp_path ${dir}/${t};`);
  fs.writeFileSync(
    conf,
    [
      'worker_processes 1;',
      'daemon off;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/logs/error.log warn;`,
      'events { worker_connections 16384; }',
      'http {',
      '  access_log off;',
      '  keepalive_requests 10000000;',
      '  keepalive_timeout 120s;',
      ...temps,
      `  server { listen 127.0.0.1:${port}; location / { add_header x-spillover-service A; return 200 "ok\\n"; } }`,
      '}',
      '',
    ].join('\n'),
  );
  const bin = which('nginx', `${process.env.PATH}:/usr/sbin:/sbin`)!;
  sup.start('nginx', bin, ['-c', conf, '-p', dir], { logFile: path.join(dir, 'logs', 'stdout.log') });
  await waitForPort(port);
  return `http://127.0.0.1:${port}/`;
}

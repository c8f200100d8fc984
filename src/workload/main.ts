/**
 * Child-process entry of a service instance:
 *   node --import tsx src/workload/main.ts --config <file.json | inline JSON>
 * Prints one JSON line `{"ready":true,...}` once listening, and exits 0 on SIGTERM/SIGINT.
 */
import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatProblem, isSpilloverError, SpilloverError } from '../errors.ts';
import { CONTROL_TOKEN_ENV, startService } from './service.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' } } });
  const arg = values.config;
  if (!arg)
    throw new SpilloverError({
      path: '--config',
      message: 'missing --config',
      fix: 'pass --config <file.json> or --config \'{"name":"A",...}\'',
    });
  const inline = arg.trimStart().startsWith('{');
  const source = inline ? '--config' : arg;
  let config: unknown;
  try {
    config = JSON.parse(inline ? arg : await fs.readFile(arg, 'utf8'));
  } catch (e) {
    throw new SpilloverError({
      file: source,
      message: `cannot read the service config: ${(e as Error).message}`,
      expected: 'a JSON object',
    });
  }
  const svc = await startService(config, source, { controlToken: process.env[CONTROL_TOKEN_ENV] || undefined });
  const stop = () => {
    svc.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(
    JSON.stringify({
      ready: true,
      pid: process.pid,
      name: (config as { name?: string }).name,
      instance: (config as { instance?: string }).instance,
      url: svc.url,
      ...svc.address,
    }) + '\n',
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${isSpilloverError(e) ? e.problems.map(formatProblem).join('\n') : ((e as Error)?.stack ?? String(e))}\n`);
  process.exit(isSpilloverError(e) ? e.exitCode : 1);
});

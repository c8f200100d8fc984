import type { Command } from 'commander';
import { Option } from 'commander';
import { ensureEnvoy } from '../../runner/envoy-install.ts';
import { BACKENDS, backendReady, runChecks, type BackendName, type CheckOutcome } from '../../runner/doctor.ts';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('report what each backend needs from this machine and what is missing')
    .addOption(
      new Option('--backend <name>', 'only this backend (exit 1 if it misses something); default: all, exit by local').choices(BACKENDS),
    )
    .option('--install-envoy', 'download and verify the pinned Envoy into the cache now, instead of on first run')
    .option('--json', 'print the results as JSON')
    .action(async (flags: { backend?: BackendName; installEnvoy?: boolean; json?: boolean }) => {
      if (flags.installEnvoy) {
        const e = await ensureEnvoy({ onProgress: (m) => process.stderr.write(`${m}\n`) });
        process.stderr.write(`envoy ${e.version} (${e.source}): ${e.bin}\n`);
      }
      const backends = flags.backend ? [flags.backend] : [...BACKENDS];
      const results = await Promise.all(backends.map(async (b) => [b, await runChecks(b)] as const));
      if (flags.json) {
        process.stdout.write(
          JSON.stringify(Object.fromEntries(results.map(([b, o]) => [b, { ready: backendReady(o), checks: o }])), null, 2) + '\n',
        );
      } else {
        process.stdout.write(results.map(([b, o]) => formatBackend(b, o)).join('\n'));
      }
      const decisive = results.find(([b]) => b === (flags.backend ?? 'local'))!;
      if (!backendReady(decisive[1])) process.exitCode = 1;
    });
}

export function formatBackend(backend: BackendName, outcomes: CheckOutcome[]): string {
  const width = Math.max(...outcomes.map((o) => o.name.length));
  const lines = [`${backend} backend: ${backendReady(outcomes) ? 'ready' : 'NOT READY'}`];
  for (const o of outcomes) {
    const status = o.ok ? 'ok' : o.optional ? 'optional' : 'MISSING';
    lines.push(`  ${status.padEnd(8)}  ${o.name.padEnd(width)}  ${o.found}`);
    if (o.fix && !o.ok) lines.push(`  ${''.padEnd(8)}  ${''.padEnd(width)}  fix: ${o.fix}`);
    else if (o.fix) lines.push(`  ${''.padEnd(8)}  ${''.padEnd(width)}  (${o.fix})`);
  }
  return lines.join('\n') + '\n';
}

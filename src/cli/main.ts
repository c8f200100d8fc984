/**
 * The `spillover` command. Each subcommand lives in its own file under commands/ and registers itself;
 * this file only wires them up and turns errors into exit codes.
 */
import { Command } from 'commander';
import { formatProblem, isSpilloverError } from '../errors.ts';
import { dropStrayDashDash } from './stray-dashdash.ts';
import { outputCommanderError } from './commander-errors.ts';

export const COMMANDS = [
  'run',
  'experiment',
  'doctor',
  'load',
  'import',
  'report',
  'rerun',
  'compare',
  'sweep',
  'cleanup',
  'validate',
  'explain',
  'eras',
  'figures',
  'mesh',
  'completion',
];

export async function main(argv: string[]): Promise<number> {
  const program = new Command('spillover')
    .description('Reproducible service-mesh federation experiments on real Envoy')
    .showHelpAfterError()
    .configureOutput({ outputError: outputCommanderError })
    .exitOverride();
  try {
    for (const name of COMMANDS) {
      const mod = (await import(`./commands/${name}.ts`)) as { register(p: Command): void };
      mod.register(program);
    }
    await program.parseAsync(dropStrayDashDash(argv, (m) => process.stderr.write(`${m}\n`)));
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return reportError(e);
  }
}

export function reportError(e: unknown): number {
  const err = e as { code?: string; exitCode?: number };
  if (err?.code === 'commander.helpDisplayed' || err?.code === 'commander.version') return 0;
  if (err?.code?.startsWith?.('commander.')) return 2;
  if (isSpilloverError(e)) {
    process.stderr.write(
      `spillover: ${e.problems.length > 1 ? `${e.problems.length} problems\n` : ''}${e.problems.map(formatProblem).join('\n')}\n`,
    );
    return e.exitCode;
  }
  process.stderr.write(`spillover: ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}

// Only run when executed as the entry point (tests import main() directly).
if (process.argv[1] && /spillover(\.js)?$|main\.ts$/.test(process.argv[1])) {
  void main(process.argv).then((code) => process.exit(code));
}

import type { Command } from 'commander';
import { SpilloverError } from '../../errors.ts';
import { bashCompletion, zshCompletion } from '../completion.ts';

export function register(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(spillover completion bash)  (or zsh)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') {
        throw new SpilloverError({
          file: 'spillover completion <shell>',
          message: `no completion for "${shell}"`,
          expected: 'bash or zsh',
          found: shell,
          fix: 'spillover completion bash, or spillover completion zsh',
        });
      }
      process.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });
}

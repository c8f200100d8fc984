import type { Command } from 'commander';

// Placeholder registration; the owner of this command replaces this file.
export function register(_program: Command): void {}

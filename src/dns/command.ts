import type { Command } from 'commander';

/** Registers `socketlab dns` (not built yet). */
export function registerDns(program: Command): void {
  void program;
}

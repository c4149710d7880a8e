import type { Command } from 'commander';

/** Registers `socketlab lab` (not built yet). */
export function registerLab(program: Command): void {
  void program;
}

import type { Command } from 'commander';

/** Registers `socketlab connect` (not built yet). */
export function registerConnect(program: Command): void {
  void program;
}

import type { Command } from 'commander';

/** Registers `socketlab echo` (not built yet). */
export function registerEcho(program: Command): void {
  void program;
}

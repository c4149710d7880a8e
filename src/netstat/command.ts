import type { Command } from 'commander';

/** Registers `socketlab netstat` (not built yet). */
export function registerNetstat(program: Command): void {
  void program;
}

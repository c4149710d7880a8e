import type { Command } from 'commander';

/** Registers `socketlab ports` (not built yet). */
export function registerPorts(program: Command): void {
  void program;
}

import type { Command } from 'commander';

/** Registers `socketlab tour` (not built yet). */
export function registerTour(program: Command): void {
  void program;
}

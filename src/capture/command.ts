import type { Command } from 'commander';

/** Registers `socketlab capture` (not built yet). */
export function registerCapture(program: Command): void {
  void program;
}

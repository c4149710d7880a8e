import type { Command } from 'commander';

/** Registers `socketlab netns` (not built yet). */
export function registerNetns(program: Command): void {
  void program;
}

import type { Command } from 'commander';

/** Registers `socketlab dhcp` (not built yet). */
export function registerDhcp(program: Command): void {
  void program;
}

import { realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { LabError } from '../errors.js';
import { labsDir } from './loader.js';
import type { LabSpec } from './schema.js';

/** Whether the lab file lies in the installed labs/ folder (the ones that ship with socketlab). */
export function isInstalledLab(spec: LabSpec): boolean {
  try {
    return realpathSync(spec.file).startsWith(realpathSync(labsDir()) + sep);
  } catch {
    return false;
  }
}

/** Every command a lab file makes this machine run: services, steps, command checks. */
export function labCommands(spec: LabSpec): string[] {
  const where = (host: string): string => `${host}${spec.hosts.find((h) => h.name === host)?.kind === 'netns' ? ' (namespace)' : ''}`;
  return [
    ...spec.services.map((s) => `service ${s.name} on ${where(s.host)}: ${s.program ? '' : 'socketlab '}${s.run}`),
    ...spec.steps.map((s, i) => `step ${i + 1} on ${where(s.host)}: ${s.run}`),
    ...spec.checks.flatMap((c) => ('run' in c && typeof c.run === 'string' ? [`check on ${where(c.host ?? spec.hosts[0]!.name)}: ${c.run}`] : [])),
  ];
}

/**
 * A lab file runs its commands as whoever runs socketlab, root for namespace labs. One that is not
 * an installed lab (a path: downloaded, shared, a student's) is shown first and needs a "yes" on a
 * terminal, or --yes; without a terminal and without --yes it does not run (exit 2).
 */
export async function confirmLab(spec: LabSpec, yes: boolean | undefined, verb: string): Promise<void> {
  if (yes || isInstalledLab(spec)) return;
  const who = process.getuid?.() === 0 ? 'root' : 'you';
  const text = [
    `${spec.file} is not one of the installed labs. It will run these commands as ${who}:`,
    ...labCommands(spec).map((c) => `  ${c}`),
    '',
  ].join('\n');
  process.stderr.write(text);
  if (!process.stdin.isTTY) {
    throw new LabError('LAB_ERR_INVALID_ARGUMENT', `not running ${spec.file} without confirmation: read the commands above, then pass --yes ("socketlab lab ${verb} ${spec.file} --yes")`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`run lab ${spec.name}? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new LabError('LAB_ERR_INVALID_ARGUMENT', `lab ${spec.name} not run (not confirmed)`);
  } finally {
    rl.close();
  }
}

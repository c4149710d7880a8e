/**
 * A lab with its variables' values: vars that refer to other vars filled (`gateway: ${lan.1}`),
 * the segments' addresses and the routes filled (they build the topology, before any service runs),
 * and the lab's files rendered into the run dir. The same lab file gives today's lab without a
 * seed and a student's own with one.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { LabError } from '../errors.js';
import { bindVars, fill, fillKnown, type TemplateScope } from './template.js';
import type { LabSpec } from './schema.js';

const ADDRESS = /^[0-9a-fA-F.:]+\/\d{1,3}$/;

/** The lab's vars with VARS over them, bound to each other. */
export const labVars = (spec: Pick<LabSpec, 'vars'>, vars: Record<string, string> = {}): Record<string, string> => bindVars({ ...spec.vars, ...vars });

/** SPEC with its segments' addresses and routes filled from VARS (already bound); idempotent. */
export function bindSpec<S extends Pick<LabSpec, 'segments' | 'routes'>>(spec: S, vars: Record<string, string>): S {
  const at = (text: string, where: string): string => (text.includes('${') ? fill(text, vars, where) : text);
  const segments = spec.segments.map((s, i) => ({
    ...s,
    members: s.members.map((m, j) => {
      if (!m.address) return m;
      const address = at(m.address, `segments[${i}].members[${j}].address`);
      if (!ADDRESS.test(address)) throw new LabError('LAB_ERR_LAB_FILE', `segments[${i}].members[${j}].address: "${address}" is not an address with a prefix length, e.g. 10.0.1.1/24`);
      return { ...m, address };
    }),
  }));
  const routes = spec.routes.map((r, i) => ({ ...r, to: at(r.to, `routes[${i}].to`), via: at(r.via, `routes[${i}].via`) }));
  return { ...spec, segments, routes };
}

/**
 * Copies a lab file into the run dir with the lab's `${var}`s filled (a zone file's origin and
 * addresses); any other `${...}` in it (a shell's) is left as it is.
 */
export function renderFile(from: string, to: string, scope: TemplateScope): void {
  const text = readFileSync(from);
  // with the lab file's mode: a script the lab hands a program (dhclient -6 -sf) must stay executable
  const mode = statSync(from).mode & 0o777;
  // binary files go as they are
  writeFileSync(to, text.includes(0) ? text : fillKnown(text.toString('utf8'), scope));
  chmodSync(to, mode);
}

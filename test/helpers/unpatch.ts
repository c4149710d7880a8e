import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const DHCP_PATCH = join(root, 'patches', 'dhcp+0.2.20.patch');

/**
 * Undoes a unified diff made by patch-package in the node-dhcp copy under `moduleDir` (a folder
 * `dhcp`), without patch(1) or git: each hunk's new text (context and + lines) must be present
 * exactly once and is replaced by its old text (context and - lines).
 */
export function reversePatch(moduleDir: string, patchFile = DHCP_PATCH): void {
  const text = readFileSync(patchFile, 'utf8');
  for (const fileDiff of text.split(/^diff --git /m).slice(1)) {
    const path = /^\+\+\+ b\/node_modules\/dhcp\/(.+)$/m.exec(fileDiff)![1]!;
    const target = join(moduleDir, path);
    let body = readFileSync(target, 'utf8');
    for (const hunk of fileDiff.split(/^@@[^\n]*@@[^\n]*\n/m).slice(1)) {
      const lines = hunk.replace(/\n$/, '').split('\n');
      const keep = (sign: string) => lines.filter((l) => l[0] === ' ' || l[0] === sign || l === '').map((l) => l.slice(1)).join('\n');
      const [now, before] = [keep('+'), keep('-')];
      if (body.split(now).length !== 2) throw new Error(`hunk not found once in ${target}:\n${now}`);
      body = body.replace(now, () => before);
    }
    writeFileSync(target, body);
  }
}

/** A copy of the installed (patched) node-dhcp at `dest`/dhcp with the patch undone: node-dhcp as npm ships it. */
export function unpatchedDhcpCopy(dest: string): string {
  const dir = join(dest, 'dhcp');
  cpSync(join(root, 'node_modules', 'dhcp'), dir, { recursive: true });
  reversePatch(dir);
  return dir;
}

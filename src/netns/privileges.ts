import { readFileSync } from 'node:fs';
import { LabError } from '../errors.js';

/** Capability numbers from include/uapi/linux/capability.h. */
export const CAP_NET_ADMIN = 12;
export const CAP_SYS_ADMIN = 21;

/** Reads the effective capability set from a /proc/<pid>/status text. */
export function effectiveCaps(statusText: string): bigint {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

/** Creating and entering network namespaces needs CAP_SYS_ADMIN (setns, mount) and CAP_NET_ADMIN (links). */
export function hasNetnsCaps(statusText: string): boolean {
  const caps = effectiveCaps(statusText);
  return ((caps >> BigInt(CAP_SYS_ADMIN)) & 1n) === 1n && ((caps >> BigInt(CAP_NET_ADMIN)) & 1n) === 1n;
}

function processHasNetnsCaps(): boolean {
  try {
    return hasNetnsCaps(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return process.getuid?.() === 0;
  }
}

/** The LAB_ERR_NEEDS_ROOT error: says what needs root, why, and what to run instead. */
export function needsRootError(what: string, instead?: string): LabError {
  const argv = process.argv.slice(2).join(' ');
  const sudo = argv ? `sudo socketlab ${argv}` : 'sudo socketlab ...';
  return new LabError(
    'LAB_ERR_NEEDS_ROOT',
    `${what} needs root: network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN, which this process does not have.\n` +
      `  Run it as root:   ${sudo}\n` +
      `  Or instead:       ${instead ?? 'the localhost variant of the lab (services on 127.0.0.1, unprivileged ports), which needs no root'}`,
    { what },
  );
}

/** Throws LAB_ERR_NEEDS_ROOT unless this process may create and enter network namespaces. */
export function requireNetnsPrivileges(what: string, instead?: string): void {
  if (!processHasNetnsCaps()) throw needsRootError(what, instead);
}

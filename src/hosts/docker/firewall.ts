import { existsSync, readFileSync } from 'node:fs';
import { run } from '../../core/process.js';
import { LabError } from '../../errors.js';
import { LAB_LABEL } from './engine.js';

/**
 * A default engine (iptables on) adds isolation rules for every `internal` network that drop what
 * enters its bridge from outside the subnet; with br_netfilter (bridge-nf-call-iptables=1) they also
 * see frames bridged between two containers, so a DHCP DISCOVER from 0.0.0.0 never reaches the lab's
 * server. DOCKER-USER is the chain Docker leaves to its users and jumps to first from FORWARD: one
 * ACCEPT there for frames that stay on a lab bridge (-i BR -o BR) keeps the segment a plain switch,
 * while everything leaving the bridge still meets Docker's DROP (the network stays internal).
 * Each rule carries the comment `socketlab.lab=<lab>`, so `docker clean` finds it after kill -9.
 */
export const USER_CHAIN = 'DOCKER-USER';
const FAMILIES = ['iptables', 'ip6tables'] as const;
type Family = (typeof FAMILIES)[number];

/** One socketlab rule in DOCKER-USER, as `iptables -S` prints it (without `-A DOCKER-USER`). */
export interface UserRule {
  family: Family;
  lab: string;
  bridge?: string;
  spec: string[];
}

const commentOf = (lab: string): string => `${LAB_LABEL}=${lab}`;

/** The rule that lets frames stay on BRIDGE. */
export function acceptSpec(bridge: string, lab: string): string[] {
  return ['-i', bridge, '-o', bridge, '-m', 'comment', '--comment', commentOf(lab), '-j', 'ACCEPT'];
}

/** Splits one line of `iptables -S` into its words (a comment with spaces comes in double quotes). Pure. */
export function splitRule(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return words;
}

/** The socketlab rules among the lines of `iptables -S DOCKER-USER`. Pure. */
export function parseUserRules(family: Family, text: string): UserRule[] {
  const out: UserRule[] = [];
  for (const line of text.split('\n')) {
    const words = splitRule(line.trim());
    if (words[0] !== '-A' || words[1] !== USER_CHAIN) continue;
    const spec = words.slice(2);
    const c = spec.indexOf('--comment');
    const comment = c >= 0 ? spec[c + 1] : undefined;
    if (!comment?.startsWith(`${LAB_LABEL}=`)) continue;
    const i = spec.indexOf('-i');
    out.push({ family, lab: comment.slice(LAB_LABEL.length + 1), ...(i >= 0 && { bridge: spec[i + 1]! }), spec });
  }
  return out;
}

const ipt = (family: Family, args: string[]) => run([family, '-w', ...args], { timeoutMs: 30_000, group: false });

/** The families whose DOCKER-USER chain exists here (none: no iptables, not root, or an engine without it). */
async function familiesWithChain(): Promise<Family[]> {
  const r = await Promise.all(FAMILIES.map(async (f) => ((await ipt(f, ['-S', USER_CHAIN])).code === 0 ? f : undefined)));
  return r.filter((f): f is Family => f !== undefined);
}

let warned = false;

/**
 * Lets frames stay on BRIDGE (a lab network's bridge) through Docker's rules, in each family whose
 * DOCKER-USER chain exists. Nothing to do for an engine on another machine (the bridge is not here)
 * or one started with --iptables=false (no chain). Returns the rules it added.
 */
export async function allowBridge(bridge: string, lab: string): Promise<UserRule[]> {
  if (!existsSync(`/sys/class/net/${bridge}`)) return [];
  if (process.getuid?.() !== 0) {
    if (!warned && readSysctl('net/bridge/bridge-nf-call-iptables') === '1') {
      warned = true;
      process.stderr.write(`socketlab: not root, so Docker's isolation rules stay in force on the lab bridges (bridge-nf-call-iptables=1): a DHCP DISCOVER from 0.0.0.0 is dropped; run as root, or sysctl -w net.bridge.bridge-nf-call-iptables=0\n`);
    }
    return [];
  }
  const added: UserRule[] = [];
  for (const family of await familiesWithChain()) {
    const spec = acceptSpec(bridge, lab);
    const r = await ipt(family, ['-I', USER_CHAIN, ...spec]);
    if (r.code !== 0) throw new LabError('LAB_ERR_DOCKER', `${family} -I ${USER_CHAIN} for lab bridge ${bridge} failed: ${(r.stderr || r.error?.message || '').trim()}`);
    added.push({ family, lab, bridge, spec });
  }
  return added;
}

/** socketlab's rules in DOCKER-USER: of LAB (all labs when omitted), of these bridges only when given. */
export async function listUserRules(lab?: string, bridges?: string[]): Promise<UserRule[]> {
  if (process.getuid?.() !== 0) return [];
  const out: UserRule[] = [];
  for (const family of FAMILIES) {
    const r = await ipt(family, ['-S', USER_CHAIN]);
    if (r.code !== 0) continue;
    out.push(...parseUserRules(family, r.stdout).filter((x) => (lab === undefined || x.lab === lab) && (bridges === undefined || (x.bridge !== undefined && bridges.includes(x.bridge)))));
  }
  return out;
}

/** Deletes socketlab's DOCKER-USER rules of LAB (all labs when omitted; only BRIDGES when given); returns what it removed. */
export async function removeUserRules(lab?: string, bridges?: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const rule of await listUserRules(lab, bridges)) {
    const r = await ipt(rule.family, ['-D', USER_CHAIN, ...rule.spec]);
    // gone already (a second clean at the same time) is fine
    if (r.code !== 0 && !/does a matching rule exist|No chain|Bad rule/i.test(r.stderr)) {
      throw new LabError('LAB_ERR_DOCKER', `${rule.family} -D ${USER_CHAIN} ${rule.spec.join(' ')} failed: ${r.stderr.trim()}`);
    }
    if (r.code === 0) removed.push(`${rule.family} rule ${USER_CHAIN} ${rule.bridge ?? ''} (${LAB_LABEL}=${rule.lab})`);
  }
  return removed;
}

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${path}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

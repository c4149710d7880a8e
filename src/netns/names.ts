import { isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import { invalidArgument } from '../errors.js';

/**
 * Naming rules for lab topologies. Every namespace socketlab creates starts with `sl-`, so that
 * `socketlab netns clean` (and the CI leftover check) finds exactly its own and nothing else.
 * Linux caps interface names at 15 bytes (IFNAMSIZ 16 with the NUL), which bounds the host and
 * segment names: the switch side of a host's veth is `<host>-eth<n>`, a segment's bridge `br-<segment>`.
 */
export const NS_PREFIX = 'sl-';
/** IFNAMSIZ - 1 (include/uapi/linux/if.h). */
export const IFNAME_MAX = 15;
export const ID_MAX = 8;
export const HOST_MAX = 10;
export const SEGMENT_MAX = 12;
/** eth0 .. eth9: keeps `<host>-eth<n>` within IFNAME_MAX. */
export const MAX_INTERFACES_PER_HOST = 10;
/** The namespace that holds the bridges; not a valid host name. */
export const SWITCH_HOST = 'sw';

const ID_RE = /^[a-z0-9]+$/;
const NAME_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** A short random topology id ([a-z0-9], 4 characters). */
export function randomId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(4)].map((b) => alphabet[b % alphabet.length]).join('');
}

export function validateId(id: string): string {
  if (!ID_RE.test(id) || id.length > ID_MAX) {
    throw invalidArgument(`topology id "${id}" is invalid: use 1-${ID_MAX} characters a-z, 0-9 (it becomes part of namespace names sl-<id>-<host>)`);
  }
  return id;
}

export function validateHostName(name: string): string {
  if (!NAME_RE.test(name) || name.length > HOST_MAX) {
    throw invalidArgument(
      `host name "${name}" is invalid: use 1-${HOST_MAX} characters a-z, 0-9 and inner '-', starting with a letter (interface names such as "${name}-eth0" must fit in ${IFNAME_MAX} characters)`,
    );
  }
  if (name === SWITCH_HOST) throw invalidArgument(`host name "${SWITCH_HOST}" is reserved for the namespace that holds the bridges`);
  return name;
}

export function validateSegmentName(name: string): string {
  if (!NAME_RE.test(name) || name.length > SEGMENT_MAX) {
    throw invalidArgument(
      `segment name "${name}" is invalid: use 1-${SEGMENT_MAX} characters a-z, 0-9 and inner '-', starting with a letter (its bridge "br-${name}" must fit in ${IFNAME_MAX} characters)`,
    );
  }
  return name;
}

/** `sl-<id>-<host>`: one network namespace per lab host. */
export function namespaceName(id: string, host: string): string {
  return `${NS_PREFIX}${id}-${host}`;
}

/** `sl-<id>-sw`: the namespace holding every bridge of a topology. */
export function switchNamespace(id: string): string {
  return namespaceName(id, SWITCH_HOST);
}

/** The interface inside a host: eth0, eth1, ... in segment order. */
export function hostIfname(index: number): string {
  return checkIfname(`eth${index}`);
}

/** The switch-side end of a host's veth pair, inside `sl-<id>-sw`. */
export function switchPortName(host: string, index: number): string {
  return checkIfname(`${host}-eth${index}`);
}

/** A segment's bridge, inside `sl-<id>-sw`. */
export function bridgeName(segment: string): string {
  return checkIfname(`br-${segment}`);
}

/** Throws when a name would be refused by the kernel (empty, too long, '/', ':' or whitespace). */
export function checkIfname(name: string): string {
  if (name.length === 0 || Buffer.byteLength(name) > IFNAME_MAX || /[\s/:]/.test(name) || name === '.' || name === '..') {
    throw invalidArgument(`interface name "${name}" is invalid: Linux allows at most ${IFNAME_MAX} characters and no '/', ':' or spaces`);
  }
  return name;
}

/** True for a namespace or interface name socketlab owns (`sl-...`). */
export function isSocketlabName(name: string): boolean {
  return name.startsWith(NS_PREFIX) && name.length > NS_PREFIX.length;
}

/** True when `name` belongs to topology `id` (`sl-<id>-...`). */
export function belongsToTopology(name: string, id: string): boolean {
  return name.startsWith(`${NS_PREFIX}${id}-`);
}

/** Splits `sl-<id>-<host>` back into its parts; undefined for names socketlab did not build. */
export function parseNamespaceName(name: string): { id: string; host: string } | undefined {
  const m = /^sl-([a-z0-9]+)-([a-z][a-z0-9-]*)$/.exec(name);
  return m ? { id: m[1]!, host: m[2]! } : undefined;
}

/** Parses `10.0.1.1/24` or `fd00::1/64`; throws a message naming `where`. */
/**
 * A member's fixed MAC, lowercased: six hex pairs, unicast (I/G bit clear: a group address as a
 * source is dropped by every bridge). Locally administered (02:...) is what a lab should use.
 */
export function validateMac(text: string, where: string): string {
  const mac = text.toLowerCase();
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac)) throw invalidArgument(`${where}: MAC "${text}" must be six hex pairs such as 02:00:00:00:01:0a`);
  if (parseInt(mac.slice(0, 2), 16) & 1) throw invalidArgument(`${where}: MAC "${text}" is a group (multicast) address; a host's interface needs a unicast one (first byte even, e.g. 02)`);
  if (mac === '00:00:00:00:00:00') throw invalidArgument(`${where}: MAC "${text}" is all zeros`);
  return mac;
}

export function parseCidr(text: string, where: string): { address: string; prefix: number; family: 4 | 6 } {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  const family = m ? isIP(m[1]!) : 0;
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || family === 0 || prefix > (family === 4 ? 32 : 128)) {
    throw invalidArgument(`${where}: "${text}" is not an address with prefix length (e.g. 10.0.1.1/24 or fd00:1::1/64)`);
  }
  return { address: m[1]!, prefix, family: family as 4 | 6 };
}

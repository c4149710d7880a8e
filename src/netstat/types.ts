import type { Endpoint } from '../socket-pair.js';

/** One row of the kernel's socket table, whichever tool (ss or netstat) it was read with. */
export interface SocketRecord {
  /** Transport, normalised: ss says `tcp`, netstat says `tcp6` for the same kind of socket; both become `tcp` (see `family`). */
  proto: 'tcp' | 'udp' | 'tcp6' | 'udp6' | 'raw' | 'unix' | string;
  /** ss-style state names: LISTEN, ESTAB, TIME-WAIT, UNCONN ... normalised to ESTABLISHED etc. (see states.ts SocketState) */
  state: string;
  local: Endpoint;
  remote: Endpoint;
  recvQ?: number;
  sendQ?: number;
  process?: { name: string; pid: number; fd?: number }[];
  /** Address family of the socket itself (an IPv6 socket may carry IPv4-mapped addresses like ::ffff:127.0.0.1). */
  family?: 'ipv4' | 'ipv6';
  /** Interface the socket is bound to (SO_BINDTODEVICE), from ss's `0.0.0.0%lo:53` form. */
  device?: string;
  /** The state word exactly as the tool printed it (`ESTAB`, `TIME_WAIT`, `` for an unconnected UDP socket in netstat). */
  rawState?: string;
  /** The tool's line this record was parsed from, for showing "the kernel's row" next to our view. */
  line?: string;
}

export interface ListSocketsOptions {
  tcp?: boolean;
  udp?: boolean;
  /** include listening sockets */
  listening?: boolean;
  /** include everything (listening and non-listening) */
  all?: boolean;
  /** ask for the owning process (`ss -p`; needs root to see other users' sockets) */
  processes?: boolean;
  /** only sockets whose local or remote port is this */
  port?: number;
  state?: string;
  /** force a tool instead of ss-then-netstat */
  tool?: 'ss' | 'netstat';
  /** run inside this network namespace (ip netns exec NAME ...) */
  netns?: string;
  /** PATH-style directory list to look the tools up in (default: $PATH plus /usr/sbin:/sbin:/usr/bin:/bin); for tests */
  searchPath?: string;
  /** kill the tool after this long (default 10 s) */
  timeoutMs?: number;
}

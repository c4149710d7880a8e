import type { Endpoint } from '../socket-pair.js';

/** One row of the kernel's socket table, whichever tool (ss or netstat) it was read with. */
export interface SocketRecord {
  proto: 'tcp' | 'udp' | 'tcp6' | 'udp6' | 'raw' | 'unix' | string;
  /** ss-style state names: LISTEN, ESTAB, TIME-WAIT, UNCONN ... normalised to ESTABLISHED etc. */
  state: string;
  local: Endpoint;
  remote: Endpoint;
  recvQ?: number;
  sendQ?: number;
  process?: { name: string; pid: number; fd?: number }[];
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
}

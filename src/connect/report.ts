import type { SocketRecord } from '../netstat/types.js';
import { hostEphemeralRange, IANA_DYNAMIC, inRange, labelPort, type EphemeralRange, type PortLabel } from '../ports/registry.js';
import { normalizeAddress, type Endpoint } from '../socket-pair.js';
import type { Conversation } from './client.js';

/** A port with its labels, as `connect --json` prints it. */
export interface LabelledEndpoint extends Endpoint, PortLabel {
  inHostEphemeralRange: boolean;
  inIanaDynamicRange: boolean;
}

/** What the kernel's table shows for one conversation (`--verify`). */
export interface KernelView {
  client: SocketRecord | null;
  server: SocketRecord | null;
  ok: boolean;
  note?: string;
}

/** `socketlab connect --json`: one document for the whole run. */
export interface ConnectReport {
  transport: 'tcp' | 'udp';
  /** UDP sockets that called connect() (shown as ESTAB by ss); absent otherwise. */
  connected?: boolean;
  server: LabelledEndpoint;
  ephemeralRange: { host: EphemeralRange | null; iana: EphemeralRange };
  conversations: (Omit<Conversation, 'local' | 'remote'> & { local: LabelledEndpoint; remote: LabelledEndpoint; kernel?: KernelView })[];
  /** The server's listening socket (TCP) or bound socket (UDP) when visible here. */
  listening: SocketRecord | null;
  verified: boolean | null;
  tool?: string;
}

export function labelEndpoint(e: Endpoint, range = hostEphemeralRange()): LabelledEndpoint {
  return { ...e, ...labelPort(e.port), inHostEphemeralRange: inRange(e.port, range), inIanaDynamicRange: inRange(e.port, IANA_DYNAMIC) };
}

const same = (a: Endpoint, b: Endpoint): boolean =>
  a.port === b.port && normalizeAddress(a.address) === normalizeAddress(b.address);
/** A wildcard-bound socket (0.0.0.0, ::, *) matches any local address. */
const covers = (bound: Endpoint, e: Endpoint): boolean =>
  bound.port === e.port && ['0.0.0.0', '::', '*', ''].includes(bound.address) ? true : same(bound, e);

/**
 * Matches every conversation with the kernel's rows: for TCP the client's and the server's
 * ESTABLISHED sockets; for UDP the two bound (UNCONN) sockets — UDP has no connection state.
 * The server's rows are required only when its listening socket is visible in this table
 * (a server in another namespace or machine has its rows there, not here).
 */
export function verifyConversations(transport: 'tcp' | 'udp', server: Endpoint, conversations: Conversation[], rows: SocketRecord[]): { listening: SocketRecord | null; views: KernelView[] } {
  const isProto = (r: SocketRecord): boolean => r.proto.startsWith(transport);
  const listening =
    rows.find((r) => isProto(r) && (transport === 'tcp' ? r.state === 'LISTEN' : r.state === 'UNCONN') && covers(r.local, server)) ?? null;
  const views = conversations.map((c): KernelView => {
    if (transport === 'tcp') {
      const client = rows.find((r) => isProto(r) && r.state === 'ESTABLISHED' && same(r.local, c.local) && same(r.remote, c.remote)) ?? null;
      const srv = rows.find((r) => isProto(r) && r.state === 'ESTABLISHED' && same(r.local, c.remote) && same(r.remote, c.local)) ?? null;
      const needServer = listening !== null;
      const ok = client !== null && (!needServer || srv !== null);
      let note: string | undefined;
      if (client === null) note = 'the client socket of this pair is not in the kernel table';
      else if (needServer && srv === null) note = "the server's socket of this pair is missing";
      else if (!needServer) note = 'server not on this host/namespace: only the client row is visible here';
      return note ? { client, server: srv, ok, note } : { client, server: srv, ok };
    }
    const client = rows.find((r) => isProto(r) && covers(r.local, c.local)) ?? null;
    return {
      client,
      server: listening,
      ok: client !== null,
      ...(client === null ? { note: 'the client UDP socket is not in the kernel table' } : {}),
    };
  });
  return { listening, views };
}

import { invalidArgument } from '../errors.js';

/** The one state vocabulary socketlab prints, whichever tool read the table (RFC 9293 section 3.3.2 names, ss spelling). */
export const SOCKET_STATES = [
  'LISTEN', 'SYN-SENT', 'SYN-RECV', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT',
  'CLOSE-WAIT', 'LAST-ACK', 'CLOSING', 'CLOSED', 'UNCONN',
] as const;

export type SocketState = (typeof SOCKET_STATES)[number];

/** Spellings used by ss (`ESTAB`, `FIN-WAIT-1`), net-tools netstat (`FIN_WAIT1`, `CLOSE`), Windows (`LISTENING`) and RFC 9293. */
const ALIASES: Record<string, SocketState> = {
  ESTAB: 'ESTABLISHED', ESTABLISHED: 'ESTABLISHED',
  LISTEN: 'LISTEN', LISTENING: 'LISTEN',
  'SYN-SENT': 'SYN-SENT', 'SYN-RECV': 'SYN-RECV', 'SYN-RECEIVED': 'SYN-RECV', 'NEW-SYN-RECV': 'SYN-RECV',
  'FIN-WAIT-1': 'FIN-WAIT-1', 'FIN-WAIT1': 'FIN-WAIT-1', 'FIN-WAIT-2': 'FIN-WAIT-2', 'FIN-WAIT2': 'FIN-WAIT-2',
  'TIME-WAIT': 'TIME-WAIT', TIMEWAIT: 'TIME-WAIT',
  'CLOSE-WAIT': 'CLOSE-WAIT', CLOSEWAIT: 'CLOSE-WAIT',
  'LAST-ACK': 'LAST-ACK', LASTACK: 'LAST-ACK',
  CLOSING: 'CLOSING', CLOSE: 'CLOSED', CLOSED: 'CLOSED',
  UNCONN: 'UNCONN', UNCONNECTED: 'UNCONN',
};

/**
 * A tool's state word as socketlab's vocabulary. `proto` matters for the states a tool leaves implicit:
 * netstat prints nothing for an unconnected UDP socket (UNCONN), ss prints UNCONN for a TCP socket in
 * the kernel's CLOSE state (CLOSED). Unknown words come back upper-cased rather than being dropped.
 */
export function normalizeState(raw: string, proto = 'tcp'): string {
  const key = raw.trim().toUpperCase().replace(/_/g, '-');
  const udp = proto.startsWith('udp');
  if (key === '') return udp ? 'UNCONN' : 'CLOSED';
  const state = ALIASES[key];
  if (state === 'UNCONN' && !udp) return 'CLOSED';
  if (state === 'CLOSED' && udp) return 'UNCONN';
  return state ?? key;
}

/** Parses a `--state` value (any tool's spelling, any case) or throws a usage error listing the vocabulary. */
export function parseStateArg(text: string): SocketState {
  const state = ALIASES[text.trim().toUpperCase().replace(/_/g, '-')];
  if (!state) throw invalidArgument(`unknown socket state "${text}": use one of ${SOCKET_STATES.join(', ')} (ss and netstat spellings like ESTAB or TIME_WAIT work too)`);
  return state;
}

/** States that mean "waiting for a peer" rather than "talking to one": what `-l` shows and the default view hides. */
export function isListeningState(state: string): boolean {
  return state === 'LISTEN' || state === 'UNCONN';
}

/** What each state means, in the order a learner meets them on a connection's life. */
export const STATE_EXPLANATIONS: readonly { state: SocketState; short: string; side: string; text: string }[] = [
  { state: 'LISTEN', short: 'a server waiting for connections', side: 'server', text: 'waiting for connections on a port (listen()); the remote side is *:* because no one is connected to this socket itself — each accepted connection gets its own socket.' },
  { state: 'SYN-SENT', short: 'client sent SYN, waiting for SYN+ACK (handshake step 1)', side: 'client', text: 'connect() sent a SYN and waits for SYN+ACK. Stuck here: nothing answers (firewall drop, wrong address, or the server\'s accept queue is full).' },
  { state: 'SYN-RECV', short: 'server got SYN, sent SYN+ACK, waiting for the ACK (step 2)', side: 'server', text: 'got a SYN, answered SYN+ACK, waits for the final ACK of the three-way handshake. Many of these at once is a SYN flood sign.' },
  { state: 'ESTABLISHED', short: 'handshake done, data flows; each side has its own row', side: 'both', text: 'the handshake is done; data flows both ways. One row per side: the client\'s row and the server\'s row show the same socket pair mirrored.' },
  { state: 'FIN-WAIT-1', short: 'we closed and sent FIN, waiting for its ACK', side: 'closer', text: 'this side called close() and sent FIN; waits for the peer to acknowledge it.' },
  { state: 'FIN-WAIT-2', short: 'our FIN was ACKed, waiting for the peer\'s FIN', side: 'closer', text: 'our FIN was acknowledged; waits for the peer\'s own FIN (the peer may still send data: a half-closed connection).' },
  { state: 'TIME-WAIT', short: 'we closed first; the pair is kept 60 s on Linux (RFC 793: 2*MSL = 4 min) against late segments', side: 'closer', text: 'the side that closed first keeps the pair for 2*MSL so late segments of this conversation cannot be mistaken for a new one with the same four numbers, and so its last ACK can be resent. RFC 793 sets MSL to 2 minutes, so 2*MSL is 4 minutes; Linux holds it a fixed 60 s (TCP_TIMEWAIT_LEN). No process owns it any more.' },
  { state: 'CLOSE-WAIT', short: 'the peer closed; waiting for our program to close() too', side: 'other side', text: 'the peer sent FIN (it is done sending); the kernel waits for OUR program to close() its socket. Many of these that never go away = a program that forgets to close sockets.' },
  { state: 'LAST-ACK', short: 'we closed after the peer; waiting for the ACK of our FIN', side: 'other side', text: 'our program closed after the peer did; our FIN is out, waiting for its ACK, then the socket is gone (no TIME-WAIT on this side).' },
  { state: 'CLOSING', short: 'both sides closed at once, waiting for the last ACK', side: 'both', text: 'both sides sent FIN at the same moment (simultaneous close); waits for the ACK of our FIN.' },
  { state: 'CLOSED', short: 'TCP socket with no connection (ss: UNCONN, netstat: CLOSE)', side: '-', text: 'a TCP socket with no connection (created or bound, not listening or connected yet). ss shows it as UNCONN, netstat as CLOSE.' },
  { state: 'UNCONN', short: 'UDP: no connection, no handshake, no state at all', side: 'UDP', text: 'UDP has no connection and no states: a bound UDP socket is just "unconnected" (netstat leaves the column empty). A UDP socket that called connect() shows ESTAB/ESTABLISHED, which only means the kernel fixed its peer — no handshake took place.' },
];

/** The few lines printed under a human table: the states seen in it, one line each. */
export function stateFooter(states: Iterable<string>): string[] {
  const seen = new Set(states);
  return STATE_EXPLANATIONS.filter((e) => seen.has(e.state)).map((e) => `  ${e.state.padEnd(11)} ${e.short}`);
}

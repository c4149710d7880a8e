import type { Endpoint } from '../socket-pair.js';
import type { SocketRecord } from './types.js';
import { normalizeState } from './states.js';

/** A line the parser could not read, kept so callers can say what they skipped (and where). */
export interface SkippedLine {
  lineNo: number;
  line: string;
  reason: string;
}

export interface ParseResult {
  records: SocketRecord[];
  skipped: SkippedLine[];
}

/** State words ss prints (iproute2 misc/ss.c sstate_name); a line starting with one has no Netid column. */
const SS_STATES = new Set([
  'UNKNOWN', 'ESTAB', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'UNCONN',
  'CLOSE-WAIT', 'LAST-ACK', 'LISTEN', 'CLOSING', 'NEW-SYN-RECV', 'BOUND-INACTIVE',
]);

/** An ss address column: `127.0.0.1:80`, `[::1]:7007`, `*:*`, `0.0.0.0%lo:53`, `[::]%lo:53`, old ss `:::22`. */
export interface SsEndpoint extends Endpoint {
  device?: string;
  family: 'ipv4' | 'ipv6' | undefined;
}

/** Parses one ss address column; undefined when it is not an address:port at all. */
export function parseSsEndpoint(text: string): SsEndpoint | undefined {
  // The port is whatever follows the LAST colon; the lazy host keeps old unbracketed IPv6 (`:::22`) intact.
  const m = /^(?:\[([^\]]*)\]|([^[\]%]*?))(?:%([^:\s]+))?:(\d+|\*)$/.exec(text.trim());
  if (!m) return undefined;
  const bracketed = m[1] !== undefined;
  let address = bracketed ? m[1]! : m[2]!;
  // ss prints the IPv6 wildcard of a dual-stack socket as `*`; v4 wildcards stay 0.0.0.0.
  if (address === '*') address = '::';
  if (address === '') return undefined;
  const port = m[4] === '*' ? 0 : Number(m[4]);
  if (port > 65535) return undefined;
  const family = address.includes(':') ? 'ipv6' : /^\d+\.\d+\.\d+\.\d+$/.test(address) ? 'ipv4' : undefined;
  return m[3] ? { address, port, device: m[3], family } : { address, port, family };
}

/** `users:(("nginx",pid=10,fd=6),("nginx",pid=11,fd=6))` -> one entry per process holding the socket. */
export function parseSsUsers(text: string): { name: string; pid: number; fd?: number }[] {
  const out: { name: string; pid: number; fd?: number }[] = [];
  // Old ss (before iproute2 4.x) printed ("name",pid,fd) without the keys.
  const re = /\("((?:[^"\\]|\\.)*)",(?:pid=)?(\d+),(?:fd=)?(\d+)\)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ name: m[1]!.replace(/\\(.)/g, '$1'), pid: Number(m[2]), fd: Number(m[3]) });
  return out;
}

/**
 * Parses `ss -n -a -t -u [-p] [-H]` output. Lines with a Netid column (`tcp LISTEN ...`) carry their
 * protocol; without it (`ss -t` alone prints none) `defaultProto` is used. A header line is skipped.
 */
export function parseSs(text: string, opts: { defaultProto?: string } = {}): ParseResult {
  const records: SocketRecord[] = [];
  const skipped: SkippedLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const lineNo = i + 1;
    // -e/-i/-m put details on continuation lines that start with whitespace.
    if (/^\s/.test(line)) return skipped.push({ lineNo, line, reason: 'continuation line (ss -e/-i/-m details)' }), undefined;
    const tok = line.trim().split(/\s+/);
    if (tok[0] === 'Netid' || tok[0] === 'State') return;
    let proto = opts.defaultProto ?? 'tcp';
    if (!SS_STATES.has(tok[0]!)) proto = tok.shift()!;
    const [state, recvQ, sendQ, local, peer, ...rest] = tok;
    if (state === undefined || !SS_STATES.has(state)) return skipped.push({ lineNo, line, reason: `no ss state word where expected (got "${state ?? ''}")` }), undefined;
    const l = local === undefined ? undefined : parseSsEndpoint(local);
    const r = peer === undefined ? undefined : parseSsEndpoint(peer);
    if (!l || !r || !/^\d+$/.test(recvQ ?? '') || !/^\d+$/.test(sendQ ?? '')) {
      return skipped.push({ lineNo, line, reason: 'expected Recv-Q Send-Q Local:Port Peer:Port after the state' }), undefined;
    }
    const rec: SocketRecord = {
      proto,
      state: normalizeState(state, proto),
      rawState: state,
      local: { address: l.address, port: l.port },
      remote: { address: r.address, port: r.port },
      recvQ: Number(recvQ),
      sendQ: Number(sendQ),
      line,
    };
    const family = l.family ?? r.family;
    if (family) rec.family = family;
    if (l.device) rec.device = l.device;
    const users = parseSsUsers(rest.join(' '));
    if (users.length > 0) rec.process = users;
    records.push(rec);
    return undefined;
  });
  return { records, skipped };
}

import { parseEndpoint } from '../socket-pair.js';
import type { SocketRecord } from './types.js';
import { normalizeState } from './states.js';
import type { ParseResult, SkippedLine } from './ss-parse.js';

/** State words net-tools prints for TCP (netstat.c tcp_state[]) plus ESTABLISHED for connected UDP. */
const NETSTAT_STATES = new Set([
  'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT',
  'LAST_ACK', 'LISTEN', 'CLOSING', 'UNKNOWN',
]);

/**
 * Parses Linux net-tools `netstat -n -a -t -u [-p] [-W]` output:
 * `Proto Recv-Q Send-Q Local Address Foreign Address State PID/Program name`. UDP rows leave State
 * empty unless connected; `tcp6`/`udp6` rows become proto tcp/udp with family ipv6; `-` means the
 * owning process is not visible (another user's socket without root, or a TIME-WAIT leftover).
 */
export function parseNetstat(text: string): ParseResult {
  const records: SocketRecord[] = [];
  const skipped: SkippedLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const tok = line.trim().split(/\s+/);
    if (line.trim() === '' || tok[0] === 'Proto' || tok[0] === 'Active') return;
    const lineNo = i + 1;
    const m = /^(tcp|udp|udpl|raw|sctp)(6?)$/.exec(tok[0]!);
    if (!m) return skipped.push({ lineNo, line, reason: `not an inet socket row (proto "${tok[0]}")` }), undefined;
    const [, recvQ, sendQ, local, foreign, ...rest] = tok;
    if (!/^\d+$/.test(recvQ ?? '') || !/^\d+$/.test(sendQ ?? '') || !local?.includes(':') || !foreign?.includes(':')) {
      return skipped.push({ lineNo, line, reason: 'expected Recv-Q Send-Q Local Foreign after the proto' }), undefined;
    }
    const proto = m[1]!;
    // UDP rows have an empty State column, so the next word may already be the PID/Program one.
    const rawState = rest[0] !== undefined && (NETSTAT_STATES.has(rest[0]) || /^\d+$/.test(rest[0])) ? rest.shift()! : '';
    const rec: SocketRecord = {
      proto,
      state: normalizeState(rawState, proto),
      rawState,
      local: parseEndpoint(local),
      remote: parseEndpoint(foreign),
      recvQ: Number(recvQ),
      sendQ: Number(sendQ),
      family: m[2] === '6' ? 'ipv6' : 'ipv4',
      line,
    };
    const prog = rest.join(' ');
    const p = /^(\d+)\/(.*)$/.exec(prog);
    if (p) rec.process = [{ name: p[2]!.trim(), pid: Number(p[1]) }];
    records.push(rec);
    return undefined;
  });
  return { records, skipped };
}

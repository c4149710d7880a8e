import { isIP } from 'node:net';
import { formatEndpoint } from '../socket-pair.js';

/**
 * A pure parser for tcpdump's one-line output (`tcpdump -l -n -tt`), the codec of `socketlab
 * capture`: one text line in, one record out, no process or socket code here. Handles IPv4 and
 * IPv6, the `-i any` prefix (`lo In IP ...`), TCP segments (Flags [S], [S.], [.], [P.], [F.], [R],
 * [R.] ...), UDP datagrams (plain `UDP, length N` or decoded by tcpdump, e.g. DNS) and ICMP.
 */

export type CaptureProto = 'tcp' | 'udp' | 'icmp' | 'other';

/** One packet as tcpdump printed it. `annotation` is filled in by the HandshakeAnnotator. */
export interface CaptureRecord {
  /** Seconds since the epoch, as tcpdump -tt prints it. */
  time: number;
  /** With `-i any`: the interface and direction (In, Out, B, M, P). */
  interface?: string;
  direction?: string;
  family: 4 | 6;
  proto: CaptureProto;
  /** `127.0.0.1:54018`, `[::1]:7999`; a bare address for ICMP. */
  src: string;
  dst: string;
  srcAddress: string;
  srcPort?: number;
  dstAddress: string;
  dstPort?: number;
  /** tcpdump's TCP flags as printed inside Flags [...]: `S`, `S.`, `.`, `P.`, `F.`, `R`, `R.`, `none`. */
  flags?: string;
  /** The same flags spelled out: SYN, ACK, PSH, FIN, RST, URG, ECE, CWR. */
  flagNames?: string[];
  /** Sequence number (relative after the handshake, as tcpdump prints it); `seq a:b` gives seq a, seqEnd b. */
  seq?: number;
  seqEnd?: number;
  ack?: number;
  win?: number;
  /** Payload bytes (TCP/UDP data length; for decoded protocols the length tcpdump printed). */
  len: number;
  /** What tcpdump decoded above TCP/UDP, e.g. `40043+ [1au] A? example.com. (52)`. */
  info?: string;
  /** Set by the annotator: SYN, SYN-ACK, ACK (handshake done), DATA, FIN, RST, DATAGRAM ... */
  annotation: string;
  /** A short explanation for learners, set by the annotator. */
  note?: string;
  raw: string;
}

/** tcpdump's flag letters (print-tcp.c tcp_flag_values). */
export const TCP_FLAG_LETTERS = {
  S: 'SYN',
  F: 'FIN',
  P: 'PSH',
  R: 'RST',
  U: 'URG',
  W: 'CWR',
  E: 'ECE',
  '.': 'ACK',
  e: 'AE',
} as const;

const LINE_RE = /^(\d+\.\d+)\s+(?:(\S+)\s+(In|Out|B|M|P)\s+)?(IP6?) (\S+) > (\S+): (.*)$/;

/** Splits tcpdump's `addr.port` (the port after the last dot); the port is absent for ICMP. */
export function splitAddressPort(text: string, family: 4 | 6): { address: string; port?: number } {
  const i = text.lastIndexOf('.');
  if (i > 0 && /^\d{1,5}$/.test(text.slice(i + 1))) {
    const address = text.slice(0, i);
    // 127.0.0.1 alone also ends in ".1": only a valid address before the dot means "port after it".
    if (isIP(address) === family) return { address, port: Number(text.slice(i + 1)) };
  }
  return { address: text };
}

export function flagNames(flags: string): string[] {
  if (flags === 'none') return [];
  return [...flags].map((c) => (TCP_FLAG_LETTERS as Record<string, string>)[c] ?? c);
}

/** Parses one line of `tcpdump -l -n -tt`; undefined for lines that are not an IP packet (ARP, banners). */
export function parseTcpdumpLine(line: string): CaptureRecord | undefined {
  const raw = line.replace(/\r?\n$/, '');
  const m = LINE_RE.exec(raw);
  if (!m) return undefined;
  const family: 4 | 6 = m[4] === 'IP6' ? 6 : 4;
  const s = splitAddressPort(m[5]!, family);
  const d = splitAddressPort(m[6]!.replace(/:$/, ''), family);
  const payload = m[7]!;
  const rec: CaptureRecord = {
    time: Number(m[1]),
    ...(m[2] ? { interface: m[2], direction: m[3] } : {}),
    family,
    proto: 'other',
    src: s.port === undefined ? s.address : formatEndpoint({ address: s.address, port: s.port }),
    dst: d.port === undefined ? d.address : formatEndpoint({ address: d.address, port: d.port }),
    srcAddress: s.address,
    dstAddress: d.address,
    ...(s.port !== undefined ? { srcPort: s.port } : {}),
    ...(d.port !== undefined ? { dstPort: d.port } : {}),
    len: 0,
    annotation: '',
    raw,
  };

  const tcp = /^Flags \[([^\]]*)\]/.exec(payload);
  if (tcp) {
    rec.proto = 'tcp';
    rec.flags = tcp[1]!;
    rec.flagNames = flagNames(rec.flags);
    const seq = /, seq (\d+)(?::(\d+))?/.exec(payload);
    if (seq) {
      rec.seq = Number(seq[1]);
      if (seq[2] !== undefined) rec.seqEnd = Number(seq[2]);
    }
    const ack = /, ack (\d+)/.exec(payload);
    if (ack) rec.ack = Number(ack[1]);
    const win = /, win (\d+)/.exec(payload);
    if (win) rec.win = Number(win[1]);
    // The last ", length N"; whatever follows is tcpdump's decode of the payload (DNS over TCP ...).
    const len = /, length (\d+)(?::? (.*))?$/.exec(payload);
    if (len) {
      rec.len = Number(len[1]);
      if (len[2]) rec.info = len[2];
    }
    return rec;
  }
  if (/^ICMP6?\b/.test(payload)) {
    rec.proto = 'icmp';
    rec.info = payload;
    const len = /length (\d+)/.exec(payload);
    if (len) rec.len = Number(len[1]);
    return rec;
  }
  const udp = /^UDP, (?:bad )?length (\d+)/.exec(payload);
  if (udp) {
    rec.proto = 'udp';
    rec.len = Number(udp[1]);
    return rec;
  }
  if (s.port !== undefined && d.port !== undefined) {
    // Not TCP (those always print Flags), ports on both sides: a datagram tcpdump decoded
    // (DNS `40043+ A? example.com. (52)`, `BOOTP/DHCP, Request ..., length 300`, NTP ...).
    rec.proto = 'udp';
    rec.info = payload;
    const len = /length (\d+)/.exec(payload) ?? /\((\d+)\)$/.exec(payload);
    if (len) rec.len = Number(len[1]);
    return rec;
  }
  rec.info = payload;
  return rec;
}

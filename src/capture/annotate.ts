import type { CaptureRecord } from './tcpdump-parse.js';

/** What a segment means in the life of a connection (RFC 9293 section 3.5 and 3.6). */
export const ANNOTATIONS = {
  SYN: 'client asks to open a connection',
  'SYN-ACK': 'server accepts',
  'ACK (handshake done)': 'three-way handshake complete: ESTABLISHED',
  DATA: 'payload',
  ACK: '',
  FIN: 'this side has no more data to send',
  'ACK (half-closed)': 'one direction is closed, the other may still send',
  'ACK (teardown done)': 'connection closed; the side that closed first waits in TIME-WAIT',
  RST: 'connection reset (port closed, or aborted)',
  DATAGRAM: 'one UDP datagram: no handshake, no connection state',
  ICMP: '',
  OTHER: '',
} as const;

export type Annotation = keyof typeof ANNOTATIONS;

interface Conversation {
  /** The endpoint that sent the first SYN. */
  client?: string;
  synAckSeen: boolean;
  established: boolean;
  fins: Set<string>;
}

/**
 * Annotates a stream of records with the handshake and teardown they belong to. Pure and stateful:
 * it remembers each TCP conversation (keyed by its two endpoints) to tell the ACK that completes the
 * handshake, and the one that completes the teardown, from any other ACK.
 */
export class HandshakeAnnotator {
  private readonly conversations = new Map<string, Conversation>();

  annotate(rec: CaptureRecord): CaptureRecord {
    const annotation = this.classify(rec);
    const note = rec.proto === 'tcp' && annotation === 'DATA' ? `${rec.len} bytes of payload` : ANNOTATIONS[annotation];
    return { ...rec, annotation, ...(note ? { note } : {}) };
  }

  /** The endpoint that opened the conversation of `rec`, when its SYN was seen. */
  clientOf(rec: CaptureRecord): string | undefined {
    return this.conversations.get(key(rec))?.client;
  }

  private classify(rec: CaptureRecord): Annotation {
    if (rec.proto === 'udp') return 'DATAGRAM';
    if (rec.proto === 'icmp') return 'ICMP';
    if (rec.proto !== 'tcp' || rec.flags === undefined) return 'OTHER';
    const f = rec.flags;
    const k = key(rec);
    let conv = this.conversations.get(k);
    if (f.includes('R')) {
      this.conversations.delete(k);
      return 'RST';
    }
    if (f.includes('S')) {
      if (!f.includes('.')) {
        this.conversations.set(k, { client: rec.src, synAckSeen: false, established: false, fins: new Set() });
        return 'SYN';
      }
      conv ??= { client: rec.dst, synAckSeen: false, established: false, fins: new Set() };
      conv.synAckSeen = true;
      this.conversations.set(k, conv);
      return 'SYN-ACK';
    }
    if (f.includes('F')) {
      conv ??= { synAckSeen: false, established: true, fins: new Set() };
      conv.established = true;
      conv.fins.add(rec.src);
      this.conversations.set(k, conv);
      return 'FIN';
    }
    if (conv && !conv.established && conv.synAckSeen && rec.src === conv.client && f === '.') {
      conv.established = true;
      return rec.len > 0 ? 'DATA' : 'ACK (handshake done)';
    }
    if (conv) conv.established = true;
    if (rec.len > 0) return 'DATA';
    if (conv && conv.fins.size === 2) {
      this.conversations.delete(k);
      return 'ACK (teardown done)';
    }
    if (conv && conv.fins.size === 1 && !conv.fins.has(rec.src)) return 'ACK (half-closed)';
    return f === '.' ? 'ACK' : 'OTHER';
  }
}

function key(rec: CaptureRecord): string {
  return [rec.proto, ...[rec.src, rec.dst].sort()].join(' ');
}

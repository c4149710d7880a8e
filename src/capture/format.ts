import type { CaptureRecord } from './tcpdump-parse.js';

/**
 * One line a learner can read, e.g.
 *   +0.000010  tcp  127.0.0.1:7999 -> 127.0.0.1:54018  [S.]  SYN-ACK  seq 3877989441 ack 2486681759 len 0  server accepts
 * Time is relative to `t0` (the first packet). Lab checks read the annotation word from these lines.
 */
export function formatRecord(r: CaptureRecord, t0: number): string {
  const time = `+${(r.time - t0).toFixed(6)}`.padStart(11);
  // With -i any (the default inside a namespace) say where the packet was seen: a router has several.
  const where = r.interface ? ` ${`${r.interface} ${(r.direction ?? '').toLowerCase()}`.padEnd(9)}` : '';
  const flow = `${r.src} -> ${r.dst}`.padEnd(36);
  const flags = r.flags !== undefined ? `[${r.flags}]`.padEnd(6) : ''.padEnd(6);
  const nums = [
    r.seq !== undefined ? `seq ${r.seq}${r.seqEnd !== undefined ? `:${r.seqEnd}` : ''}` : '',
    r.ack !== undefined ? `ack ${r.ack}` : '',
    `len ${r.len}`,
  ]
    .filter(Boolean)
    .join(' ');
  const tail = [r.note, r.proto !== 'tcp' && r.info ? r.info : r.info ? `(${r.info})` : ''].filter(Boolean).join('  ');
  return `${time}${where}  ${r.proto.padEnd(4)} ${flow} ${flags} ${r.annotation.padEnd(20)} ${nums.padEnd(36)} ${tail}`.trimEnd();
}

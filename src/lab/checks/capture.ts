/** What `socketlab capture` (a service of the lab) saw: segment kinds in order. */
import * as z from 'zod';
import { bool, serviceRef } from '../fields.js';
import { defineCheck, type CheckKind } from './kind.js';

/** Segment kinds a capture check can name (what flagsKind() reads from tcpdump's flags). */
const SEGMENT_KINDS = ['SYN', 'SYN-ACK', 'ACK', 'DATA', 'FIN', 'RST'] as const;
const seqMessage = `must be a non-empty list of segment kinds (${SEGMENT_KINDS.join(', ')}), e.g. [SYN, SYN-ACK, ACK]`;
const isKind = (x: string): boolean => (SEGMENT_KINDS as readonly string[]).includes(x.toUpperCase());

const schema = defineCheck({
  kind: 'capture',
  about: 'a capture service saw TCP segments of these kinds, in this order',
  fields: {
    service: serviceRef('the capture service (socketlab capture ...)'),
    handshake: bool().describe('true: a shorthand for the sequence SYN, SYN-ACK, ACK').optional(),
    // an empty want list (sequence: []) would pass on any capture, even an empty one
    sequence: z
      .array(z.string({ error: seqMessage }).meta({ enum: [...SEGMENT_KINDS] }), { error: seqMessage })
      .min(1, { error: seqMessage, abort: true })
      .refine((seq) => seq.every(isKind), { error: seqMessage })
      .describe('segment kinds that must appear in this order, e.g. [FIN, ACK]')
      .optional(),
  },
  refine(c, ctx) {
    if (c.handshake !== true && c.sequence === undefined) ctx.addIssue({ code: 'custom', message: 'capture needs handshake: true or a sequence', input: c });
    if (c.handshake === true && c.sequence !== undefined) ctx.addIssue({ code: 'custom', message: 'capture takes handshake: true or a sequence, not both (add SYN, SYN-ACK, ACK to the sequence)', input: c });
  },
});

/** A segment's kind from tcpdump's flag letters (`S`, `S.`, `.`, `P.`, `F.`, `R`). */
export function flagsKind(flags: string): string | undefined {
  if (flags === 'none' || flags === '') return undefined;
  if (flags.includes('R')) return 'RST';
  if (flags.includes('S')) return flags.includes('.') ? 'SYN-ACK' : 'SYN';
  if (flags.includes('F')) return 'FIN';
  if (flags.includes('P')) return 'DATA';
  return 'ACK';
}

/** Segment kinds a capture line shows: tcpdump's `Flags [S.]`, socketlab capture's `[S.]`, or words. */
export function segmentKind(line: string): string | undefined {
  const flags = /(?:Flags )?\[([SFPRUEW.]+|none)\]/.exec(line)?.[1];
  if (flags !== undefined) return flagsKind(flags);
  if (/\bRST\b/.test(line)) return 'RST';
  if (/\bSYN[-/ ]?ACK\b/.test(line)) return 'SYN-ACK';
  if (/\bSYN\b/.test(line)) return 'SYN';
  if (/\bFIN\b/.test(line)) return 'FIN';
  if (/\bACK\b/.test(line)) return 'ACK';
  return undefined;
}

export const capture: CheckKind<typeof schema> = {
  schema,
  describe: (c) => (c.handshake ? `${c.service} saw the three-way handshake (SYN, SYN-ACK, ACK)` : `${c.service} saw ${(c.sequence ?? []).join(', ')} in order`),
  async evaluate(c, ctx) {
    // the capture's own event records (tcp.segment with tcpdump's flags), else its printed lines
    const recs = ctx.logRecords(c.service)?.filter((r) => r.event === 'tcp.segment' && typeof r.flags === 'string');
    const out = ctx.serviceOutput(c.service);
    if (!recs?.length && out === undefined) return { passed: false, detail: `no output from capture service ${c.service}` };
    const kinds = (recs?.length ? recs.map((r) => flagsKind(String(r.flags))) : (out ?? '').split('\n').map(segmentKind)).filter((k): k is string => k !== undefined);
    const want = c.handshake ? ['SYN', 'SYN-ACK', 'ACK'] : (c.sequence ?? []).map((x) => x.toUpperCase());
    let i = 0;
    for (const k of kinds) if (i < want.length && k === want[i]) i++;
    return { passed: i === want.length, detail: `segments seen: ${kinds.slice(0, 12).join(' ') || 'none'}${kinds.length > 12 ? ' ...' : ''}${i < want.length ? `; missing ${want.slice(i).join(', ')}` : ''}` };
  },
};

import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { Annotator, matchableOf, noteOf, recordTime, type LogRecord, type Target } from './annotate.js';
import { decodeFrame, type Packet } from './packet.js';
import { PcapReader } from './pcap.js';

/**
 * Fixtures recorded from real runs (src/observe/fixtures/<case>/): each segment's tcpdump capture
 * (capture-<segment>.pcap) and each service's JSON log (<service>.jsonl), as `lab run` keeps them.
 * 06-dns and 08-dhcp-relay are the labs; two-dora is two clients' DORA on one segment.
 */
const dir = (name: string): URL => new URL(`./fixtures/${name}/`, import.meta.url);

interface Recorded {
  packets: (Packet & { id: number })[];
  records: { r: LogRecord; service: string }[];
}

function load(name: string): Recorded {
  const files = readdirSync(dir(name));
  const packets: Packet[] = [];
  for (const f of files.filter((x) => x.endsWith('.pcap'))) {
    const segment = f.replace(/^capture-|\.pcap$/g, '');
    for (const r of new PcapReader().push(readFileSync(new URL(f, dir(name))))) packets.push(decodeFrame(r.data, r.t, segment));
  }
  const records = files
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(new URL(f, dir(name)), 'utf8').split('\n').filter(Boolean).map((l) => ({ r: JSON.parse(l) as LogRecord, service: f.replace(/\.jsonl$/, '') })))
    .filter((x) => typeof x.r.event === 'string' && x.r.from && x.r.to);
  // what a lab logged after its capture stopped (the questions' own runs) has no packets to match
  const [first, last] = [Math.min(...packets.map((p) => p.t)), Math.max(...packets.map((p) => p.t))];
  const during = records.filter((x) => recordTime(x.r) >= first && recordTime(x.r) <= last + 5);
  return { packets: packets.sort((a, b) => a.t - b.t).map((p, i) => ({ ...p, id: i + 1 })), records: during };
}

type Order = 'as written' | 'records first' | 'packets first';

/**
 * Feeds packets and records to an Annotator the way the observer does: in `as written` order each
 * arrives at its own time; `records first` / `packets first` are the two extremes of a capture
 * pipe or a log read running late. Returns the notes left on each packet id.
 */
function annotate(rec: Recorded, order: Order): Map<number, string[]> {
  const notes = new Map<number, string[]>();
  const a = new Annotator((id, text) => notes.set(id, [...(notes.get(id) ?? []), text]), Infinity);
  const targets: Target[] = [];
  type Item = { t: number; packet?: Packet & { id: number }; record?: { r: LogRecord; service: string } };
  const ps: Item[] = rec.packets.map((p) => ({ t: p.t, packet: p }));
  const rs: Item[] = rec.records.map((x) => ({ t: recordTime(x.r), record: x }));
  const items = order === 'records first' ? [...rs, ...ps] : order === 'packets first' ? [...ps, ...rs] : [...ps, ...rs].sort((x, y) => x.t - y.t);
  for (const it of items) {
    if (it.packet) targets.push({ id: it.packet.id, m: matchableOf(it.packet) });
    else a.add(it.record!.r, it.record!.service, it.t);
    a.run(targets, false, it.t);
  }
  a.run(targets, true);
  return notes;
}

const ORDERS: Order[] = ['as written', 'records first', 'packets first'];
const field = (note: string, k: string): string | undefined => new RegExp(`\\b${k}=(\\S+)`).exec(note)?.[1];

describe('annotation: each log record on exactly the packet it logged', () => {
  describe.each(ORDERS)('06-dns (%s)', (order) => {
    const rec = load('06-dns');
    const notes = annotate(rec, order);
    const pkt = (id: number): Packet => rec.packets.find((p) => p.id === id)!;

    it('a question goes on its query (QR=0, client -> server, same name and type), an answer on that query\'s response (same id, QR=1, back)', () => {
      let questions = 0;
      let answers = 0;
      for (const [id, ns] of notes) {
        const p = pkt(id);
        for (const n of ns) {
          if (!/dns\./.test(n)) continue;
          expect(p.dns, `${n} on ${p.summary}`).toBeDefined();
          if (field(n, 'qname')) {
            questions++;
            expect(p.dns!.qr, `${n} on ${p.summary}`).toBe(false);
            expect(p.dns!.qname.toLowerCase()).toBe(field(n, 'qname')!.toLowerCase().replace(/\.$/, ''));
            if (field(n, 'qtype')) expect(p.dns!.qtype).toBe(field(n, 'qtype'));
          }
          if (field(n, 'rcode')) {
            answers++;
            expect(p.dns!.qr, `${n} on ${p.summary}`).toBe(true);
            expect(p.dns!.rcode).toBe(field(n, 'rcode'));
            if (field(n, 'tc')) expect(String(p.dns!.tc)).toBe(field(n, 'tc'));
          }
        }
      }
      // every DNS record of both servers found its exchange
      const dnsRecords = rec.records.filter((x) => String(x.r.event).startsWith('dns.'));
      expect(questions).toBe(dnsRecords.filter((x) => x.r.qname !== undefined).length);
      expect(answers).toBe(dnsRecords.filter((x) => x.r.rcode !== undefined).length);
    });

    it('the secondary\'s SOA check on its TCP connection to the primary is the SOA query, not the AXFR that follows on the same connection', () => {
      // the secondary (10.0.6.54) asks the primary; the lab's client asks the secondary SOA over UDP too
      const soa = [...notes].filter(([id, ns]) => pkt(id).src.ip === '10.0.6.54' && ns.some((n) => n.startsWith('secondary: dns.query') && /qtype=SOA/.test(n)));
      expect(soa.length).toBeGreaterThan(0);
      for (const [id] of soa) expect(pkt(id).summary).toMatch(/^DNS query SOA example\.com \(TCP\)$/);
      for (const [id, ns] of notes) if (pkt(id).dns?.qtype === 'AXFR' && !pkt(id).dns!.qr) expect(ns.filter((n) => n.startsWith('secondary: dns.query'))).toEqual([]);
    });

    it('a query truncated over UDP and asked again over TCP with the same id: each transport\'s record on its own query and response', () => {
      const again = rec.packets.filter((p) => p.dns && !p.dns.qr && p.dns.qname === 'many.example.com');
      const ids = again.map((p) => p.dns!.id);
      const sameId = ids.find((id, i) => ids.indexOf(id) !== i);
      expect(sameId, 'the recording has one id over UDP and TCP').toBeDefined();
      const exchange = rec.packets.filter((p) => p.dns?.id === sameId);
      expect(exchange.map((p) => `${p.transport} ${p.dns!.qr ? 'response' : 'query'}`)).toEqual(['udp query', 'udp response', 'tcp query', 'tcp response']);
      const [uq, ur, tq, tr] = exchange.map((p) => notes.get((p as Packet & { id: number }).id) ?? []);
      expect(uq).toEqual([expect.stringMatching(/^primary: dns\.query qname=many\.example\.com qtype=A \(dns query\)$/)]);
      expect(ur).toEqual([expect.stringMatching(/^primary: dns\.query rcode=NOERROR tc=true size=\d+ \(dns query\)$/)]);
      expect(tq).toEqual([expect.stringMatching(/^primary: dns\.query qname=many\.example\.com qtype=A \(dns query\)$/)]);
      expect(tr).toEqual([expect.stringMatching(/^primary: dns\.query rcode=NOERROR tc=false size=\d+ \(dns query\)$/)]);
    });
  });

  describe.each(ORDERS)('08-dhcp-relay (%s)', (order) => {
    const rec = load('08-dhcp-relay');
    const notes = annotate(rec, order);
    const pkt = (id: number): Packet => rec.packets.find((p) => p.id === id)!;

    it('every DHCP note carries its packet\'s xid and message type; the server\'s on frames it sent or received, the relay\'s on the frames it forwarded', () => {
      let n = 0;
      for (const [id, ns] of notes) {
        const p = pkt(id);
        for (const note of ns) {
          n++;
          expect(p.dhcp, note).toBeDefined();
          expect(field(note, 'type')).toBe(p.dhcp!.type);
          expect(Number(field(note, 'xid'))).toBe(p.dhcp!.xid);
          if (note.startsWith('dhcp:')) expect([p.src.ip, p.dst.ip]).toContain('10.0.1.2');
          // the relay (10.0.2.1 on edge, 10.0.1.1 on core) sent the frame it logs
          if (note.startsWith('relay:')) expect(p.src.ip).toBe('10.0.2.1');
        }
      }
      expect(n).toBe(rec.records.filter((x) => String(x.r.event).startsWith('dhcp.')).length);
    });

    it('"ACK relayed to client" is the relay\'s ACK on the edge, not the server\'s ACK to the relay on the core', () => {
      const acks = rec.packets.filter((p) => p.dhcp?.type === 'ACK');
      expect(acks.map((p) => p.segment)).toEqual(['core', 'edge']);
      expect(notes.get((acks[0] as Packet & { id: number }).id)).toEqual([expect.stringMatching(/^dhcp: dhcp\.out type=ACK .*\(ACK sent\)$/)]);
      expect(notes.get((acks[1] as Packet & { id: number }).id)).toEqual([expect.stringMatching(/^relay: dhcp\.relay type=ACK .*\(ACK relayed to client\)$/)]);
    });
  });

  describe('two clients on one segment', () => {
    /**
     * two-dora: pc2's DORA, then pc1's. Shifted so that pc1's exchange starts 1 ms after pc2's
     * DISCOVER (both DORAs interleaved, frames and records alike), and pc2's DISCOVER retransmitted
     * 2 s later with the same xid (the server logs it again and OFFERs again).
     */
    function interleaved(): Recorded {
      const rec = load('two-dora');
      const pc2 = rec.packets.find((p) => p.dhcp?.type === 'DISCOVER' && p.dhcp.chaddr === 'aa:bb:cc:00:07:02')!;
      const pc1 = rec.packets.find((p) => p.dhcp?.type === 'DISCOVER' && p.dhcp.chaddr === 'aa:bb:cc:00:07:01')!;
      const shift = pc1.t - pc2.t - 1;
      const isPc1 = (xid: unknown): boolean => xid === pc1.dhcp!.xid;
      const at = (r: LogRecord, t: number): LogRecord => ({ ...r, time: new Date(t).toISOString() });
      const packets = rec.packets.map((p) => (p.dhcp && isPc1(p.dhcp.xid) ? { ...p, t: p.t - shift } : p));
      const records = rec.records.map((x) => (isPc1(x.r.xid) ? { ...x, r: at(x.r, recordTime(x.r) - shift) } : x));
      // the retransmission: the same DISCOVER frame 2 s later, and the server's records of it and its OFFER
      const offer = rec.packets.find((p) => p.dhcp?.type === 'OFFER' && p.dhcp.xid === pc2.dhcp!.xid)!;
      packets.push({ ...pc2, t: pc2.t + 2000 }, { ...offer, t: offer.t + 2000 });
      for (const type of ['DISCOVER', 'OFFER']) {
        const x = records.find((y) => y.r.type === type && y.r.xid === pc2.dhcp!.xid)!;
        records.push({ ...x, r: at(x.r, recordTime(x.r) + 2000) });
      }
      records.sort((a, b) => recordTime(a.r) - recordTime(b.r));
      return { packets: packets.sort((a, b) => a.t - b.t).map((p, i) => ({ ...p, id: i + 1 })), records };
    }

    it.each(ORDERS)('DORAs interleaved, a DISCOVER retransmitted with the same xid: every frame has its own record (%s)', (order) => {
      const rec = interleaved();
      const dhcp = rec.packets.filter((p) => p.dhcp);
      // the recording really interleaves: pc1's DISCOVER right after pc2's, before pc2's OFFER
      expect(dhcp.slice(0, 2).map((p) => `${p.dhcp!.type} ${p.dhcp!.chaddr.slice(-2)}`)).toEqual(['DISCOVER 02', 'DISCOVER 01']);
      const notes = annotate(rec, order);
      for (const p of dhcp) {
        const ns = notes.get(p.id) ?? [];
        // one note per frame: the retransmitted DISCOVER and OFFER too, and nothing doubled on the first
        expect(ns, `${p.summary} ${p.dhcp!.chaddr}`).toHaveLength(1);
        expect(field(ns[0]!, 'type')).toBe(p.dhcp!.type);
        expect(field(ns[0]!, 'chaddr')).toBe(p.dhcp!.chaddr);
        expect(Number(field(ns[0]!, 'xid'))).toBe(p.dhcp!.xid);
        if (p.dhcp!.yiaddr !== '0.0.0.0') expect(field(ns[0]!, 'yiaddr')).toBe(p.dhcp!.yiaddr);
      }
    });
  });

  it('a record is never guessed onto a packet of another kind: an unknown event, or a DHCP record without its type, stays unmatched', () => {
    const rec = load('two-dora');
    const noted: number[] = [];
    const a = new Annotator((id) => noted.push(id));
    const targets = rec.packets.map((p) => ({ id: p.id, m: matchableOf(p) }));
    const r = rec.records.find((x) => x.r.type === 'ACK')!.r;
    const { type: _t, ...noType } = r;
    expect(a.annotate(noType, 'dhcp', targets)).toBe(false);
    expect(a.annotate({ ...r, event: 'udp.send' }, 'dhcp', targets)).toBe(false);
    expect(noted).toEqual([]);
  });

  it('a note names its service and event, and a DNS note splits into the question and the answer', () => {
    const r: LogRecord = { event: 'dns.query', qname: 'www.example.com', qtype: 'A', rcode: 'NXDOMAIN', tc: false, size: 90, msg: 'dns query' };
    expect(noteOf(r, 'primary')).toBe('primary: dns.query qname=www.example.com qtype=A rcode=NXDOMAIN tc=false size=90 (dns query)');
    expect(noteOf(r, 'primary', 'question')).toBe('primary: dns.query qname=www.example.com qtype=A (dns query)');
    expect(noteOf(r, 'primary', 'answer')).toBe('primary: dns.query rcode=NXDOMAIN tc=false size=90 (dns query)');
  });
});

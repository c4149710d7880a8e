/**
 * The part of the wire format socketlab hands to the dns2 package (3.1.1): building outgoing
 * queries and choosing their IDs. Decoding bytes from the network stays in codec.ts — measured
 * reasons in examples/zones/README.md ("Why and where dns2"). Pure: no sockets.
 */
import { Packet } from 'dns2';
import { encode, TYPES, type Message } from './codec.js';

/** A name dns2 encodes exactly as we mean it: printable ASCII labels, no `\` escape, no `.` inside a label. */
const PLAIN_NAME = /^(?:[!-\-/-[\]-~]{1,63})(?:\.[!-\-/-[\]-~]{1,63})*\.?$/;

const u16 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff;
const bit = (b: boolean): 0 | 1 => (b ? 1 : 0);

function plainName(name: string): boolean {
  if (name === '' || name === '.') return true;
  // +2: first length octet and the root octet; RFC 1035 2.3.4 caps a name at 255 octets
  return PLAIN_NAME.test(name) && name.replace(/\.$/, '').length + 2 <= 255;
}

/**
 * The query's wire bytes built by dns2, or undefined when dns2 could not build exactly these
 * bytes: names needing escapes (dns2 splits on every `.` and writes UTF-16 code units as octets),
 * records other than a bare OPT (a NOTIFY's SOA), an OPT with flags, options or payload size 0
 * (dns2 turns 0 into 4096). Byte-identical to codec.ts's encode() wherever it answers (tested).
 */
export function dns2QueryBytes(msg: Message): Buffer | undefined {
  const f = msg.flags;
  if (!u16(msg.id) || f.opcode > 15 || f.rcode > 15 || msg.answers.length || msg.authorities.length) return undefined;
  for (const q of msg.questions) if (!plainName(q.name) || !u16(q.type) || !u16(q.class)) return undefined;
  for (const o of msg.additionals) {
    const options = (o.data as { options?: Buffer }).options;
    if (o.type !== TYPES.OPT || o.name !== '' || o.ttl !== 0 || !(o.class > 0 && o.class <= 0xffff) || (options && options.length)) return undefined;
  }
  const header = new Packet.Header({ id: msg.id, qr: bit(f.qr), opcode: f.opcode, aa: bit(f.aa), tc: bit(f.tc), rd: bit(f.rd), ra: bit(f.ra), rcode: f.rcode });
  Object.assign(header, { ad: bit(f.ad), cd: bit(f.cd) }); // dns2 writes AD/CD (RFC 4035 3.2); its typings omit them
  const packet = new Packet(header);
  for (const q of msg.questions) packet.questions.push(new Packet.Question(q.name, q.type, q.class));
  for (const o of msg.additionals) packet.additionals.push(Packet.Resource.EDNS([], { udpPayloadSize: o.class }));
  return packet.toBuffer();
}

/** Wire bytes for a query we send: dns2 builds it; codec.ts only where dns2 cannot (see above). */
export function encodeQuery(msg: Message): Buffer {
  return dns2QueryBytes(msg) ?? encode(msg);
}

/** A 16-bit query ID from a CSPRNG over the whole ID space (RFC 5452 4.3), via dns2's Packet.uuid. */
export function queryId(): number {
  return Packet.uuid();
}

import { describe, it, expect } from 'vitest';
import { destination } from './server.js';
import { BOOTREQUEST, BROADCAST_FLAG, MessageType, Opt, replyTo, type DhcpMessage } from './codec.js';

function req(o: Partial<DhcpMessage> = {}): DhcpMessage {
  return {
    op: BOOTREQUEST, htype: 1, hlen: 6, hops: 0, xid: 1, secs: 0, flags: 0,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr: '02:00:00:00:00:01',
    sname: '', file: '', options: { [Opt.MESSAGE_TYPE]: MessageType.REQUEST }, ...o,
  };
}

// RFC 2131 section 4.1, "where a reply goes".
describe('reply addressing', () => {
  it('giaddr set: to the relay on port 67 (a NAK also sets the broadcast bit)', () => {
    const r = req({ giaddr: '10.0.2.1', ciaddr: '10.0.2.100' });
    expect(destination(r, replyTo(r, MessageType.ACK))).toEqual({ address: '10.0.2.1', port: 67 });
    const nak = replyTo(r, MessageType.NAK);
    expect(destination(r, nak)).toEqual({ address: '10.0.2.1', port: 67 });
    expect(nak.flags & BROADCAST_FLAG).toBe(BROADCAST_FLAG);
  });

  it('ciaddr set: unicast to ciaddr:68', () => {
    const r = req({ ciaddr: '10.0.1.100' });
    expect(destination(r, replyTo(r, MessageType.ACK))).toEqual({ address: '10.0.1.100', port: 68 });
  });

  it('NAK without a relay: always broadcast', () => {
    const r = req({ ciaddr: '10.0.1.100' });
    expect(destination(r, replyTo(r, MessageType.NAK))).toEqual({ address: '255.255.255.255', port: 68 });
  });

  it('no address yet: broadcast, with or without the broadcast flag', () => {
    expect(destination(req({ flags: BROADCAST_FLAG }), replyTo(req(), MessageType.OFFER))).toEqual({ address: '255.255.255.255', port: 68 });
    expect(destination(req(), replyTo(req(), MessageType.OFFER))).toEqual({ address: '255.255.255.255', port: 68 });
  });
});

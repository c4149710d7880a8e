import { describe, expect, it } from 'vitest';
import { verifyConversations } from './report.js';
import type { SocketRecord } from '../netstat/types.js';
import type { Conversation } from './client.js';

const server = { address: '127.0.0.1', port: 8920 };
const conv = (port: number): Conversation => ({ index: 0, local: { address: '127.0.0.1', port }, remote: server, pair: '', sent: 5, echoed: true });
const row = (state: string, local: [string, number], remote: [string, number]): SocketRecord => ({
  proto: 'tcp', state, local: { address: local[0], port: local[1] }, remote: { address: remote[0], port: remote[1] },
});
const listen = row('LISTEN', ['127.0.0.1', 8920], ['0.0.0.0', 0]);

describe('verifyConversations', () => {
  it('needs both rows of a pair when the server listens here', () => {
    const rows = [listen, row('ESTABLISHED', ['127.0.0.1', 40000], ['127.0.0.1', 8920]), row('ESTABLISHED', ['127.0.0.1', 8920], ['127.0.0.1', 40000])];
    const { listening, views } = verifyConversations('tcp', server, [conv(40000)], rows);
    expect(listening).toBe(listen);
    expect(views[0]!.ok).toBe(true);
  });
  it('fails a pair whose server row is missing', () => {
    const rows = [listen, row('ESTABLISHED', ['127.0.0.1', 40000], ['127.0.0.1', 8920])];
    const v = verifyConversations('tcp', server, [conv(40000)], rows).views[0]!;
    expect(v.ok).toBe(false);
    expect(v.note).toMatch(/server's socket/);
  });
  it('fails a pair missing from the table, and does not match another pair', () => {
    const rows = [listen, row('ESTABLISHED', ['127.0.0.1', 40001], ['127.0.0.1', 8920]), row('TIME-WAIT', ['127.0.0.1', 40000], ['127.0.0.1', 8920])];
    const v = verifyConversations('tcp', server, [conv(40000)], rows).views[0]!;
    expect(v.ok).toBe(false);
    expect(v.note).toMatch(/client socket/);
  });
  it('matches IPv4-mapped addresses as IPv4', () => {
    const rows = [row('LISTEN', ['::', 8920], ['::', 0]), row('ESTABLISHED', ['127.0.0.1', 40000], ['127.0.0.1', 8920]), row('ESTABLISHED', ['::ffff:127.0.0.1', 8920], ['::ffff:127.0.0.1', 40000])];
    expect(verifyConversations('tcp', server, [conv(40000)], rows).views[0]!.ok).toBe(true);
  });
  it('accepts the client row alone when the server is elsewhere', () => {
    const rows = [row('ESTABLISHED', ['127.0.0.1', 40000], ['127.0.0.1', 8920])];
    const v = verifyConversations('tcp', server, [conv(40000)], rows).views[0]!;
    expect(v.ok).toBe(true);
    expect(v.note).toMatch(/only the client row/);
  });
});

import { describe, expect, it } from 'vitest';
import { explainTcpdumpFailure, startCapture, tcpdumpArgs } from './capture.js';

describe('capture: tcpdump command line and failures', () => {
  it('runs tcpdump line-buffered, numeric, with epoch times and a port filter', () => {
    expect(tcpdumpArgs({ port: 7007, interface: 'lo' })).toEqual(['-l', '-n', '-tt', '--immediate-mode', '-i', 'lo', 'port 7007']);
    expect(tcpdumpArgs({ port: 53, interface: 'eth0', count: 5 })).toEqual(['-l', '-n', '-tt', '--immediate-mode', '-c', '5', '-i', 'eth0', 'port 53']);
  });

  it('explains why tcpdump could not capture', () => {
    const perm = explainTcpdumpFailure('tcpdump: lo: You don\'t have permission to perform this capture on that device\n(socket: Operation not permitted)', 'lo', 1);
    expect(perm.code).toBe('LAB_ERR_NEEDS_ROOT');
    expect(perm.message).toMatch(/needs root \(CAP_NET_RAW\)/);
    expect(perm.message).toMatch(/sudo socketlab/);
    const dev = explainTcpdumpFailure('tcpdump: nosuchif0: No such device exists\n(No such device exists)', 'nosuchif0', 1);
    expect(dev.code).toBe('LAB_ERR_INVALID_ARGUMENT');
    expect(dev.message).toMatch(/--interface nosuchif0/);
    const missing = explainTcpdumpFailure('socketlab-capture: 1: exec: tcpdump: not found', 'lo', 127);
    expect(missing.code).toBe('LAB_ERR_TOOL_MISSING');
    expect(missing.message).toMatch(/apt-get install tcpdump/);
  });

  it('refuses bad interface and namespace names before starting anything', () => {
    expect(() => startCapture({ port: 1, interface: 'has space' })).toThrow(/not an interface name/);
    expect(() => startCapture({ port: 1, interface: 'x'.repeat(16) })).toThrow(/at most 15/);
    expect(() => startCapture({ port: 1, netns: 'other-ns' })).toThrow(/not a socketlab namespace/);
  });

  it('a missing tcpdump binary rejects ready with LAB_ERR_TOOL_MISSING, and done still resolves', async () => {
    const cap = startCapture({ port: 1, tcpdump: 'no-such-tcpdump-binary' });
    await expect(cap.ready).rejects.toMatchObject({ code: 'LAB_ERR_TOOL_MISSING' });
    expect((await cap.done).records).toBe(0);
    await cap.close();
  });
});

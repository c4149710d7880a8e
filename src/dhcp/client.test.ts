import { afterEach, describe, expect, it, vi } from 'vitest';
import { DhcpClient, type ClientLease } from './client.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('DhcpClient.hold', () => {
  it('a 100-day lease: no renewal before T1 (50 days; setTimeout alone overflowed and renewed every ms), one at T1', async () => {
    vi.useFakeTimers();
    const day = 86_400;
    const lease: ClientLease = { interface: 'lo', address: '10.0.1.100', prefix: 24, server: '10.0.1.1', leaseTime: 100 * day, t1: 50 * day, t2: 87 * day, obtainedAt: Date.now() };
    const client = new DhcpClient({ interface: 'lo', stateFile: '/nonexistent/state.json', noApply: true });
    let renewals = 0;
    client.renew = async () => {
      renewals++;
      return { ...lease, obtainedAt: Date.now() };
    };
    const ac = new AbortController();
    const held = client.hold(lease, ac.signal, () => {});
    await vi.advanceTimersByTimeAsync(3000);
    expect(renewals).toBe(0);
    await vi.advanceTimersByTimeAsync(50 * day * 1000 - 3000 - 1);
    expect(renewals).toBe(0);
    await vi.advanceTimersByTimeAsync(2);
    expect(renewals).toBe(1);
    ac.abort();
    await vi.advanceTimersByTimeAsync(1);
    await held;
  });
});

import dgram from 'node:dgram';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { bindSamePort } from './bind.js';

const tcp = { create: () => net.createServer() };
const udp = { create: () => dgram.createSocket('udp4') };
const close = async (b: { tcp?: net.Server; udp?: dgram.Socket }): Promise<void> => {
  await Promise.all([b.tcp && new Promise((r) => b.tcp!.close(r)), b.udp && new Promise<void>((r) => b.udp!.close(() => r()))]);
};

describe('bindSamePort', () => {
  it.each(['udp', 'tcp'] as const)('port 0, %s first: both transports on one number', async (first) => {
    const b = await bindSamePort({ host: '127.0.0.1', port: 0, first, tcp, udp });
    expect(b.port).toBeGreaterThan(0);
    expect((b.tcp!.address() as net.AddressInfo).port).toBe(b.port);
    expect(b.udp!.address().port).toBe(b.port);
    await close(b);
  });

  it('a port held on the second transport fails with who/what, and leaves the first one closed', async () => {
    const holder = await bindSamePort({ host: '127.0.0.1', port: 0, udp });
    const err = await bindSamePort({ host: '127.0.0.1', port: holder.port, first: 'tcp', tcp, udp }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LAB_ERR_PORT_IN_USE', message: expect.stringContaining(`udp/${holder.port}`) });
    // the TCP side it had bound was released
    const again = await bindSamePort({ host: '127.0.0.1', port: holder.port, tcp });
    expect(again.port).toBe(holder.port);
    await close(again);
    await close(holder);
  });
});

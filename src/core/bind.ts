import type dgram from 'node:dgram';
import type net from 'node:net';
import { bindError } from '../bind-errors.js';
import { asSystemError } from '../errors.js';
import { awaitListening } from '../listener.js';

type Proto = 'tcp' | 'udp';

export interface SamePortOptions {
  /** An IP literal (checked by the caller): both transports bind exactly this address. */
  host: string;
  /** 0: the first transport takes a free port and the second takes the same number. */
  port: number;
  /** A fresh server per attempt, and whether the port is its own (`exclusive`, no cluster sharing). */
  tcp?: { create(): net.Server; exclusive?: boolean };
  udp?: { create(): dgram.Socket; exclusive?: boolean };
  /** Which transport binds first (and picks the port for port 0); default udp. */
  first?: Proto;
  /** Fresh tries when port 0's number is taken on the second transport; default 10. */
  retries?: number;
  /** The error to throw for a failed bind; default bindError (port in use and by whom, privileged port, ...). */
  describe?: (err: unknown, proto: Proto, port: number) => Promise<Error> | Error;
}

export interface SamePort {
  tcp?: net.Server;
  udp?: dgram.Socket;
  port: number;
}

/**
 * Binds TCP and/or UDP on one address and one port number (a DNS or echo service answers on both,
 * RFC 1035 4.2, RFC 862). With port 0 the kernel picks the first transport's port; if another
 * program holds that number on the second transport, both are closed and the pair is tried again.
 */
export async function bindSamePort(opts: SamePortOptions): Promise<SamePort> {
  const first = opts.first ?? 'udp';
  const order = ([first, first === 'udp' ? 'tcp' : 'udp'] as const).filter((p) => opts[p] !== undefined);
  const describe = opts.describe ?? ((err: unknown, proto: Proto, port: number) => bindError(err, opts.host, port, proto));
  for (let attempt = 0; ; attempt++) {
    const got: SamePort = { port: opts.port };
    let proto: Proto = order[0]!;
    try {
      for (const p of order) {
        proto = p;
        if (p === 'tcp') {
          const s = (got.tcp = opts.tcp!.create());
          await awaitListening(s, () => s.listen({ host: opts.host, port: got.port, exclusive: opts.tcp!.exclusive ?? false }));
          got.port = (s.address() as net.AddressInfo).port;
        } else {
          const s = (got.udp = opts.udp!.create());
          await awaitListening(s, () => s.bind({ address: opts.host, port: got.port, exclusive: opts.udp!.exclusive ?? false }));
          got.port = s.address().port;
        }
      }
      return got;
    } catch (err) {
      got.tcp?.close();
      try {
        got.udp?.close();
      } catch {
        // never bound: nothing to close
      }
      const second = order.length === 2 && proto === order[1];
      if (opts.port === 0 && second && attempt < (opts.retries ?? 10) && asSystemError(err).code === 'EADDRINUSE') continue;
      throw await describe(err, proto, got.port);
    }
  }
}

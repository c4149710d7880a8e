/**
 * One DNS-over-TCP connection (RFC 7766): deframes pipelined queries, answers them in order, and
 * bounds what a client can make the server hold.
 *
 * A client may pipeline thousands of queries in one write and never read (RFC 7766 6.2.1.1 lets a
 * server limit that). Answering a whole read at once built every answer before any could leave:
 * with a 61 KB RRset, ~120 MB per connection. So answers are made only while the socket's unsent
 * queue is below WRITE_HIGH_WATER; then the session stops reading (the client's further queries
 * wait in the kernel's receive queue, where TCP flow control pushes back on the client) and resumes
 * on 'drain'. Per connection the server holds at most one read chunk of queries and about
 * WRITE_HIGH_WATER + one answer of output.
 */
import type net from 'node:net';
import type { Logger } from '../log.js';
import { netEvent } from '../events.js';
import { normalizeAddress, type Endpoint } from '../socket-pair.js';
import { Deframer, frame } from './codec.js';
import type { QueryHandler } from './query-handler.js';

/** Stop answering (and reading) while this many octets of answers wait unsent. */
export const WRITE_HIGH_WATER = 64 * 1024;

export interface TcpSessionOptions {
  log: Logger;
  server: Endpoint;
  client: Endpoint;
  idleMs: number;
  maxMessage: number;
  /** Answers one query: the wire responses, in order (several for AXFR, none to drop it). */
  answer: (msg: Buffer) => Buffer[];
}

/** Serves every connection `tcp` accepts, tracked in `sockets` while open (close() destroys them). */
export function serveTcp(
  tcp: net.Server,
  o: { log: Logger; server: Endpoint; idleMs: number; maxMessage: number; handler: QueryHandler; sockets: Set<net.Socket> },
): void {
  const { log, server, handler, sockets } = o;
  tcp.on('connection', (sock) => {
    sockets.add(sock);
    const client = { address: normalizeAddress(sock.remoteAddress ?? '?'), port: sock.remotePort ?? 0 };
    log.info(netEvent('tcp.accept', 'tcp', client, server), 'tcp connection accepted');
    sock.once('close', () => sockets.delete(sock));
    serveTcpSession(sock, {
      log,
      server,
      client,
      idleMs: o.idleMs,
      maxMessage: o.maxMessage,
      answer: (msg) => {
        const hit = handler.cached(msg, 'tcp', client);
        return hit ? [hit] : handler.fresh(msg, 'tcp', client);
      },
    });
  });
  tcp.on('error', (err) => log.error({ err }, 'tcp listener error'));
}

/** Serves one accepted connection until it closes. */
export function serveTcpSession(sock: net.Socket, o: TcpSessionOptions): void {
  const { log, server, client, idleMs, maxMessage } = o;
  let deframer: Deframer | undefined = new Deframer();
  let waitingDrain = false;
  sock.setNoDelay(true);
  sock.setTimeout(idleMs, () => {
    log.info({ ...netEvent('tcp.close', 'tcp', client, server), reason: 'idle' }, 'idle tcp connection closed');
    sock.destroy();
  });
  // Slowloris: the idle timer restarts on every byte, so a frame trickled in one octet at a time
  // would hold the connection forever. A started message must complete within the idle time
  // (counted only while we read: while this client is paused for not reading, its rest cannot arrive).
  let partial: NodeJS.Timeout | undefined;
  const stopPartial = (): void => {
    clearTimeout(partial);
    partial = undefined;
  };

  /** Answers buffered queries while the client keeps up; false when it must wait for 'drain'. */
  const pump = (): boolean => {
    const d = deframer;
    if (!d) return true;
    for (;;) {
      // answers go out in batches of up to WRITE_HIGH_WATER octets: one write for many small ones
      const out: Buffer[] = [];
      let outBytes = 0;
      let more = false;
      while (outBytes < WRITE_HIGH_WATER) {
        const len = d.peekLength();
        if (len !== null && len > maxMessage) {
          log.warn({ ...netEvent('dns.query', 'tcp', client, server), size: len }, `tcp message of ${len} octets exceeds ${maxMessage}; connection closed`);
          sock.destroy();
          return true;
        }
        const msg = d.next();
        if (!msg) break;
        stopPartial();
        for (const r of o.answer(msg)) {
          const f = frame(r);
          out.push(f);
          outBytes += f.length;
        }
        more = true;
      }
      if (out.length === 1) sock.write(out[0]!);
      else if (out.length > 1) sock.write(Buffer.concat(out, outBytes));
      if (!more || sock.destroyed) return true;
      const len = d.peekLength();
      const whole = len !== null && d.buffered >= len + 2;
      if (!whole) return true;
      // the client is not reading fast enough: leave the rest queued until it catches up
      if (sock.writableLength >= WRITE_HIGH_WATER) return false;
    }
  };

  const afterPump = (done: boolean): void => {
    if (sock.destroyed) return;
    if (!done) {
      if (!sock.isPaused()) sock.pause();
      if (!waitingDrain) {
        waitingDrain = true;
        sock.once('drain', onDrain);
      }
    } else if (sock.isPaused()) sock.resume();
    if (sock.isPaused()) stopPartial();
    else if (deframer && deframer.buffered > 0 && !partial) {
      partial = setTimeout(() => {
        log.info({ ...netEvent('tcp.close', 'tcp', client, server), reason: 'partial message', buffered: deframer?.buffered }, 'tcp message not completed within the idle time; connection closed');
        sock.destroy();
      }, idleMs);
    }
  };

  const guarded = (fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      log.error({ ...netEvent('dns.query', 'tcp', client, server), err }, 'handler error; connection closed');
      sock.destroy();
    }
  };
  const onDrain = (): void => guarded(() => {
    waitingDrain = false;
    afterPump(pump());
  });

  sock.on('data', (chunk: Buffer) => guarded(() => {
    if (!deframer) return;
    deframer.push(chunk);
    afterPump(pump());
  }));
  sock.on('error', (err) => log.debug({ ...netEvent('tcp.close', 'tcp', client, server), err: err.message }, 'tcp connection error'));
  sock.on('close', () => {
    stopPartial();
    // drop what this connection held (unanswered queries) now, not when the socket object is collected
    deframer = undefined;
    sock.off('drain', onDrain);
    log.debug(netEvent('tcp.close', 'tcp', client, server), 'tcp connection closed');
  });
}

import { Option, type Command } from 'commander';
import { argParser, commandLogger } from '../cli-context.js';
import { invalidArgument } from '../errors.js';
import { parseHost } from '../core/address.js';
import { MAX_TIMEOUT_MS } from '../core/timers.js';
import { print } from '../format.js';
import { describeLabel, labelPort, parsePort } from '../ports/registry.js';
import { serveUntilSignal, setProcessTitle } from '../run.js';
import { formatEndpoint } from '../socket-pair.js';
import { startEcho } from '../api/servers.js';
import { DEFAULT_ECHO_PORT } from './server.js';

interface EchoFlags {
  host: string;
  port: number;
  tcp?: boolean;
  udp?: boolean;
  idleTimeout: number;
  maxConnections: number;
  closeDelay: number;
}

function nonNegativeInt(what: string, max = Number.MAX_SAFE_INTEGER, unit = '') {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw invalidArgument(`${what} "${text}" must be a whole number, 0 or more`);
    if (n > max) throw invalidArgument(`${what} "${text}" is too large: at most ${max}${unit}`);
    return n;
  };
}

function closeDelay(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 600) throw invalidArgument(`--close-delay "${text}" must be a number of seconds from 0 to 600`);
  return n;
}

/** socket.setTimeout holds at most 2^31-1 ms; above that Node fires at once with a warning. */
const MAX_IDLE_S = Math.floor(MAX_TIMEOUT_MS / 1000);

/** Registers `socketlab echo [--port P] [--host H] [--tcp] [--udp]`. */
export function registerEcho(program: Command): void {
  program
    .command('echo')
    .description(`RFC 862 echo server over TCP and UDP (default 127.0.0.1:${DEFAULT_ECHO_PORT})`)
    .addOption(new Option('-p, --port <port>', 'port to listen on (0: the kernel picks one)').default(DEFAULT_ECHO_PORT).env('SOCKETLAB_PORT').argParser(argParser((t) => parsePort(t, '--port'))))
    .addOption(new Option('-H, --host <address>', 'address to listen on (127.0.0.1, ::1, 0.0.0.0 ...)').default('127.0.0.1').env('SOCKETLAB_HOST').argParser(argParser((t) => parseHost(t, '--host'))))
    .option('--tcp', 'TCP only (default: TCP and UDP)')
    .option('--udp', 'UDP only (default: TCP and UDP)')
    .addOption(new Option('--idle-timeout <seconds>', 'close a TCP connection idle this long (0: never)').default(60).argParser(argParser(nonNegativeInt('--idle-timeout', MAX_IDLE_S, ' s (24.8 days; 0 for never)'))))
    .addOption(new Option('--max-connections <n>', 'concurrent TCP connections accepted').default(1000).argParser(argParser(nonNegativeInt('--max-connections'))))
    .addOption(new Option('--close-delay <seconds>', "after a client's FIN, wait this long before our own FIN: the 4-segment close, CLOSE-WAIT on this side, FIN-WAIT-2 on the client").default(0).argParser(argParser(closeDelay)))
    .addHelpText('after', `
Port ${DEFAULT_ECHO_PORT} is unassigned in IANA's registry and lies in the registered range below Linux's
ephemeral range, so it needs no root and no client source port can collide with it.

Examples:
  $ socketlab echo                         TCP+UDP on 127.0.0.1:${DEFAULT_ECHO_PORT}
  $ socketlab echo --port 7007 --tcp       TCP only on another port
  $ socketlab echo --close-delay 5         hold CLOSE-WAIT 5 s: FIN, ACK ... FIN, ACK
  $ sudo socketlab echo --port 7           RFC 862's own port: well-known, needs root`)
    .action(async (flags: EchoFlags, cmd: Command) => {
      setProcessTitle('socketlab-echo');
      const log = commandLogger(cmd, 'socketlab-echo');
      // Neither flag (or both) means both transports.
      const tcp = flags.tcp || !flags.udp;
      const udp = flags.udp || !flags.tcp;
      const listener = await startEcho({
        host: flags.host,
        port: flags.port,
        tcp,
        udp,
        log,
        keepEvents: false,
        idleTimeoutMs: flags.idleTimeout * 1000,
        maxConnections: flags.maxConnections,
        closeDelayMs: flags.closeDelay * 1000,
      });
      const transports = [tcp && 'tcp', udp && 'udp'].filter(Boolean).join('+');
      print(`socketlab-echo listening on ${transports} ${formatEndpoint({ address: listener.address.host, port: listener.address.port })} (port ${listener.address.port}: ${describeLabel(labelPort(listener.address.port))}; pid ${process.pid})`);
      print(`try: socketlab connect ${formatEndpoint({ address: listener.address.host, port: listener.address.port })} --count 3 --verify    (Ctrl-C stops the server)`);
      await serveUntilSignal([listener]);
    });
}

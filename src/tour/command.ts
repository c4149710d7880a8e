import type { Command } from 'commander';
import { commandLogger } from '../cli-context.js';
import { bold, cyan, print } from '../format.js';
import { renderPorts } from '../ports/command.js';
import { portsReport } from '../ports/lookup.js';
import { startEcho } from '../api/servers.js';
import { DEFAULT_ECHO_PORT } from '../echo/server.js';
import { renderConnect, runConnect } from '../connect/command.js';
import { isLabError } from '../errors.js';
import { setProcessTitle } from '../run.js';

/** Registers `socketlab tour`: the localhost walk-through behind `npm start` (no root). */
export function registerTour(program: Command): void {
  program
    .command('tour')
    .description('a 30-second localhost tour: echo server, three connections, their socket pairs and the kernel view (no root)')
    .option('--count <n>', 'connections to open', '3')
    .action(async (flags: { count: string }, cmd: Command) => {
      setProcessTitle('socketlab-tour');
      const log = commandLogger(cmd, 'socketlab-tour');
      const count = Math.max(1, Math.min(20, Number(flags.count) || 3));
      print(bold(cyan('1. Ports: a port number names a service on a host')));
      print(renderPorts(portsReport(['22', '53', '80', '443', String(DEFAULT_ECHO_PORT)]), false));
      print('');
      print(bold(cyan(`2. A server: socketlab echo listens on a registered port`)));
      // The default port if it is free, else one the kernel picks: the tour must run anywhere.
      const echo = await startEcho({ port: DEFAULT_ECHO_PORT, log, keepEvents: false }).catch((err: unknown) => {
        if (isLabError(err) && err.code === 'LAB_ERR_PORT_IN_USE') return startEcho({ port: 0, log, keepEvents: false });
        throw err;
      });
      try {
        const server = { address: echo.address.host, port: echo.address.port };
        print(`socketlab-echo listening on tcp+udp ${server.address}:${server.port}`);
        print('');
        print(bold(cyan(`3. Clients: ${count} TCP connections, each from its own ephemeral source port`)));
        const tcp = await runConnect(server, { count, message: 'hello', hold: 0, verify: true, timeout: 5000 }, log);
        print(renderConnect(tcp));
        print('');
        print(bold(cyan('4. UDP: the same echo, without a connection')));
        const udp = await runConnect(server, { count: 1, udp: true, message: 'hello', hold: 0, verify: true, timeout: 5000 }, log);
        print(renderConnect(udp));
        if (tcp.verified === false || udp.verified === false) process.exitCode = 1;
      } finally {
        await echo.close();
      }
      print('');
      print(bold(cyan('Try next')));
      print(`  socketlab echo                                   # leave a server running (port ${DEFAULT_ECHO_PORT})`);
      print(`  socketlab connect 127.0.0.1:${DEFAULT_ECHO_PORT} --count 3 --hold 30   # then, in another terminal:`);
      print(`  ss -tnp | grep ${DEFAULT_ECHO_PORT}        or    socketlab netstat -tp --port ${DEFAULT_ECHO_PORT}`);
      print(`  socketlab netstat --explain "netstat -ano"      # Windows flags from the notes, on Linux`);
      print(`  socketlab lab list                               # the labs: handshake, DNS, DHCP, relay ...`);
    });
}

import { Option, type Command } from 'commander';
import { argParser, commandLogger, type GlobalOptions } from '../cli-context.js';
import { invalidArgument } from '../errors.js';
import { print } from '../format.js';
import { parsePort } from '../ports/registry.js';
import { serveUntilSignal, setProcessTitle } from '../run.js';
import { startCapture } from './capture.js';
import { formatRecord } from './format.js';

interface CaptureFlags {
  port: number;
  interface?: string;
  netns?: string;
  count?: number;
  duration?: number;
  json?: boolean;
}

const positiveInt = (what: string) => (text: string): number => {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1) throw invalidArgument(`${what} "${text}" must be a whole number, 1 or more`);
  return n;
};

const positiveSeconds = (text: string): number => {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || n <= 0) throw invalidArgument(`--duration "${text}" must be a number of seconds above 0`);
  return n;
};

/** Registers `socketlab capture --port P`: tcpdump, one annotated line per segment. */
export function registerCapture(program: Command): void {
  program
    .command('capture')
    .description('watch the packets of one port with tcpdump, each segment annotated (SYN, SYN-ACK, ACK, FIN ...); needs root')
    .addOption(new Option('-p, --port <port>', 'port to watch (either side)').makeOptionMandatory().argParser(argParser((t) => parsePort(t, '--port'))))
    .addOption(new Option('-i, --interface <if>', 'interface (default: lo; inside --netns: any)'))
    .addOption(new Option('--netns <name>', 'capture inside a socketlab namespace (sl-<id>-<host>)'))
    .addOption(new Option('-c, --count <n>', 'stop after N packets').argParser(argParser(positiveInt('--count'))))
    .addOption(new Option('-d, --duration <seconds>', 'stop after this many seconds').argParser(argParser(positiveSeconds)))
    .option('--json', 'one JSON record per line (the ready line goes to stderr)')
    .addHelpText(
      'after',
      `
Reads tcpdump -l -n -tt and prints each segment with what it means in the life of a connection: the
three-way handshake (SYN, SYN-ACK, ACK), data, and the teardown (FIN, ACK). The SYN and SYN-ACK show
each side's real initial sequence number; after them tcpdump prints numbers relative to it (seq 1:6).

Examples:
  $ sudo socketlab capture --port 7007                 watch the echo server on lo
  $ sudo socketlab capture --port 7007 --count 10 --json
  $ sudo socketlab capture --port 53 --netns sl-ab12-server --interface eth0`,
    )
    .action(async (flags: CaptureFlags, cmd: Command) => {
      setProcessTitle('socketlab-capture');
      const log = commandLogger(cmd, 'socketlab-capture');
      const logFile = cmd.optsWithGlobals<GlobalOptions>().logFile;
      let t0: number | undefined;
      const capture = startCapture({
        port: flags.port,
        interface: flags.interface,
        netns: flags.netns,
        count: flags.count,
        durationMs: flags.duration === undefined ? undefined : flags.duration * 1000,
        log,
        // In a lab run (--log-file) every segment becomes an event record for the report; on a
        // terminal the printed line already says it all.
        logLevel: logFile ? 'info' : 'debug',
        onRecord: (r) => {
          t0 ??= r.time;
          if (flags.json) process.stdout.write(JSON.stringify(r) + '\n');
          else print(formatRecord(r, t0));
        },
      });
      try {
        await capture.ready;
      } catch (err) {
        await capture.close();
        throw err;
      }
      const where = `${capture.address.interface}${flags.netns ? ` in ${flags.netns}` : ''}`;
      const readyLine = `socketlab-capture listening on ${where}, port ${flags.port} (tcpdump)`;
      if (flags.json) process.stderr.write(readyLine + '\n');
      else print(readyLine);
      await Promise.race([capture.done, serveUntilSignal([capture])]);
      const stats = await capture.done;
      // tcpdump's "dropped by kernel" on Linux also counts packets the filter never wanted: not shown.
      const summary = `${stats.records} packets shown`;
      if (flags.json) process.stderr.write(summary + '\n');
      else print(summary);
    });
}

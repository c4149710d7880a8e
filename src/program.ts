import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { isLabError } from './errors.js';
import { addGlobalOptions } from './cli-context.js';
import { registerPorts } from './ports/command.js';
import { registerEcho } from './echo/command.js';
import { registerConnect } from './connect/command.js';
import { registerNetstat } from './netstat/command.js';
import { registerTour } from './tour/command.js';
import { registerDns } from './dns/command.js';
import { registerDhcp } from './dhcp/command.js';
import { registerNetns } from './netns/command.js';
import { registerCapture } from './capture/command.js';
import { registerLab } from './lab/command.js';
import { registerCompletion } from './completion/command.js';
import { outputClosed } from './core/output-closed.js';
import { registerDocker } from './hosts/docker/command.js';

/** The package's own version (dist/program.js and src/program.ts both sit one level below package.json). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Builds the program; tests call this with exitOverride() instead of spawning a process. */
export function buildProgram(): Command {
  const program = new Command('socketlab')
    .description('A socket lab on real sockets: ports, socket pairs, TCP/UDP echo, DNS and DHCP, seen through ss/netstat/tcpdump.')
    .version(packageVersion())
    .configureHelp({ sortSubcommands: false })
    // Before the commands are added, so that they inherit it: usage errors come back to main().
    .exitOverride();
  addGlobalOptions(program);
  program
    .addOption(new Option('--no-color', 'no ANSI colours (also NO_COLOR=1; FORCE_COLOR=1 forces them without a terminal)'))
    // NO_COLOR in the environment also reaches the servers and clients a lab starts.
    .hook('preAction', (cmd) => {
      if (cmd.opts<{ color?: boolean }>().color === false) process.env.NO_COLOR = '1';
    });
  registerTour(program);
  registerPorts(program);
  registerEcho(program);
  registerConnect(program);
  registerNetstat(program);
  registerCapture(program);
  registerDns(program);
  registerDhcp(program);
  registerNetns(program);
  registerLab(program);
  registerCompletion(program);
  registerDocker(program);
  program.addHelpText(
    'after',
    `
Examples:
  $ socketlab ports 443                      classify a port and name its service
  $ socketlab echo                           TCP+UDP echo server on 127.0.0.1:8920
  $ socketlab connect 127.0.0.1:8920 --count 3 --verify
  $ socketlab netstat -tn --port 8920        the kernel's view of those sockets
  $ socketlab dns serve --zone examples/zones/example.zone   DNS on 127.0.0.1:5300, UDP and TCP
  $ socketlab lab run 02-socket-pairs        a whole lab: topology, services, steps, checks`,
  );
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  exitWhenOutputCloses();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" to commander; usage errors were already printed
      process.exitCode = err.exitCode === 0 ? 0 : err.code === 'commander.executeSubCommandAsync' ? err.exitCode : 2;
      return;
    }
    if (isLabError(err)) {
      process.stderr.write(`socketlab: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    // A bug or an unforeseen system error: one line for the user, the stack on request.
    const debug = process.env.SOCKETLAB_DEBUG === '1';
    const text = err instanceof Error ? (debug ? (err.stack ?? err.message) : err.message) : String(err);
    process.stderr.write(`socketlab: unexpected error: ${text}${debug ? '' : ' (SOCKETLAB_DEBUG=1 shows the stack)'}\n`);
    process.exitCode = 1;
  }
}


/**
 * `socketlab tour | head -1`: once the reader is gone, a write fails with EPIPE, which, unhandled,
 * crashed with a stack. Exit quietly instead, as `cat` would (the shell's SIGPIPE convention, minus
 * the signal). A command with something to undo first (a running lab) registers with
 * onOutputClosed and exits itself once that is done.
 */
export function exitWhenOutputCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      // EPIPE, then ERR_STREAM_DESTROYED for every later write: the reader is gone either way
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
        // a lab must tear down first: its handler exits when that is done
        if (outputClosed()) return;
        process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      }
      // Another output error: say so on whichever stream still works; nothing more can be reported.
      try {
        process.stderr.write(`socketlab: cannot write output: ${err.message}\n`);
      } catch {
        // stderr is gone too
      }
      process.exit(1);
    });
  }
}

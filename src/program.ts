import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { isLabError } from './errors.js';
import { addGlobalOptions } from './cli-context.js';
import { outputClosed } from './core/output-closed.js';

type Register = (program: Command) => void;

/**
 * Every command, in help order, with the top-level names it registers and how to load it. Only the
 * command named on the command line is imported: loading all of them (lab's schemas, Docker, ...)
 * tripled a server's heap, and each full GC, which a bulk echo triggers every 64 MiB of read buffers
 * (V8 collects on external-memory growth), costs in proportion to the heap: bulk echo at 0.7x a plain
 * node:net pipe. Help, completion and unknown names load them all (commander lists and suggests).
 */
const COMMANDS: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ['tour'], load: async () => (await import('./tour/command.js')).registerTour },
  { names: ['ports'], load: async () => (await import('./ports/command.js')).registerPorts },
  { names: ['echo'], load: async () => (await import('./echo/command.js')).registerEcho },
  { names: ['connect'], load: async () => (await import('./connect/command.js')).registerConnect },
  { names: ['netstat'], load: async () => (await import('./netstat/command.js')).registerNetstat },
  { names: ['capture'], load: async () => (await import('./capture/command.js')).registerCapture },
  { names: ['dns'], load: async () => (await import('./dns/command.js')).registerDns },
  { names: ['dhcp'], load: async () => (await import('./dhcp/command.js')).registerDhcp },
  { names: ['netns'], load: async () => (await import('./netns/command.js')).registerNetns },
  { names: ['lab'], load: async () => (await import('./lab/command.js')).registerLab },
  // completion reads the whole program: never alone
  { names: [], load: async () => (await import('./completion/command.js')).registerCompletion },
  { names: ['image', 'docker'], load: async () => (await import('./hosts/docker/command.js')).registerDocker },
];

/** The program's global options that take a value (the value is not the command name). */
const GLOBAL_WITH_VALUE = new Set(['--log-level', '--log-file']);

/**
 * The command word of `argv` (node, script, [global options], command, ...), or undefined, also when
 * the program's own help comes first (`socketlab --help echo` lists every command).
 */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return argv[i + 1];
    if (!a.startsWith('-')) return a;
    if (a === '-h' || a === '--help') return undefined;
    if (GLOBAL_WITH_VALUE.has(a)) i++;
  }
  return undefined;
}

/** The package's own version (dist/program.js and src/program.ts both sit one level below package.json). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/**
 * Builds the program; tests call this with exitOverride() instead of spawning a process. With
 * `argv`, only the command it names is registered (all of them when it names none or an unknown one).
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const word = argv && commandWord(argv);
  const named = word === undefined ? undefined : COMMANDS.find((c) => c.names.includes(word));
  const registers = await Promise.all((named ? [named] : COMMANDS).map((c) => c.load()));
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
  for (const register of registers) register(program);
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
  try {
    const program = await buildProgram(argv);
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

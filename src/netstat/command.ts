import { Option, type Command } from 'commander';
import { argParser } from '../cli-context.js';
import { invalidArgument } from '../errors.js';
import { bold, dim, print, printJson, table, yellow } from '../format.js';
import { describeLabel, labelPort, parsePort } from '../ports/registry.js';
import type { Endpoint } from '../socket-pair.js';
import { explainNetstat, type NetstatExplanation } from './explain.js';
import { readSocketTable, type SocketTable, type SocketTool } from './sockets.js';
import { STATE_EXPLANATIONS, parseStateArg, stateFooter } from './states.js';
import type { SocketRecord } from './types.js';

interface NetstatFlags {
  all?: boolean;
  listening?: boolean;
  numeric?: boolean;
  programs?: boolean;
  tcp?: boolean;
  udp?: boolean;
  state?: string;
  port?: number;
  tool?: SocketTool;
  netns?: string;
  json?: boolean;
  explain?: string;
  states?: boolean;
}

/**
 * `socketlab netstat --json` prints one document:
 * `{ tool: 'ss' | 'netstat', command: string[], sockets: SocketRecord[] }` where `command` is the argv
 * that read the table and each socket is
 * `{ proto: 'tcp'|'udp', state, local: {address, port}, remote: {address, port}, recvQ, sendQ,
 *    family?: 'ipv4'|'ipv6', device?, process?: [{name, pid, fd?}], rawState, line }`
 * (see SocketRecord in types.ts; port 0 = `*`, state in the SOCKET_STATES vocabulary).
 */
export interface NetstatJson {
  tool: SocketTool;
  command: string[];
  sockets: SocketRecord[];
}

/** Registers `socketlab netstat`: the kernel's sockets via ss/netstat, `--explain` for notes' flags, `--states`. */
export function registerNetstat(program: Command): void {
  program
    .command('netstat')
    .description("the kernel's TCP/UDP sockets through ss (or netstat), ports labelled; --explain translates Windows netstat flags")
    .option('-a, --all', 'all sockets, listening ones too')
    .option('-l, --listening', 'listening sockets only (TCP LISTEN, UDP UNCONN)')
    .option('-n, --numeric', 'plain numbers: no port categories or service names')
    .option('-p, --programs', 'show the process owning each socket (root sees every process)')
    .option('-t, --tcp', 'TCP sockets')
    .option('-u, --udp', 'UDP sockets')
    .addOption(new Option('--state <state>', 'only this state (ESTABLISHED, LISTEN, TIME-WAIT, ...; ss/netstat spellings work)').argParser(argParser(parseStateArg)))
    .addOption(new Option('--port <port>', 'only sockets with this local or remote port').argParser(argParser((t) => parsePort(t, '--port'))))
    .addOption(new Option('--tool <tool>', 'read the table with ss or netstat (default: ss, else netstat)').argParser(argParser(parseTool)))
    .option('--netns <name>', 'look inside this network namespace (ip netns exec NAME ...; needs root)')
    .option('--json', 'print {tool, command, sockets} as JSON')
    .option('--explain <cmdline>', 'explain a netstat command line from the notes, Windows vs Linux ("netstat -ano")')
    .option('--states', 'explain the TCP states (and UDP UNCONN) a learner meets')
    .addHelpText('after', `
Default: connected TCP and UDP sockets, like "netstat -tu". Ports carry their IANA category and
service name unless -n.

Examples:
  $ socketlab netstat                       connected sockets (ESTABLISHED, TIME-WAIT ...)
  $ socketlab netstat -l -p                 who listens where
  $ socketlab netstat -a --port 7007        one server's listening socket and every conversation
  $ socketlab netstat --state time-wait     pairs the kernel keeps after an active close
  $ socketlab netstat --explain "netstat -ano"   what the notes' Windows flags mean on Linux
  $ socketlab netstat --states              what LISTEN, TIME-WAIT, CLOSE-WAIT ... mean`)
    .action(async (flags: NetstatFlags) => {
      if (flags.explain !== undefined) {
        const e = explainNetstat(flags.explain);
        return flags.json ? printJson(e) : print(renderExplanation(e));
      }
      if (flags.states) return flags.json ? printJson(STATE_EXPLANATIONS) : print(renderStates());
      const t = await readSocketTable({
        all: flags.all, listening: flags.listening, processes: flags.programs, tcp: flags.tcp, udp: flags.udp,
        state: flags.state, port: flags.port, tool: flags.tool, netns: flags.netns,
      });
      if (flags.json) return printJson({ tool: t.tool, command: t.command, sockets: t.sockets } satisfies NetstatJson);
      print(renderSockets(t, { numeric: flags.numeric, programs: flags.programs }));
    });
}

function parseTool(text: string): SocketTool {
  if (text === 'ss' || text === 'netstat') return text;
  throw invalidArgument(`unknown tool "${text}": use ss (iproute2) or netstat (net-tools)`);
}

/** `127.0.0.1:53 (well-known, domain)`; port 0 is `*` as ss and netstat print it. */
export function formatAddress(e: Endpoint, numeric: boolean): string {
  const host = e.address.includes(':') ? `[${e.address}]` : e.address;
  if (e.port === 0) return `${host}:*`;
  return numeric ? `${host}:${e.port}` : `${host}:${e.port} (${describeLabel(labelPort(e.port))})`;
}

const processText = (r: SocketRecord): string => r.process?.map((p) => `${p.name}/${p.pid}`).join(',') ?? '-';

/** The human table plus a footer naming the tool and explaining the states on screen. */
export function renderSockets(t: SocketTable, opts: { numeric?: boolean; programs?: boolean } = {}): string {
  const out: string[] = [];
  if (t.sockets.length === 0) {
    out.push('no sockets match (add -a to include listening sockets, or check --port/--state)');
  } else {
    out.push(
      table(t.sockets, [
        { header: 'Proto', get: (r) => (r.family === 'ipv6' ? `${r.proto}6` : r.proto) },
        { header: 'Local Address', get: (r) => formatAddress(r.local, Boolean(opts.numeric)) + (r.device ? ` %${r.device}` : '') },
        { header: 'Foreign Address', get: (r) => formatAddress(r.remote, Boolean(opts.numeric)) },
        { header: 'State', get: (r) => r.state },
        ...(opts.programs ? [{ header: 'Process', get: processText }] : []),
      ]),
    );
  }
  out.push('');
  out.push(dim(`${t.sockets.length} socket${t.sockets.length === 1 ? '' : 's'}, read with: ${t.command.join(' ')}`));
  if (opts.programs && t.sockets.some((r) => !r.process) && process.getuid?.() !== 0) {
    out.push(dim('"-": not your process (run as root to see every owner) or no process at all (TIME-WAIT)'));
  }
  const footer = stateFooter(t.sockets.map((r) => r.state));
  if (footer.length > 0) out.push(dim('States:'), ...footer.map((l) => dim(l)), dim('  (socketlab netstat --states explains every state)'));
  return out.join('\n');
}

/** `--states`: every state, with which side meets it and why. */
export function renderStates(): string {
  const out = [bold('TCP states (RFC 9293 section 3.3.2) and UDP, as ss/netstat show them'), ''];
  for (const e of STATE_EXPLANATIONS) {
    out.push(`${bold(e.state)}  ${dim(`(${e.side})`)}`);
    out.push(...wrap(e.text, 92, '    '));
  }
  out.push('', dim('A client: SYN-SENT -> ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT (if it closes first).'));
  out.push(dim('A server: LISTEN (one socket) + per connection SYN-RECV -> ESTABLISHED -> CLOSE-WAIT -> LAST-ACK (if the client closes first).'));
  return out.join('\n');
}

/** `--explain`: flag by flag, Windows vs Linux, then the Linux commands. */
export function renderExplanation(e: NetstatExplanation): string {
  const reading = { windows: 'read as a Windows command', linux: 'read as a Linux command', mixed: 'a mix of Windows-only and Linux-only flags', either: 'these flags exist on both systems' }[e.style];
  const out = [bold(`netstat flags in "${e.input.trim()}"`) + dim(`  (${reading})`), ''];
  const width = Math.max(...e.flags.map((f) => f.flag.length));
  for (const f of e.flags) {
    const verdict = !f.known ? 'unknown' : f.differs ? 'DIFFERS' : 'same on both';
    const use = f.differs && f.linuxForWindows.length > 0 && f.linuxForWindows.join('') !== f.letter ? `  -> on Linux use ${f.linuxForWindows.map((l) => `-${l}`).join(' ')}` : '';
    out.push(`${bold(f.flag.padEnd(width))}  ${f.differs ? yellow(verdict) : dim(verdict)}${use}`);
    out.push(`${' '.repeat(width)}  Windows: ${f.windows}`);
    out.push(`${' '.repeat(width)}  Linux:   ${f.linux}`);
  }
  if (e.interval !== undefined) out.push(`${e.interval}: Windows repeats the listing every ${e.interval} seconds`);
  out.push('', bold('On Linux, for the same question:'));
  const w = Math.max(e.linux.ss.length, e.linux.netstat.length, e.linux.socketlab.length) + 2;
  out.push(`  ${e.linux.ss.padEnd(w)}${dim('ss, iproute2: the current tool')}`);
  out.push(`  ${e.linux.netstat.padEnd(w)}${dim('netstat, net-tools: the older one')}`);
  out.push(`  ${e.linux.socketlab.padEnd(w)}${dim('the same through socketlab, ports labelled')}`);
  if (e.notes.length > 0) out.push('', bold('Notes:'), ...e.notes.flatMap((n) => wrap(n, 92, '  - ').map((l, i) => (i === 0 ? l : `    ${l.slice(4)}`))));
  return out.join('\n');
}

function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && (line + ' ' + word).length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

import { run } from '../core/process.js';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LabError, asSystemError, invalidArgument } from '../errors.js';
import { normalizeAddress, type Endpoint } from '../socket-pair.js';
import type { ListSocketsOptions, SocketRecord } from './types.js';
import { isListeningState, parseStateArg } from './states.js';
import { parseSs, type SkippedLine } from './ss-parse.js';
import { parseNetstat } from './netstat-parse.js';

export type SocketTool = 'ss' | 'netstat';

/** Which Debian package ships each tool, for the "install it" message. */
export const TOOL_PACKAGES: Record<SocketTool | 'ip', string> = { ss: 'iproute2', netstat: 'net-tools', ip: 'iproute2' };

/** What one read of the socket table did: the tool, its exact command line, and the filtered rows. */
export interface SocketTable {
  tool: SocketTool;
  command: string[];
  sockets: SocketRecord[];
  /** Lines of the tool's output that were not socket rows (should be empty; kept for debugging). */
  skipped: SkippedLine[];
}

const EXTRA_PATH = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

/** The absolute path of an executable found on `searchPath` (default $PATH + the sbin dirs), or undefined. */
export function findExecutable(name: string, searchPath = [process.env.PATH ?? '', ...EXTRA_PATH].join(delimiter)): string | undefined {
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The argv that reads the whole inet table; filtering happens in listSockets so both tools agree. */
export function toolArgs(tool: SocketTool, processes: boolean): string[] {
  // -H: no header; -n: numbers, not names; -a: every state; -t -u: both transports (keeps the Netid column).
  if (tool === 'ss') return ['-H', '-n', '-a', '-t', '-u', ...(processes ? ['-p'] : [])];
  // -W: do not truncate IPv6 addresses to fit the 23-character column.
  return ['-n', '-a', '-t', '-u', '-W', ...(processes ? ['-p'] : [])];
}

/** Parses a tool's output into records (no filtering). */
export function parseToolOutput(tool: SocketTool, text: string): { records: SocketRecord[]; skipped: SkippedLine[] } {
  return tool === 'ss' ? parseSs(text) : parseNetstat(text);
}

/** Keeps the rows `opts` asks for: transport, listening/connected/all, state and port. */
export function filterSockets(records: readonly SocketRecord[], opts: ListSocketsOptions): SocketRecord[] {
  const bothOrNeither = !opts.tcp && !opts.udp;
  const wantState = opts.state === undefined ? undefined : parseStateArg(opts.state);
  return records.filter((r) => {
    const proto = r.proto.replace(/6$/, '');
    if (!bothOrNeither && !((opts.tcp && proto === 'tcp') || (opts.udp && proto === 'udp'))) return false;
    if (bothOrNeither && proto !== 'tcp' && proto !== 'udp') return false;
    if (wantState !== undefined) {
      if (r.state !== wantState) return false;
    } else if (!opts.all) {
      // like netstat: -l shows only listening sockets, the default only the others
      if (isListeningState(r.state) !== Boolean(opts.listening)) return false;
      if (!opts.listening && r.state === 'CLOSED') return false;
    }
    if (opts.port !== undefined && r.local.port !== opts.port && r.remote.port !== opts.port) return false;
    return true;
  });
}

function validate(opts: ListSocketsOptions): void {
  if (opts.tool !== undefined && opts.tool !== 'ss' && opts.tool !== 'netstat') throw invalidArgument(`unknown tool "${String(opts.tool)}": use ss or netstat`);
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 0 && opts.port <= 65535)) throw invalidArgument(`port ${opts.port} is out of range: a port is a whole number from 0 to 65535`);
  if (opts.state !== undefined) parseStateArg(opts.state);
  if (opts.netns !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(opts.netns)) throw invalidArgument(`bad network namespace name "${opts.netns}": letters, digits, '.', '_' and '-' only`);
}

/** The tools to try, in order, that exist on the search path; none at all is LAB_ERR_TOOL_MISSING. */
function availableTools(opts: ListSocketsOptions): { tool: SocketTool; path: string }[] {
  const order: SocketTool[] = opts.tool ? [opts.tool] : ['ss', 'netstat'];
  const found = order.flatMap((tool) => {
    const path = findExecutable(tool, opts.searchPath);
    return path ? [{ tool, path }] : [];
  });
  if (found.length > 0) return found;
  const wanted = order.map((t) => `${t} (Debian package ${TOOL_PACKAGES[t]})`).join(' or ');
  const install = [...new Set(order.map((t) => TOOL_PACKAGES[t]))].join(' ');
  throw new LabError('LAB_ERR_TOOL_MISSING', `cannot read the kernel's socket table: ${wanted} not found; install it with "apt-get install ${install}"`, { tools: order });
}

/**
 * Reads the kernel's socket table with ss (or netstat) and returns the tool used, its argv and the
 * filtered rows. ss is tried first; netstat is used when ss is missing, or when ss fails (a kernel
 * without sock_diag netlink) and the caller did not force a tool.
 */
export async function readSocketTable(opts: ListSocketsOptions = {}): Promise<SocketTable> {
  validate(opts);
  const tools = availableTools(opts);
  let first: LabError | undefined;
  for (const { tool, path } of tools) {
    try {
      return await readWith(tool, path, opts);
    } catch (err) {
      if (!(err instanceof LabError) || err.code !== 'LAB_ERR_INTERNAL') throw err;
      first ??= err;
    }
  }
  throw first!;
}

async function readWith(tool: SocketTool, path: string, opts: ListSocketsOptions): Promise<SocketTable> {
  let argv = [path, ...toolArgs(tool, Boolean(opts.processes))];
  if (opts.netns !== undefined) {
    const ip = findExecutable('ip', opts.searchPath);
    if (!ip) throw new LabError('LAB_ERR_TOOL_MISSING', `cannot look inside network namespace "${opts.netns}": ip not found; install it with "apt-get install iproute2"`, { tools: ['ip'] });
    argv = [ip, 'netns', 'exec', opts.netns, ...argv];
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const res = await run(argv, { timeoutMs, killSignal: 'SIGTERM', group: false, maxBuffer: 64 * 1024 * 1024, env: { LC_ALL: 'C' } });
  const shown = [opts.netns !== undefined ? 'ip' : tool, ...argv.slice(1).map((a) => (a === path ? tool : a))];
  if (res.error || res.code !== 0) {
    const error = res.error ?? new Error(`Command failed: ${argv.join(' ')}`);
    const why = res.stderr.trim().split('\n')[0] || (res.timedOut ? `no answer within ${timeoutMs} ms` : asSystemError(error).message);
    const code = opts.netns !== undefined && /netns|namespace/i.test(why) ? 'LAB_ERR_NETNS' : 'LAB_ERR_INTERNAL';
    throw new LabError(code, `"${shown.join(' ')}" failed (exit ${res.error ? 'signal' : (res.code ?? 'signal')}): ${why}`, { tool, argv: shown }, { cause: error });
  }
  const { records, skipped } = parseToolOutput(tool, res.stdout);
  return { tool, command: shown, sockets: filterSockets(records, opts), skipped };
}

/** The kernel's sockets (TCP and UDP) as records, filtered by `opts`; see ListSocketsOptions. */
export async function listSockets(opts: ListSocketsOptions = {}): Promise<SocketRecord[]> {
  return (await readSocketTable(opts)).sockets;
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && normalizeAddress(a.address) === normalizeAddress(b.address);
}

/**
 * The socket whose local end is `local` and remote end is `remote` (IPv4-mapped `::ffff:127.0.0.1`
 * equals `127.0.0.1`). For a TCP connection each side has its own row: findPair(rows, client, server)
 * is the client's socket, findPair(rows, server, client) the server's.
 */
export function findPair(records: readonly SocketRecord[], local: Endpoint, remote: Endpoint, proto?: 'tcp' | 'udp'): SocketRecord | undefined {
  return records.find((r) => (proto === undefined || r.proto.replace(/6$/, '') === proto) && sameEndpoint(r.local, local) && sameEndpoint(r.remote, remote));
}

import { readFileSync } from 'node:fs';
import type { SocketRecord, ListSocketsOptions } from '../netstat/types.js';
import type { EphemeralRange } from '../ports/registry.js';
import type { CheckSpec } from './schema.js';
import { fill, fillInt, type TemplateScope } from './template.js';
import type { ExecResult } from './exec.js';
import { isLabError } from '../errors.js';

/** One JSON log record of a service (pino line with the netEvent fields). */
export type LogRecord = Record<string, unknown> & { event?: string; transport?: string; from?: string; to?: string; pair?: string };

/** What checks can look at; the runner provides it for a running lab (or a learner's own setup). */
export interface CheckContext {
  scope: TemplateScope;
  sockets(host: string, opts: ListSocketsOptions): Promise<SocketRecord[]>;
  /** the service's log records, or undefined when its log is unknown */
  logRecords(service: string): LogRecord[] | undefined;
  /** the service's stdout so far (capture output) */
  serviceOutput(service: string): string | undefined;
  ephemeralRange(host: string): Promise<EphemeralRange | undefined>;
  exec(host: string, commandLine: string, timeoutMs?: number): Promise<ExecResult>;
}

export interface CheckResult {
  kind: string;
  /** the check in the course's words: "tcp/7007 is LISTEN, held by socketlab-echo" */
  name: string;
  passed: boolean;
  /** what was actually seen */
  detail: string;
  /** what to look at when it failed */
  hint: string;
}

/** Reads a pino JSON-lines file; lines that are not JSON (a crash trace) are skipped. */
export function readLogFile(file: string): LogRecord[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const out: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // a half-written last line
    }
  }
  return out;
}

/** ss and netstat spell states differently; compare them in one spelling. */
export function normState(s: string): string {
  const u = s.toUpperCase().replace(/_/g, '-');
  if (u === 'ESTAB') return 'ESTABLISHED';
  if (u === 'UNCONN' || u === 'CLOSE' || u === '') return 'UNCONN';
  return u;
}

/** Process names in the socket table are truncated to 15 characters by the kernel (comm). */
function processMatches(name: string, want: string): boolean {
  return name === want || (name.length >= 15 && want.startsWith(name));
}

function countWord(c: { count?: number; min?: number; max?: number }): string {
  if (c.count !== undefined) return `exactly ${c.count}`;
  if (c.min !== undefined && c.max !== undefined) return `${c.min} to ${c.max}`;
  if (c.min !== undefined) return `at least ${c.min}`;
  if (c.max !== undefined) return `at most ${c.max}`;
  return 'at least 1';
}

function countOk(n: number, c: { count?: number; min?: number; max?: number }): boolean {
  if (c.count !== undefined) return n === c.count;
  if (c.min === undefined && c.max === undefined) return n >= 1;
  return (c.min === undefined || n >= c.min) && (c.max === undefined || n <= c.max);
}

/** `where` values: a literal (string/number/boolean compared as text) or a /regex/. */
export function fieldMatches(actual: unknown, want: string | number | boolean): boolean {
  if (actual === undefined || actual === null) return false;
  const a = typeof actual === 'object' ? JSON.stringify(actual) : String(actual);
  if (typeof want === 'string' && want.length >= 2 && want.startsWith('/') && want.endsWith('/')) return new RegExp(want.slice(1, -1)).test(a);
  return a === String(want);
}

/** The client's endpoint of a record's pair (`client:port <-> server:port`). */
export function clientPort(rec: LogRecord): number | undefined {
  const pair = typeof rec.pair === 'string' ? rec.pair : undefined;
  const m = pair ? /:(\d+) <-> /.exec(pair) : undefined;
  return m ? Number(m[1]) : undefined;
}

/** A segment's kind from tcpdump's flag letters (`S`, `S.`, `.`, `P.`, `F.`, `R`). */
export function flagsKind(flags: string): string | undefined {
  if (flags === 'none' || flags === '') return undefined;
  if (flags.includes('R')) return 'RST';
  if (flags.includes('S')) return flags.includes('.') ? 'SYN-ACK' : 'SYN';
  if (flags.includes('F')) return 'FIN';
  if (flags.includes('P')) return 'DATA';
  return 'ACK';
}

/** Segment kinds a capture line shows: tcpdump's `Flags [S.]`, socketlab capture's `[S.]`, or words. */
export function segmentKind(line: string): string | undefined {
  const flags = /(?:Flags )?\[([SFPRUEW.]+|none)\]/.exec(line)?.[1];
  if (flags !== undefined) return flagsKind(flags);
  if (/\bRST\b/.test(line)) return 'RST';
  if (/\bSYN[-/ ]?ACK\b/.test(line)) return 'SYN-ACK';
  if (/\bSYN\b/.test(line)) return 'SYN';
  if (/\bFIN\b/.test(line)) return 'FIN';
  if (/\bACK\b/.test(line)) return 'ACK';
  return undefined;
}

/** The check in the course's words, with templates filled. */
export function describeCheck(c: CheckSpec, scope: TemplateScope): string {
  if (c.name) return fill(c.name, scope, 'name');
  const port = 'port' in c ? fillInt(c.port, scope, 'port') : undefined;
  const counts = (x: { count?: number | string; min?: number | string; max?: number | string }) =>
    countWord({ count: fillInt(x.count, scope, 'count'), min: fillInt(x.min, scope, 'min'), max: fillInt(x.max, scope, 'max') });
  switch (c.kind) {
    case 'listening':
      if (c.absent) return `nothing listens on ${c.proto}/${port}`;
      return `${c.proto}/${port} is ${c.proto === 'tcp' ? 'LISTEN' : 'bound (UNCONN)'}${c.process ? `, held by ${c.process}` : ''}`;
    case 'established-pairs':
      return `${counts(c)} ESTABLISHED pairs share server port ${port}`;
    case 'sockets':
      return `${counts(c)} ${c.proto} sockets in ${normState(c.state)} on port ${port}`;
    case 'ephemeral-source':
      return `client source ports seen by ${c.service} are in ${c.client ?? c.host ?? 'the client'}'s ephemeral range`;
    case 'log-event': {
      const where = Object.entries(c.where ?? {}).map(([k, v]) => `${k}=${fill(String(v), scope, `where.${k}`)}`);
      return `${c.service} logged ${counts(c)} ${c.event}${where.length ? ` with ${where.join(', ')}` : ''}`;
    }
    case 'command': {
      const parts = [`exits ${c.exit ?? 0}`];
      if (c['stdout-matches']) parts.push(`prints /${c['stdout-matches']}/`);
      if (c['stdout-not-matches']) parts.push(`does not print /${c['stdout-not-matches']}/`);
      return `"${fill(c.run, scope, 'run')}" ${parts.join(' and ')}`;
    }
    case 'capture':
      return c.handshake ? `${c.service} saw the three-way handshake (SYN, SYN-ACK, ACK)` : `${c.service} saw ${(c.sequence ?? []).join(', ')} in order`;
  }
}

/** A row as a socket pair, client first: the end on the server port goes on the right. */
function pairText(s: SocketRecord, serverPort: number): string {
  const e = (x: { address: string; port: number }) => (x.address.includes(':') ? `[${x.address}]:${x.port}` : `${x.address}:${x.port}`);
  return s.local.port === serverPort ? `${e(s.remote)} <-> ${e(s.local)}` : `${e(s.local)} <-> ${e(s.remote)}`;
}

/** Runs one check. A check that cannot be evaluated (a tool missing) fails with the reason. */
export async function runCheck(c: CheckSpec, ctx: CheckContext, defaultHost: string): Promise<CheckResult> {
  const base = { kind: c.kind, hint: c.hint };
  let name = c.kind as string;
  try {
    name = describeCheck(c, ctx.scope);
    const { passed, detail } = await evaluate(c, ctx, c.host ?? defaultHost);
    return { ...base, name, passed, detail };
  } catch (err) {
    if (isLabError(err) && err.code === 'LAB_ERR_LAB_FILE') throw err;
    return { ...base, name, passed: false, detail: `could not evaluate: ${(err as Error).message}` };
  }
}

async function evaluate(c: CheckSpec, ctx: CheckContext, host: string): Promise<{ passed: boolean; detail: string }> {
  const s = ctx.scope;
  const int = (v: number | string | undefined, f: string) => fillInt(v, s, f);
  switch (c.kind) {
    case 'listening': {
      const port = int(c.port, 'port')!;
      const rows = (await ctx.sockets(host, { [c.proto]: true, listening: true, processes: true, port }))
        .filter((r) => r.local.port === port && r.proto.startsWith(c.proto) && (c.proto === 'udp' || normState(r.state) === 'LISTEN'));
      const holders = [...new Set(rows.flatMap((r) => (r.process ?? []).map((p) => p.name)))];
      const held = c.process ? rows.filter((r) => (r.process ?? []).some((p) => processMatches(p.name, c.process!))) : rows;
      const seen = rows.length === 0 ? `nothing listens on ${c.proto}/${port}` : `${c.proto}/${port} held by ${holders.join(', ') || '(process unknown)'} on ${[...new Set(rows.map((r) => r.local.address))].join(', ')}`;
      if (c.absent) return { passed: rows.length === 0, detail: seen };
      return { passed: held.length > 0, detail: seen };
    }
    case 'established-pairs': {
      const port = int(c.port, 'port')!;
      const rows = (await ctx.sockets(host, { tcp: true, port })).filter((r) => normState(r.state) === 'ESTABLISHED' && r.local.port === port);
      const want = { count: int(c.count, 'count'), min: int(c.min, 'min') };
      return { passed: countOk(rows.length, want), detail: `${rows.length} ESTABLISHED on server port ${port}${rows.length ? `: ${rows.map((r) => pairText(r, port)).join(', ')}` : ''}` };
    }
    case 'sockets': {
      const port = int(c.port, 'port')!;
      const st = normState(c.state);
      const rows = (await ctx.sockets(host, { [c.proto]: true, all: true, port })).filter((r) => normState(r.state) === st && (r.local.port === port || r.remote.port === port));
      const want = { count: int(c.count, 'count'), min: int(c.min, 'min'), max: int(c.max, 'max') };
      return { passed: countOk(rows.length, want), detail: `${rows.length} in ${st}${rows.length ? `: ${rows.slice(0, 6).map((r) => pairText(r, port)).join(', ')}${rows.length > 6 ? ' ...' : ''}` : ''}` };
    }
    case 'ephemeral-source': {
      const recs = ctx.logRecords(c.service);
      if (!recs) return { passed: false, detail: `no log of service ${c.service}` };
      const event = c.event ?? 'tcp.accept';
      const ports = recs.filter((r) => r.event === event).map(clientPort).filter((p): p is number => p !== undefined);
      const range = await ctx.ephemeralRange(c.client ?? host);
      if (!range) return { passed: false, detail: `cannot read the ephemeral range of host ${c.client ?? host}` };
      const min = int(c.min, 'min') ?? 1;
      const outside = ports.filter((p) => p < range.first || p > range.last);
      const shown = [...new Set(ports)].slice(0, 8).join(', ');
      if (ports.length < min) return { passed: false, detail: `${ports.length} ${event} records with a client port (need ${min}); range ${range.first}-${range.last}` };
      return {
        passed: outside.length === 0,
        detail: outside.length === 0 ? `source ports ${shown} all in ${range.first}-${range.last}` : `source ports outside ${range.first}-${range.last}: ${[...new Set(outside)].join(', ')}`,
      };
    }
    case 'log-event': {
      const recs = ctx.logRecords(c.service);
      if (!recs) return { passed: false, detail: `no log of service ${c.service}` };
      const where = Object.entries(c.where ?? {}).map(([k, v]) => [k, typeof v === 'string' ? fill(v, s, `where.${k}`) : v] as const);
      const ofEvent = recs.filter((r) => r.event === c.event);
      const hits = ofEvent.filter((r) => where.every(([k, v]) => fieldMatches(r[k], v)));
      const want = { count: int(c.count, 'count'), min: int(c.min, 'min'), max: int(c.max, 'max') };
      let detail = `${hits.length} matching of ${ofEvent.length} ${c.event} records`;
      if (hits.length === 0 && ofEvent.length > 0) {
        const r = ofEvent[ofEvent.length - 1]!;
        detail += `; last one: ${where.map(([k]) => `${k}=${JSON.stringify(r[k])}`).join(', ') || r.pair}`;
      }
      if (ofEvent.length === 0) {
        const events = [...new Set(recs.map((r) => r.event).filter(Boolean))];
        detail += ` (events logged: ${events.join(', ') || 'none'})`;
      }
      return { passed: countOk(hits.length, want), detail };
    }
    case 'command': {
      const cmd = fill(c.run, s, 'run');
      const r = await ctx.exec(host, cmd, 30_000);
      const problems: string[] = [];
      const exit = c.exit ?? 0;
      if (r.timedOut) problems.push('timed out');
      if (r.code !== exit) problems.push(`exited ${r.code}, expected ${exit}`);
      if (c['stdout-matches'] && !new RegExp(fill(c['stdout-matches'], s, 'stdout-matches'), 'm').test(r.stdout)) problems.push(`stdout does not match /${c['stdout-matches']}/`);
      if (c['stdout-not-matches'] && new RegExp(fill(c['stdout-not-matches'], s, 'stdout-not-matches'), 'm').test(r.stdout)) problems.push(`stdout matches /${c['stdout-not-matches']}/`);
      const matched = c['stdout-matches'] ? new RegExp(`^.*(?:${fill(c['stdout-matches'], s, 'stdout-matches')}).*$`, 'm').exec(r.stdout)?.[0] : undefined;
      const tail = matched?.trim() ?? (r.stdout.trim() || r.stderr.trim()).split('\n').slice(-3).join(' | ');
      return { passed: problems.length === 0, detail: problems.length ? `${problems.join('; ')}${tail ? ` — output: ${tail}` : ''}` : `exit ${r.code}${tail ? `: ${tail.slice(0, 200)}` : ''}` };
    }
    case 'capture': {
      // the capture's own event records (tcp.segment with tcpdump's flags), else its printed lines
      const recs = ctx.logRecords(c.service)?.filter((r) => r.event === 'tcp.segment' && typeof r.flags === 'string');
      const out = ctx.serviceOutput(c.service);
      if (!recs?.length && out === undefined) return { passed: false, detail: `no output from capture service ${c.service}` };
      const kinds = (recs?.length ? recs.map((r) => flagsKind(String(r.flags))) : (out ?? '').split('\n').map(segmentKind)).filter((k): k is string => k !== undefined);
      const want = c.handshake ? ['SYN', 'SYN-ACK', 'ACK'] : (c.sequence ?? []).map((x) => x.toUpperCase());
      let i = 0;
      for (const k of kinds) if (i < want.length && k === want[i]) i++;
      return { passed: i === want.length, detail: `segments seen: ${kinds.slice(0, 12).join(' ') || 'none'}${kinds.length > 12 ? ' ...' : ''}${i < want.length ? `; missing ${want.slice(i).join(', ')}` : ''}` };
    }
  }
}

/**
 * Questions whose right answers come from this run — its services' logged events, its socket
 * table, a command's output — not from fixed text: "which source port did the first client use?"
 * The answers are computed when the run's steps are done and kept in the run dir, so
 * `lab answer` can judge them after the lab is down, and each student's run has its own.
 */
import * as z from 'zod';
import { parseStateArg, SOCKET_STATES } from '../netstat/states.js';
import { commandLine, dictionary, hostRef, mapping, oneOf, port, regex, serviceRef, text } from './fields.js';
import { fieldMatches } from './checks/log-event.js';
import { normState, type CheckContext, type LogRecord } from './checks/kind.js';
import { fill, fillInt } from './template.js';
import { ITEM_ID, fillSoft } from './tasks.js';

const where = dictionary(z.string(), z.union([z.string(), z.number(), z.boolean()])).describe('fields the record must have: a value, or a /regex/').optional();
const state = text().describe(`a socket state: ${SOCKET_STATES.join(', ')}`).transform((s, ctx) => {
  try {
    return parseStateArg(s);
  } catch (err) {
    ctx.issues.push({ code: 'custom', message: (err as Error).message, input: s });
    return z.NEVER;
  }
});

const answerKinds = {
  value: mapping({ value: text().describe('a value from the run, e.g. ${echo.port} (follows --seed)') }),
  event: mapping({
    event: mapping({
      service: serviceRef('the service whose log records are read'),
      event: text().describe('the event of the records, e.g. tcp.accept'),
      where,
      field: text().describe('the record field that holds the answer, e.g. from, qname, yiaddr'),
      pick: oneOf(['first', 'last']).describe('which matching record; default first').optional(),
      part: oneOf(['address', 'port']).describe('for an address:port field: only the address or only the port').optional(),
    }),
  }),
  'count-events': mapping({ 'count-events': mapping({ service: serviceRef('the service whose log records are counted'), event: text(), where }) }),
  'count-sockets': mapping({
    'count-sockets': mapping({ host: hostRef('the host whose socket table is read; default: the only host').optional(), proto: oneOf(['tcp', 'udp']), port: port(), state }),
  }),
  command: mapping({
    command: mapping({
      host: hostRef('the host it runs on; default: the only host').optional(),
      run: commandLine(),
      match: regex().describe('the answer is its first group (or the whole match); default: the trimmed output').optional(),
    }),
  }),
};

const answer = z.union(Object.values(answerKinds) as unknown as [z.ZodType, ...z.ZodType[]], {
  error: () => `must be one of ${Object.keys(answerKinds).map((k) => `{ ${k}: ... }`).join(', ')}`,
});

/** One question of the lab file. */
export const questionSchema = mapping({
  id: text({ re: ITEM_ID, why: 'must be a short id: lowercase letters, digits and -, e.g. client-port' }),
  text: text().describe('the question; ${var}s are filled'),
  answer: answer.describe('where the right answer comes from in this run'),
  hint: text().describe('what to look at, shown with a wrong answer'),
  points: z.number().int().min(0).max(100).describe('points for a right answer; default 1').optional(),
});

type EventAnswer = { service: string; event: string; where?: Record<string, string | number | boolean>; field: string; pick?: 'first' | 'last'; part?: 'address' | 'port' };
export type AnswerSpec =
  | { value: string }
  | { event: EventAnswer }
  | { 'count-events': { service: string; event: string; where?: Record<string, string | number | boolean> } }
  | { 'count-sockets': { host?: string; proto: 'tcp' | 'udp'; port: number | string; state: string } }
  | { command: { host?: string; run: string; match?: string } };

export interface QuestionSpec {
  id: string;
  text: string;
  answer: AnswerSpec;
  hint: string;
  points?: number | undefined;
}

export const questionPoints = (q: Pick<QuestionSpec, 'points'>): number => q.points ?? 1;

/** The right answer of one question in this run, or why the run has none. */
export interface Expected {
  id: string;
  text: string;
  value?: string;
  missing?: string;
}

function matching(recs: LogRecord[], a: { event: string; where?: Record<string, string | number | boolean> }, ctx: CheckContext): LogRecord[] {
  const w = Object.entries(a.where ?? {}).map(([k, v]) => [k, typeof v === 'string' ? fill(v, ctx.scope, `where.${k}`) : v] as const);
  return recs.filter((r) => r.event === a.event && w.every(([k, v]) => fieldMatches(r[k], v)));
}

function partOf(value: string, part: 'address' | 'port' | undefined): string {
  if (!part) return value;
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(value);
  if (!m) return value;
  return part === 'port' ? m[2]! : m[1]!;
}

/** Computes one answer from the run (logs, sockets, commands). */
export async function expectedAnswer(a: AnswerSpec, ctx: CheckContext, defaultHost: string): Promise<{ value?: string; missing?: string }> {
  if ('value' in a) return { value: fill(a.value, ctx.scope, 'answer.value') };
  if ('event' in a) {
    const e = a.event;
    const recs = ctx.logRecords(e.service);
    if (!recs) return { missing: `no log of service ${e.service} in this run` };
    const hits = matching(recs, e, ctx).filter((r) => r[e.field] !== undefined && r[e.field] !== null);
    const r = e.pick === 'last' ? hits[hits.length - 1] : hits[0];
    if (!r) return { missing: `${e.service} logged no ${e.event} with ${e.field} in this run` };
    const v = r[e.field];
    return { value: partOf(typeof v === 'object' ? JSON.stringify(v) : String(v), e.part) };
  }
  if ('count-events' in a) {
    const e = a['count-events'];
    const recs = ctx.logRecords(e.service);
    if (!recs) return { missing: `no log of service ${e.service} in this run` };
    return { value: String(matching(recs, e, ctx).length) };
  }
  if ('count-sockets' in a) {
    const c = a['count-sockets'];
    const p = fillInt(c.port, ctx.scope, 'answer.count-sockets.port')!;
    const st = normState(c.state);
    const rows = (await ctx.sockets(c.host ?? defaultHost, { [c.proto]: true, all: true, port: p }))
      .filter((r) => normState(r.state) === st && (r.local.port === p || r.remote.port === p));
    return { value: String(rows.length) };
  }
  const c = a.command;
  const r = await ctx.exec(c.host ?? defaultHost, fill(c.run, ctx.scope, 'answer.command.run'), 30_000);
  if (!c.match) return r.stdout.trim() ? { value: r.stdout.trim() } : { missing: `"${c.run}" printed nothing` };
  const m = new RegExp(fill(c.match, ctx.scope, 'answer.command.match'), 'm').exec(r.stdout);
  return m ? { value: (m[1] ?? m[0]).trim() } : { missing: `the output of "${c.run}" does not match /${c.match}/` };
}

/** Every question's right answer in this run. */
export async function expectedAnswers(questions: QuestionSpec[], ctx: CheckContext, defaultHost: string): Promise<Expected[]> {
  const out: Expected[] = [];
  for (const q of questions) {
    const base = { id: q.id, text: fillSoft(q.text, ctx.scope) };
    try {
      out.push({ ...base, ...(await expectedAnswer(q.answer, ctx, defaultHost)) });
    } catch (err) {
      out.push({ ...base, missing: (err as Error).message });
    }
  }
  return out;
}

/**
 * One spelling for comparing answers: trimmed, lowercase, no quotes, no trailing dot of a DNS
 * name, no prefix length (10.0.7.100/24 is 10.0.7.100), no brackets around an IPv6 address,
 * no leading zeros in a number.
 */
export function normaliseAnswer(s: string): string {
  let v = s.trim().toLowerCase().replace(/^["'](.*)["']$/, '$1').trim();
  v = v.replace(/\s+/g, ' ');
  if (/^[0-9a-f.:]+\/\d{1,3}$/.test(v)) v = v.replace(/\/\d{1,3}$/, '');
  v = v.replace(/^\[([0-9a-f:.]+)\]$/, '$1');
  if (/^\d+$/.test(v)) v = String(Number(v));
  if (v.length > 1 && v.endsWith('.') && /[a-z]/.test(v)) v = v.slice(0, -1);
  return v;
}

export const sameAnswer = (given: string, expected: string): boolean => normaliseAnswer(given) === normaliseAnswer(expected);

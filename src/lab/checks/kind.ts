/**
 * What a check kind is: its fields (a zod schema, which is also its part of labs/lab.schema.json),
 * how it reads in the course's words, and how it is evaluated. One file per kind under checks/,
 * listed once in checks/index.ts.
 */
import * as z from 'zod';
import type { SocketRecord, ListSocketsOptions } from '../../netstat/types.js';
import type { EphemeralRange } from '../../ports/registry.js';
import type { TemplateScope } from '../template.js';
import type { HostExecResult as ExecResult } from '../../hosts/backend.js';
import { hostRef, mapping, text } from '../fields.js';

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

/** A check's outcome before it is named: passed or not, and what was actually seen. */
export interface Verdict {
  passed: boolean;
  detail: string;
}

/** Fields every check has, before its kind's own. */
const baseFields = {
  name: text().describe("what this check means, in the course's words; generated when omitted").optional(),
  hint: text().describe('what to look at when the check fails'),
  host: hostRef('the host the check looks at; default: the only host').optional(),
  points: z.number({ error: 'must be a whole number of points from 0 to 100' }).int().min(0).max(100).describe('points when it passes (grading); default 1').optional(),
};

/** Defines a check kind; `fields` are its own fields, `refine` checks that need several of them. */
export function defineCheck<const K extends string, F extends z.ZodRawShape>(def: {
  kind: K;
  /** one line for the JSON Schema: what this kind checks */
  about: string;
  fields: F;
  refine?: (c: z.output<z.ZodObject<F>>, ctx: z.RefinementCtx) => void;
}) {
  const schema = mapping({ kind: z.literal(def.kind), ...baseFields, ...def.fields }).describe(def.about);
  return def.refine ? schema.superRefine((c, ctx) => def.refine!(c as z.output<z.ZodObject<F>>, ctx)) : schema;
}

/** A check kind: its schema, its description in words, its evaluation. */
export interface CheckKind<S extends z.ZodType> {
  schema: S;
  describe(c: z.output<S>, scope: TemplateScope): string;
  evaluate(c: z.output<S>, ctx: CheckContext, host: string): Promise<Verdict>;
}

type Counts = { count?: number | string; min?: number | string; max?: number | string };
type FilledCounts = { count?: number; min?: number; max?: number };

export function countWord(c: FilledCounts): string {
  if (c.count !== undefined) return `exactly ${c.count}`;
  if (c.min !== undefined && c.max !== undefined) return `${c.min} to ${c.max}`;
  if (c.min !== undefined) return `at least ${c.min}`;
  if (c.max !== undefined) return `at most ${c.max}`;
  return 'at least 1';
}

export function countOk(n: number, c: FilledCounts): boolean {
  if (c.count !== undefined) return n === c.count;
  if (c.min === undefined && c.max === undefined) return n >= 1;
  return (c.min === undefined || n >= c.min) && (c.max === undefined || n <= c.max);
}

/** count/min/max with their `${var}`s filled. */
export function fillCounts(c: Counts, fillInt: (v: number | string | undefined, field: string) => number | undefined): FilledCounts {
  return { count: fillInt(c.count, 'count'), min: fillInt(c.min, 'min'), max: fillInt(c.max, 'max') };
}

/** ss and netstat spell states differently; compare them in one spelling. */
export function normState(s: string): string {
  const u = s.toUpperCase().replace(/_/g, '-');
  if (u === 'ESTAB') return 'ESTABLISHED';
  if (u === 'UNCONN' || u === 'CLOSE' || u === '') return 'UNCONN';
  return u;
}

/** A row as a socket pair, client first: the end on the server port goes on the right. */
export function pairText(s: SocketRecord, serverPort: number): string {
  const e = (x: { address: string; port: number }) => (x.address.includes(':') ? `[${x.address}]:${x.port}` : `${x.address}:${x.port}`);
  return s.local.port === serverPort ? `${e(s.remote)} <-> ${e(s.local)}` : `${e(s.local)} <-> ${e(s.remote)}`;
}

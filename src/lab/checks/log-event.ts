/** Log records of a service with `event` and fields matching `where` (value or /regex/). */
import * as z from 'zod';
import { count, describeValue, dictionary, serviceRef, text } from '../fields.js';
import { fill, fillInt } from '../template.js';
import { countOk, countWord, defineCheck, fillCounts, type CheckKind } from './kind.js';

const isRegex = (v: string): boolean => v.length >= 2 && v.startsWith('/') && v.endsWith('/');

const whereValue = z
  .union([z.string(), z.number(), z.boolean()], { error: (iss) => `must be a value or a /regex/, got ${describeValue(iss.input)}` })
  .superRefine((v, ctx) => {
    if (typeof v !== 'string' || !isRegex(v)) return;
    try {
      new RegExp(v.slice(1, -1));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is not a valid regular expression: ${(err as Error).message}`, input: v });
    }
  });

const schema = defineCheck({
  kind: 'log-event',
  about: "a service logged records of an event whose fields match 'where'",
  fields: {
    service: serviceRef('the service whose JSON log is read'),
    event: text().describe('the event field of the records, e.g. tcp.accept'),
    where: dictionary(z.string(), whereValue).describe('fields the record must have: a value, or a /regex/; ${var}s are filled').optional(),
    count: count(),
    min: count(),
    max: count(),
  },
});

/** `where` values: a literal (string/number/boolean compared as text) or a /regex/. */
export function fieldMatches(actual: unknown, want: string | number | boolean): boolean {
  if (actual === undefined || actual === null) return false;
  const a = typeof actual === 'object' ? JSON.stringify(actual) : String(actual);
  if (typeof want === 'string' && isRegex(want)) return new RegExp(want.slice(1, -1)).test(a);
  return a === String(want);
}

export const logEvent: CheckKind<typeof schema> = {
  schema,
  describe(c, scope) {
    const where = Object.entries(c.where ?? {}).map(([k, v]) => `${k}=${fill(String(v), scope, `where.${k}`)}`);
    return `${c.service} logged ${countWord(fillCounts(c, (v, f) => fillInt(v, scope, f)))} ${c.event}${where.length ? ` with ${where.join(', ')}` : ''}`;
  },
  async evaluate(c, ctx) {
    const recs = ctx.logRecords(c.service);
    if (!recs) return { passed: false, detail: `no log of service ${c.service}` };
    const where = Object.entries(c.where ?? {}).map(([k, v]) => [k, typeof v === 'string' ? fill(v, ctx.scope, `where.${k}`) : v] as const);
    const ofEvent = recs.filter((r) => r.event === c.event);
    const hits = ofEvent.filter((r) => where.every(([k, v]) => fieldMatches(r[k], v)));
    let detail = `${hits.length} matching of ${ofEvent.length} ${c.event} records`;
    if (hits.length === 0 && ofEvent.length > 0) {
      const r = ofEvent[ofEvent.length - 1]!;
      detail += `; last one: ${where.map(([k]) => `${k}=${JSON.stringify(r[k])}`).join(', ') || r.pair}`;
    }
    if (ofEvent.length === 0) {
      const events = [...new Set(recs.map((r) => r.event).filter(Boolean))];
      detail += ` (events logged: ${events.join(', ') || 'none'})`;
    }
    return { passed: countOk(hits.length, fillCounts(c, (v, f) => fillInt(v, ctx.scope, f))), detail };
  },
};

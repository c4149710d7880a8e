/** Every client source port a service logged lies in the client host's ephemeral range. */
import { count, hostRef, serviceRef, text } from '../fields.js';
import { fillInt } from '../template.js';
import { defineCheck, type CheckKind, type LogRecord } from './kind.js';

const schema = defineCheck({
  kind: 'ephemeral-source',
  about: "every client source port a service logged lies in the client host's ephemeral range",
  fields: {
    service: serviceRef('the service whose log holds the connections'),
    event: text().describe('the log event that carries the pair; default tcp.accept').optional(),
    client: hostRef("the host whose ephemeral range applies (the client's); default: the check's host").optional(),
    min: count(),
  },
});

/** The client's endpoint of a record's pair (`client:port <-> server:port`). */
export function clientPort(rec: LogRecord): number | undefined {
  const pair = typeof rec.pair === 'string' ? rec.pair : undefined;
  const m = pair ? /:(\d+) <-> /.exec(pair) : undefined;
  return m ? Number(m[1]) : undefined;
}

export const ephemeralSource: CheckKind<typeof schema> = {
  schema,
  describe: (c) => `client source ports seen by ${c.service} are in ${c.client ?? c.host ?? 'the client'}'s ephemeral range`,
  async evaluate(c, ctx, host) {
    const recs = ctx.logRecords(c.service);
    if (!recs) return { passed: false, detail: `no log of service ${c.service}` };
    const event = c.event ?? 'tcp.accept';
    const ports = recs.filter((r) => r.event === event).map(clientPort).filter((p): p is number => p !== undefined);
    const range = await ctx.ephemeralRange(c.client ?? host);
    if (!range) return { passed: false, detail: `cannot read the ephemeral range of host ${c.client ?? host}` };
    const min = fillInt(c.min, ctx.scope, 'min') ?? 1;
    const outside = ports.filter((p) => p < range.first || p > range.last);
    const shown = [...new Set(ports)].slice(0, 8).join(', ');
    if (ports.length < min) return { passed: false, detail: `${ports.length} ${event} records with a client port (need ${min}); range ${range.first}-${range.last}` };
    return {
      passed: outside.length === 0,
      detail: outside.length === 0 ? `source ports ${shown} all in ${range.first}-${range.last}` : `source ports outside ${range.first}-${range.last}: ${[...new Set(outside)].join(', ')}`,
    };
  },
};

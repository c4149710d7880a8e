/** Sockets in a state on a port, e.g. TIME-WAIT left behind by the active closer. */
import * as z from 'zod';
import { parseStateArg, SOCKET_STATES } from '../../netstat/states.js';
import { count, oneOf, port, serviceRef, text } from '../fields.js';
import { fillInt } from '../template.js';
import { countOk, countWord, defineCheck, fillCounts, normState, pairText, type CheckKind } from './kind.js';

// a misspelt state (ESTABLISH, FIN_WAIT1 read as FIN-WAIT1) matched no row: "count: 0" passed on anything
const state = text()
  .describe(`a socket state: ${SOCKET_STATES.join(', ')} (ss and netstat spellings like ESTAB or TIME_WAIT work too)`)
  .transform((s, ctx) => {
    try {
      return parseStateArg(s);
    } catch (err) {
      ctx.issues.push({ code: 'custom', message: (err as Error).message, input: s });
      return z.NEVER;
    }
  });

const schema = defineCheck({
  kind: 'sockets',
  about: 'how many sockets are in a state on a port (either end), e.g. TIME-WAIT left by the active closer',
  fields: {
    proto: oneOf(['tcp', 'udp']), port: port(), state, count: count(), min: count(), max: count(),
    'this-run': serviceRef("only count this run's connections: pairs whose client port this service logged (stale rows from earlier runs do not count)").optional(),
  },
});

/** The client ports of the connections a service logged (the `from` end of its records' pairs). */
export function loggedClientPorts(recs: { pair?: string }[]): Set<number> {
  const ports = new Set<number>();
  for (const r of recs) {
    const m = typeof r.pair === 'string' ? /:(\d+) <-> /.exec(r.pair) : null;
    if (m) ports.add(Number(m[1]));
  }
  return ports;
}

export const sockets: CheckKind<typeof schema> = {
  schema,
  describe(c, scope) {
    const fill = (v: number | string | undefined, f: string) => fillInt(v, scope, f);
    return `${countWord(fillCounts(c, fill))} ${c.proto} sockets in ${normState(c.state)} on port ${fill(c.port, 'port')}${c['this-run'] ? ` (connections ${c['this-run']} logged in this run)` : ''}`;
  },
  async evaluate(c, ctx, host) {
    const fill = (v: number | string | undefined, f: string) => fillInt(v, ctx.scope, f);
    const port = fill(c.port, 'port')!;
    const st = normState(c.state);
    let rows = (await ctx.sockets(host, { [c.proto]: true, all: true, port })).filter((r) => normState(r.state) === st && (r.local.port === port || r.remote.port === port));
    let stale = 0;
    if (c['this-run']) {
      const ours = loggedClientPorts(ctx.logRecords(c['this-run']) ?? []);
      const mine = rows.filter((r) => ours.has(r.local.port === port ? r.remote.port : r.local.port));
      stale = rows.length - mine.length;
      rows = mine;
    }
    const note = stale ? ` (${stale} more from other runs not counted)` : '';
    return { passed: countOk(rows.length, fillCounts(c, fill)), detail: `${rows.length} in ${st}${rows.length ? `: ${rows.slice(0, 6).map((r) => pairText(r, port)).join(', ')}${rows.length > 6 ? ' ...' : ''}` : ''}${note}` };
  },
};

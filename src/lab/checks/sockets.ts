/** Sockets in a state on a port, e.g. TIME-WAIT left behind by the active closer. */
import * as z from 'zod';
import { parseStateArg, SOCKET_STATES } from '../../netstat/states.js';
import { count, oneOf, port, text } from '../fields.js';
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
  fields: { proto: oneOf(['tcp', 'udp']), port: port(), state, count: count(), min: count(), max: count() },
});

export const sockets: CheckKind<typeof schema> = {
  schema,
  describe(c, scope) {
    const fill = (v: number | string | undefined, f: string) => fillInt(v, scope, f);
    return `${countWord(fillCounts(c, fill))} ${c.proto} sockets in ${normState(c.state)} on port ${fill(c.port, 'port')}`;
  },
  async evaluate(c, ctx, host) {
    const fill = (v: number | string | undefined, f: string) => fillInt(v, ctx.scope, f);
    const port = fill(c.port, 'port')!;
    const st = normState(c.state);
    const rows = (await ctx.sockets(host, { [c.proto]: true, all: true, port })).filter((r) => normState(r.state) === st && (r.local.port === port || r.remote.port === port));
    return { passed: countOk(rows.length, fillCounts(c, fill)), detail: `${rows.length} in ${st}${rows.length ? `: ${rows.slice(0, 6).map((r) => pairText(r, port)).join(', ')}${rows.length > 6 ? ' ...' : ''}` : ''}` };
  },
};

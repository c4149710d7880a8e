/** "3 ESTABLISHED pairs share server port 7007" */
import { count, port } from '../fields.js';
import { fillInt } from '../template.js';
import { countOk, countWord, defineCheck, fillCounts, normState, pairText, type CheckKind } from './kind.js';

const schema = defineCheck({
  kind: 'established-pairs',
  about: 'ESTABLISHED connections whose server end is on a port (each one a socket pair)',
  fields: { port: port(), count: count(), min: count() },
  refine(c, ctx) {
    if (c.count === undefined && c.min === undefined) ctx.addIssue({ code: 'custom', message: 'established-pairs needs count or min', input: c });
  },
});

export const establishedPairs: CheckKind<typeof schema> = {
  schema,
  describe(c, scope) {
    const fill = (v: number | string | undefined, f: string) => fillInt(v, scope, f);
    return `${countWord(fillCounts(c, fill))} ESTABLISHED pairs share server port ${fill(c.port, 'port')}`;
  },
  async evaluate(c, ctx, host) {
    const fill = (v: number | string | undefined, f: string) => fillInt(v, ctx.scope, f);
    const port = fill(c.port, 'port')!;
    const rows = (await ctx.sockets(host, { tcp: true, port })).filter((r) => normState(r.state) === 'ESTABLISHED' && r.local.port === port);
    return { passed: countOk(rows.length, fillCounts(c, fill)), detail: `${rows.length} ESTABLISHED on server port ${port}${rows.length ? `: ${rows.map((r) => pairText(r, port)).join(', ')}` : ''}` };
  },
};

/** "tcp/7007 is LISTEN, held by socketlab-echo" (or: nothing listens there). */
import { bool, oneOf, port, text } from '../fields.js';
import { fillInt } from '../template.js';
import { defineCheck, normState, type CheckKind } from './kind.js';

const schema = defineCheck({
  kind: 'listening',
  about: 'a port is listening (tcp LISTEN, udp bound), optionally held by a named process; or nothing listens there',
  fields: {
    proto: oneOf(['tcp', 'udp']),
    port: port(),
    process: text().describe('the process that holds the port, as ss shows it (e.g. socketlab-echo)').optional(),
    absent: bool().describe('true: assert that nothing listens there').optional(),
  },
});

/** Process names in the socket table are truncated to 15 characters by the kernel (comm). */
function processMatches(name: string, want: string): boolean {
  return name === want || (name.length >= 15 && want.startsWith(name));
}

export const listening: CheckKind<typeof schema> = {
  schema,
  describe(c, scope) {
    const port = fillInt(c.port, scope, 'port');
    if (c.absent) return `nothing listens on ${c.proto}/${port}`;
    return `${c.proto}/${port} is ${c.proto === 'tcp' ? 'LISTEN' : 'bound (UNCONN)'}${c.process ? `, held by ${c.process}` : ''}`;
  },
  async evaluate(c, ctx, host) {
    const port = fillInt(c.port, ctx.scope, 'port')!;
    const rows = (await ctx.sockets(host, { [c.proto]: true, listening: true, processes: true, port }))
      .filter((r) => r.local.port === port && r.proto.startsWith(c.proto) && (c.proto === 'udp' || normState(r.state) === 'LISTEN'));
    const holders = [...new Set(rows.flatMap((r) => (r.process ?? []).map((p) => p.name)))];
    const held = c.process ? rows.filter((r) => (r.process ?? []).some((p) => processMatches(p.name, c.process!))) : rows;
    const seen = rows.length === 0 ? `nothing listens on ${c.proto}/${port}` : `${c.proto}/${port} held by ${holders.join(', ') || '(process unknown)'} on ${[...new Set(rows.map((r) => r.local.address))].join(', ')}`;
    if (c.absent) return { passed: rows.length === 0, detail: seen };
    return { passed: held.length > 0, detail: seen };
  },
};

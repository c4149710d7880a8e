/** A command's exit code and output. */
import { commandLine, exitCode, regex } from '../fields.js';
import { fill } from '../template.js';
import { defineCheck, type CheckKind } from './kind.js';

const schema = defineCheck({
  kind: 'command',
  about: "a command's exit code and what it prints",
  fields: {
    run: commandLine().describe('a command line; a leading socketlab runs this package\'s CLI'),
    exit: exitCode().describe('expected exit code; default 0').optional(),
    'stdout-matches': regex().describe('a regex its stdout must match (m flag)').optional(),
    'stdout-not-matches': regex().describe('a regex its stdout must not match (m flag)').optional(),
  },
});

export const command: CheckKind<typeof schema> = {
  schema,
  describe(c, scope) {
    const parts = [`exits ${c.exit ?? 0}`];
    if (c['stdout-matches']) parts.push(`prints /${fill(c['stdout-matches'], scope, 'stdout-matches')}/`);
    if (c['stdout-not-matches']) parts.push(`does not print /${fill(c['stdout-not-matches'], scope, 'stdout-not-matches')}/`);
    return `"${fill(c.run, scope, 'run')}" ${parts.join(' and ')}`;
  },
  async evaluate(c, ctx, host) {
    const s = ctx.scope;
    const r = await ctx.exec(host, fill(c.run, s, 'run'), 30_000);
    const problems: string[] = [];
    const exit = c.exit ?? 0;
    if (r.timedOut) problems.push('timed out');
    if (r.code !== exit) problems.push(`exited ${r.code}, expected ${exit}`);
    // messages show the filled patterns: a learner never reads a literal ${...}
    const want = c['stdout-matches'] && fill(c['stdout-matches'], s, 'stdout-matches');
    const unwanted = c['stdout-not-matches'] && fill(c['stdout-not-matches'], s, 'stdout-not-matches');
    if (want && !new RegExp(want, 'm').test(r.stdout)) problems.push(`stdout does not match /${want}/`);
    if (unwanted && new RegExp(unwanted, 'm').test(r.stdout)) problems.push(`stdout matches /${unwanted}/`);
    const matched = c['stdout-matches'] ? new RegExp(`^.*(?:${fill(c['stdout-matches'], s, 'stdout-matches')}).*$`, 'm').exec(r.stdout)?.[0] : undefined;
    const tail = matched?.trim() ?? (r.stdout.trim() || r.stderr.trim()).split('\n').slice(-3).join(' | ');
    return { passed: problems.length === 0, detail: problems.length ? `${problems.join('; ')}${tail ? ` — output: ${tail}` : ''}` : `exit ${r.code}${tail ? `: ${tail.slice(0, 200)}` : ''}` };
  },
};

/**
 * Running a lab's checks. Each kind lives in checks/<kind>.ts (its fields, its words, its
 * evaluation); this file picks the kind of a check and turns its verdict into a result.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { CHECK_KINDS, type CheckSpec } from './checks/index.js';
import type { CheckContext, CheckKind, LogRecord } from './checks/kind.js';
import { fill, fillSoft, type TemplateScope } from './template.js';
import { isLabError } from '../errors.js';

export type { CheckContext, LogRecord } from './checks/kind.js';
export { normState } from './checks/kind.js';
export { fieldMatches } from './checks/log-event.js';
export { clientPort } from './checks/ephemeral-source.js';
export { flagsKind, segmentKind } from './checks/capture.js';

export interface CheckResult {
  kind: string;
  /** the check in the course's words: "tcp/7007 is LISTEN, held by socketlab-echo" */
  name: string;
  passed: boolean;
  /** what was actually seen */
  detail: string;
  /** what to look at when it failed */
  hint: string;
  /** points earned (grading): the check's points when it passed, else 0 */
  points: number;
  maxPoints: number;
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

/** The definition of a check's kind; the kind tag says which schema shaped `c`. */
function kindOf(c: CheckSpec): CheckKind<z.ZodType<CheckSpec>> {
  return CHECK_KINDS.find((k) => k.schema.shape.kind.value === c.kind) as unknown as CheckKind<z.ZodType<CheckSpec>>;
}

/** The check in the course's words, with templates filled. */
export function describeCheck(c: CheckSpec, scope: TemplateScope): string {
  if (c.name) return fill(c.name, scope, 'name');
  return kindOf(c).describe(c, scope);
}

/** Runs one check. A check that cannot be evaluated (a tool missing) fails with the reason. */
export async function runCheck(c: CheckSpec, ctx: CheckContext, defaultHost: string): Promise<CheckResult> {
  const maxPoints = c.points ?? 1;
  const base = { kind: c.kind, hint: fillSoft(c.hint, ctx.scope), maxPoints };
  let name = c.kind as string;
  try {
    name = describeCheck(c, ctx.scope);
    const { passed, detail } = await kindOf(c).evaluate(c, ctx, c.host ?? defaultHost);
    return { ...base, name, passed, detail, points: passed ? maxPoints : 0 };
  } catch (err) {
    if (isLabError(err) && err.code === 'LAB_ERR_LAB_FILE') throw err;
    return { ...base, name, passed: false, detail: `could not evaluate: ${(err as Error).message}`, points: 0 };
  }
}

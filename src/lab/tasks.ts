/**
 * Tasks: what the student must do (start a server, fix a route), each proved by ordinary checks
 * that look at the kernel and the traffic — listening sockets, a real client's answer — never at
 * socketlab's own logs or process names, so a server in any language passes. A task may carry a
 * fault: `lab up NAME --break TASK` brings the lab up broken, and the task is to fix it.
 */
import * as z from 'zod';
import { commandLine, hostRef, list, mapping, text, varDictionary } from './fields.js';
import type { CheckSpec } from './checks/index.js';
import { runCheck, type CheckContext, type CheckResult } from './checks.js';
import { fillSoft } from './template.js';

export { fillSoft } from './template.js';
import { invalidArgument } from '../errors.js';

export const ITEM_ID = /^[a-z][a-z0-9-]{0,31}$/;
const points = () => z.number({ error: (iss) => `must be a whole number of points from 0 to 100, got ${JSON.stringify(iss.input)}` }).int().min(0).max(100);

/** The deliberate fault of a break/fix task: variable values at start-up, then commands on hosts. */
const fault = mapping({
  about: text().describe('what is broken, for the teacher (the student sees only the task)').optional(),
  vars: varDictionary().describe('variable values the broken lab starts with (e.g. a too narrow ACL)').optional(),
  run: list(mapping({ host: hostRef('the host the command runs on; default: the only host').optional(), run: commandLine() })).describe('commands run once the services are up (e.g. delete a route)').optional(),
});

/** One task, with its checks (any check kind) given as a factory so schema.ts keeps one check union. */
export function taskSchema<C extends z.ZodType>(check: C) {
  return mapping({
    id: text({ re: ITEM_ID, why: 'must be a short id: lowercase letters, digits and -, e.g. own-echo' }),
    title: text().describe("what to do, in the course's words; ${var}s are filled"),
    points: points().describe('points for the task when all its checks pass; default 2').optional(),
    nudge: text().describe('the first hint, printed by lab check while the task is not done'),
    command: text().describe('the exact command(s), shown by "socketlab lab hint NAME TASK"'),
    fault: fault.describe('a deliberate fault (break/fix): applied with lab run/up --break TASK').optional(),
    checks: list(check, { required: true }).min(1, { error: 'a task needs at least one check' }),
  });
}

export interface TaskSpec {
  id: string;
  title: string;
  points?: number | undefined;
  nudge: string;
  command: string;
  fault?: { about?: string | undefined; vars?: Record<string, string> | undefined; run?: { host?: string | undefined; run: string }[] | undefined } | undefined;
  checks: CheckSpec[];
}

export interface TaskResult {
  id: string;
  title: string;
  done: boolean;
  points: number;
  maxPoints: number;
  nudge: string;
  checks: CheckResult[];
}

export const taskPoints = (t: Pick<TaskSpec, 'points'>): number => t.points ?? 2;

/** Runs each task's checks; a task is done when all of them pass. */
export async function runTasks(tasks: TaskSpec[], ctx: CheckContext, defaultHost: string): Promise<TaskResult[]> {
  const out: TaskResult[] = [];
  for (const t of tasks) {
    const checks: CheckResult[] = [];
    for (const c of t.checks) checks.push(await runCheck(c, ctx, defaultHost));
    const done = checks.every((c) => c.passed);
    out.push({ id: t.id, title: fillSoft(t.title, ctx.scope), done, points: done ? taskPoints(t) : 0, maxPoints: taskPoints(t), nudge: fillSoft(t.nudge, ctx.scope), checks });
  }
  return out;
}

/** The task a --break names, or an error listing the tasks that have a fault. */
export function faultTask(tasks: TaskSpec[], id: string): TaskSpec & { fault: NonNullable<TaskSpec['fault']> } {
  const t = tasks.find((x) => x.id === id);
  if (t?.fault) return t as TaskSpec & { fault: NonNullable<TaskSpec['fault']> };
  const withFault = tasks.filter((x) => x.fault).map((x) => x.id);
  throw invalidArgument(`--break ${id}: ${t ? 'that task has no fault' : 'no such task'}; tasks with a fault: ${withFault.join(', ') || 'none'}`);
}

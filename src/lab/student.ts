/**
 * The student's side of a lab run, kept as JSON in the run dir beside state.json so that other
 * invocations (lab check, answer, hint, status) find it, also after the lab is down:
 *   last-run.json   what the run was: its scope (${echo.port} ...), its service logs, student, seed, fault
 *   questions.json  the right answers of this run, computed when its steps were done
 *   answers.json    what the student answered, and whether it was right
 *   hints.json      which tasks' exact commands the student asked for
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import { bold, dim, green, red, yellow } from '../format.js';
import type { LabRun, RunOutput } from './runner.js';
import type { LabSpec } from './schema.js';
import { runDirFor } from './state.js';
import type { TemplateScope } from './template.js';
import { faultTask, runTasks, type TaskResult } from './tasks.js';
import { expectedAnswers, questionPoints, type Expected } from './questions.js';
import { variantOf, variantVars, type Variant } from './variants.js';
import type { LabReport, QuestionResult } from './output.js';

export interface StudentFlags {
  seed?: string;
  student?: string;
  break?: string;
  var?: Record<string, string>;
}

export interface LastRun {
  lab: string;
  runDir: string;
  startedAt: string;
  scope: TemplateScope;
  logs: Record<string, string>;
  student?: string;
  seed?: number;
  break?: string;
}

export interface Answer {
  given: string;
  correct: boolean;
  attempts: number;
  at: string;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export const lastRunOf = (lab: string): LastRun | undefined => readJson<LastRun>(join(runDirFor(lab), 'last-run.json'));
export const expectedOf = (lab: string): Expected[] | undefined => readJson<Expected[]>(join(runDirFor(lab), 'questions.json'));
export const answersOf = (lab: string): Record<string, Answer> => readJson<Record<string, Answer>>(join(runDirFor(lab), 'answers.json')) ?? {};
export const hintsOf = (lab: string): Record<string, number> => readJson<Record<string, number>>(join(runDirFor(lab), 'hints.json')) ?? {};

export function recordAnswer(lab: string, id: string, given: string, correct: boolean): Answer {
  const all = answersOf(lab);
  const a: Answer = { given, correct, attempts: (all[id]?.attempts ?? 0) + 1, at: new Date().toISOString() };
  writeJson(join(runDirFor(lab), 'answers.json'), { ...all, [id]: a });
  return a;
}

export function recordHint(lab: string, task: string): void {
  const all = hintsOf(lab);
  writeJson(join(runDirFor(lab), 'hints.json'), { ...all, [task]: (all[task] ?? 0) + 1 });
}

/** The variables a run starts with: the lab's, the variant's (seed), the fault's (--break), then --var. */
export function studentVars(spec: LabSpec, flags: StudentFlags): { vars: Record<string, string>; variant?: Variant } {
  const variant = variantOf(flags);
  const fault = flags.break ? faultTask(spec.tasks, flags.break).fault : undefined;
  const vars = { ...(variant ? variantVars(spec.variants, variant.seed, spec.vars) : {}), ...fault?.vars, ...flags.var };
  return { vars, ...(variant && { variant }) };
}

/** The flags `lab up` passes on to its supervisor (`lab hold`). */
export function studentArgs(flags: StudentFlags): string[] {
  return [
    ...(flags.seed !== undefined ? ['--seed', flags.seed] : []),
    ...(flags.student !== undefined ? ['--student', flags.student] : []),
    ...(flags.break !== undefined ? ['--break', flags.break] : []),
  ];
}

/**
 * Once the services are up: breaks the lab if --break asked (the fault's commands), and writes
 * last-run.json (scope, logs, student, seed) for later invocations.
 */
export async function afterUp(run: LabRun, flags: StudentFlags, out: RunOutput): Promise<void> {
  const variant = variantOf(flags);
  if (flags.break) {
    const t = faultTask(run.spec.tasks, flags.break);
    for (const [i, f] of (t.fault.run ?? []).entries()) {
      const host = f.host ?? run.spec.hosts[0]!.name;
      const r = await run.execLine(host, f.run, `tasks[${t.id}].fault.run[${i}]`, 30_000);
      if (r.code !== 0) throw new LabError('LAB_ERR_LAB_RUN', `--break ${t.id}: "${f.run}" on ${host} failed (exit ${r.code}): ${r.stderr.trim()}`);
    }
    out.line(yellow(`this lab was brought up broken on purpose (task ${t.id}): find and fix the fault; "socketlab lab check ${run.spec.name}" says when it works`));
  }
  const logs: Record<string, string> = {};
  for (const p of run.state.processes) if (p.kind === 'service' && p.logFile) logs[p.name] = p.logFile;
  const last: LastRun = {
    lab: run.spec.name, runDir: run.state.runDir, startedAt: run.state.startedAt, scope: run.scope, logs,
    ...(variant?.student !== undefined && { student: variant.student }),
    ...(variant && { seed: variant.seed }),
    ...(flags.break && { break: flags.break }),
  };
  writeJson(join(run.state.runDir, 'last-run.json'), last);
}

/** After the steps: this run's right answers, kept for `lab answer`. */
export async function recordQuestions(run: LabRun): Promise<Expected[]> {
  const expected = await expectedAnswers(run.spec.questions, run.context(), run.spec.hosts[0]!.name);
  if (run.state.runDir) writeJson(join(run.state.runDir, 'questions.json'), expected);
  return expected;
}

/** The questions as a report shows them: answered or not, right or not, points. */
export function questionResults(spec: LabSpec, expected: Expected[] | undefined): QuestionResult[] {
  const answers = answersOf(spec.name);
  return spec.questions.map((q) => {
    const a = answers[q.id];
    const text = expected?.find((e) => e.id === q.id)?.text ?? q.text;
    const correct = a?.correct === true;
    return { id: q.id, text, answered: a !== undefined, correct, points: correct ? questionPoints(q) : 0, maxPoints: questionPoints(q) };
  });
}

/** The tasks, done or not, each undone one with its nudge (the first, gentle hint). */
export function formatTasks(lab: string, tasks: TaskResult[]): string {
  if (tasks.length === 0) return '';
  const lines = [bold('tasks')];
  for (const t of tasks) {
    lines.push(`${t.done ? green('DONE') : red('TODO')}  ${t.id}: ${t.title}`);
    for (const c of t.checks) lines.push(`      ${c.passed ? green('ok') : red('no')}  ${c.name} ${dim(`(${c.detail})`)}`);
    if (!t.done) lines.push(`      ${yellow('nudge:')} ${t.nudge}  ${dim(`(the exact command: socketlab lab hint ${lab} ${t.id})`)}`);
  }
  const done = tasks.filter((t) => t.done).length;
  lines.push('', done === tasks.length ? green(bold(`all ${tasks.length} tasks done`)) : yellow(bold(`${done} of ${tasks.length} tasks done`)));
  return lines.join('\n');
}

/** Runs the lab's tasks against what runs now. */
export const runLabTasks = (run: LabRun): Promise<TaskResult[]> => runTasks(run.spec.tasks, run.context(), run.spec.hosts[0]!.name);

/**
 * Adds the student's work to a report: tasks (run now), questions (answered so far), student,
 * seed, score. With `tasksCount`, an undone task fails the report (lab check); lab run only shows them.
 */
export async function addStudentWork(run: LabRun, report: LabReport, opts: { out?: RunOutput; tasksCount: boolean; expected?: Expected[]; tasks?: TaskResult[] }): Promise<void> {
  const spec = run.spec;
  const last = lastRunOf(spec.name);
  if (last?.student !== undefined) report.student = last.student;
  if (last?.seed !== undefined) report.seed = last.seed;
  if (last?.break !== undefined) report.break = last.break;
  const tasks = opts.tasks ?? (await runLabTasks(run));
  if (spec.tasks.length) report.tasks = tasks;
  if (spec.questions.length) report.questions = questionResults(spec, opts.expected ?? expectedOf(spec.name));
  const items = [...report.checks, ...tasks, ...(report.questions ?? [])];
  report.score = { points: items.reduce((n, x) => n + x.points, 0), maxPoints: items.reduce((n, x) => n + x.maxPoints, 0) };
  if (opts.tasksCount && report.exitCode === 0 && tasks.some((t) => !t.done)) {
    report.exitCode = 1;
    report.passed = false;
  }
  if (opts.out && tasks.length) opts.out.line(`\n${formatTasks(spec.name, tasks)}`);
  if (opts.out && spec.questions.length) {
    const open = (report.questions ?? []).filter((q) => !q.correct);
    opts.out.line(dim(`\nquestions (${spec.questions.length - open.length} of ${spec.questions.length} answered right): socketlab lab status ${spec.name}; answer with socketlab lab answer ${spec.name} QUESTION "VALUE"`));
  }
}

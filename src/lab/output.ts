import { bold, dim, green, red, yellow } from '../format.js';
import type { CheckResult } from './checks.js';
import type { StepResult } from './runner.js';
import type { NotesCorrection } from './notes.js';
import type { TaskResult } from './tasks.js';

/** A question in a report: whether this run's student answered it, and right. */
export interface QuestionResult {
  id: string;
  text: string;
  answered: boolean;
  correct: boolean;
  points: number;
  maxPoints: number;
}

/** Everything a lab run produced, as `--json` prints it. */
export interface LabReport {
  lab: string;
  title: string;
  topic: string;
  /** 0 all checks pass, 1 a check (or step) failed, 2 the lab could not run */
  exitCode: 0 | 1 | 2;
  passed: boolean;
  error?: string;
  steps: Omit<StepResult, 'stdout' | 'stderr'>[];
  checks: CheckResult[];
  /** Where the course notes differ from what the lab shows (the README's box), if it has one. */
  notesDiffer?: NotesCorrection[];
  startedAt: string;
  durationMs: number;
  /** With --json: the packets (with their layers), TCP states and lease marks the run observed. */
  events?: unknown[];
  /** grading: who ran it (--student), the variant's seed (--seed), the fault it was brought up with (--break) */
  student?: string;
  seed?: number;
  break?: string;
  tasks?: TaskResult[];
  questions?: QuestionResult[];
  /** points earned and possible over checks, tasks and questions */
  score?: { points: number; maxPoints: number };
}

export function exitCodeOf(checks: CheckResult[], steps: StepResult[]): 0 | 1 {
  return checks.every((c) => c.passed) && steps.every((s) => s.ok) ? 0 : 1;
}

/** One line per check, and the hint under each failed one. */
export function formatChecks(checks: CheckResult[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.passed ? green('PASS') : red('FAIL')}  ${c.name}`);
    lines.push(`      ${dim(c.detail)}`);
    if (!c.passed) lines.push(`      ${yellow('hint:')} ${c.hint}`);
  }
  const failed = checks.filter((c) => !c.passed).length;
  lines.push('');
  lines.push(failed === 0 ? green(bold(`all ${checks.length} checks passed`)) : red(bold(`${failed} of ${checks.length} checks failed`)));
  return lines.join('\n');
}

/** Printed before a step runs, so a long step is never silent. */
export function stepHeader(name: string, host: string, command: string, i: number, background: boolean): string {
  return `${bold(`step ${i + 1}: ${name}`)}${dim(` (on ${host})`)}\n  $ ${command}${background ? dim('   [keeps running]') : ''}`;
}

/** A finished step as the learner reads it: its output, and what to look for. */
export function formatStep(s: StepResult, _i: number): string {
  const lines: string[] = [];
  const body = s.stdout.trimEnd();
  if (body) lines.push(...body.split('\n').slice(0, 60).map((l) => `  | ${l}`));
  if (!s.ok) {
    lines.push(red(`  step failed${s.code !== null ? ` (exit ${s.code})` : ''}`));
    const err = s.stderr.trim();
    if (err) lines.push(...err.split('\n').slice(-5).map((l) => `  ! ${l}`));
  }
  if (s.show) lines.push(`  ${yellow('look for:')} ${s.show}`);
  return lines.join('\n').replace(/\n*$/, '');
}

const xmlEscape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
    // characters XML 1.0 does not allow at all (terminal escapes in tool output)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');

/** JUnit XML: one testsuite per lab, one testcase per check (and per failed step), for CI and grading. */
export function toJunit(reports: LabReport[]): string {
  const suites = reports.map((r) => {
    const cases: string[] = [];
    for (const s of r.steps.filter((x) => !x.ok)) {
      cases.push(`    <testcase classname="${xmlEscape(r.lab)}.steps" name="${xmlEscape(`step: ${s.name}`)}">\n      <failure message="${xmlEscape(`step exited ${s.code}`)}">${xmlEscape(s.command)}</failure>\n    </testcase>`);
    }
    if (r.error) {
      cases.push(`    <testcase classname="${xmlEscape(r.lab)}" name="lab could be run">\n      <error message="${xmlEscape(r.error)}">${xmlEscape(r.error)}</error>\n    </testcase>`);
    }
    // points ride in each testcase's properties, so a CI grader can add them up
    const item = (cls: string, name: string, points: number, maxPoints: number, failure?: { message: string; type: string; body: string }, skipped?: string): string => {
      const props = `\n      <properties><property name="points" value="${points}"/><property name="maxPoints" value="${maxPoints}"/></properties>`;
      const body = skipped ? `\n      <skipped message="${xmlEscape(skipped)}"/>` : failure ? `\n      <failure message="${xmlEscape(failure.message)}" type="${xmlEscape(failure.type)}">${xmlEscape(failure.body)}</failure>` : '';
      return `    <testcase classname="${xmlEscape(cls)}" name="${xmlEscape(name)}">${props}${body}\n    </testcase>`;
    };
    for (const c of r.checks) cases.push(item(r.lab, c.name, c.points, c.maxPoints, c.passed ? undefined : { message: c.detail, type: c.kind, body: `${c.detail}\nhint: ${c.hint}` }));
    // the student's work not done yet is skipped (0 points), not a failure of the lab; a wrong answer fails
    for (const t of r.tasks ?? []) cases.push(item(`${r.lab}.tasks`, `task ${t.id}: ${t.title}`, t.points, t.maxPoints, undefined, t.done ? undefined : `not done; nudge: ${t.nudge}`));
    for (const q of r.questions ?? []) cases.push(item(`${r.lab}.questions`, `question ${q.id}: ${q.text}`, q.points, q.maxPoints, q.answered && !q.correct ? { message: 'wrong answer', type: 'question', body: q.text } : undefined, q.answered ? undefined : 'not answered'));
    const skipped = (r.tasks ?? []).filter((t) => !t.done).length + (r.questions ?? []).filter((q) => !q.answered).length;
    const failures = r.checks.filter((c) => !c.passed).length + r.steps.filter((s) => !s.ok).length + (r.questions ?? []).filter((q) => q.answered && !q.correct).length;
    const tests = r.checks.length + r.steps.filter((s) => !s.ok).length + (r.error ? 1 : 0) + (r.tasks ?? []).length + (r.questions ?? []).length;
    const props = [['student', r.student], ['seed', r.seed], ['break', r.break], ['points', r.score?.points], ['maxPoints', r.score?.maxPoints]]
      .filter(([, v]) => v !== undefined).map(([k, v]) => `      <property name="${k}" value="${xmlEscape(String(v))}"/>`);
    const head = props.length ? `    <properties>\n${props.join('\n')}\n    </properties>\n` : '';
    return `  <testsuite name="${xmlEscape(r.lab)}" tests="${tests}" failures="${failures}" errors="${r.error ? 1 : 0}"${skipped ? ` skipped="${skipped}"` : ''} time="${(r.durationMs / 1000).toFixed(3)}" timestamp="${r.startedAt.slice(0, 19)}">\n${head}${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="socketlab">\n${suites.join('\n')}\n</testsuites>\n`;
}

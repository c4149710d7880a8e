/**
 * The student's verbs: `lab answer`, `lab hint`, `lab status`, and the teacher's `lab grade`.
 * Flags to calls only; the work is in student.ts, questions.ts, tasks.ts and grade.ts.
 */
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { LabError, invalidArgument } from '../errors.js';
import { bold, dim, green, print, printJson, red, table, yellow } from '../format.js';
import { resolveLab } from './loader.js';
import { LabRun } from './runner.js';
import { readState } from './state.js';
import { staticScope } from './docker.js';
import type { LabSpec } from './schema.js';
import { exitCodeOf, type LabReport } from './output.js';
import { sameAnswer } from './questions.js';
import { fillSoft } from './tasks.js';
import { addStudentWork, answersOf, expectedOf, formatTasks, hintsOf, lastRunOf, recordAnswer, recordHint, recordQuestions } from './student.js';
import { parseSeed } from './variants.js';
import { gradeCsv, gradePercent, gradeReports, isLabReport } from './grade.js';

/** `--seed`, `--student`, `--break` for lab run / up / hold. */
export function addStudentOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--seed <n>', "this student's variant: ports, names, MACs follow the seed (see the lab's variants)").argParser((v) => (parseSeed(v), v)))
    .option('--student <id>', 'a student id, hashed to the seed; recorded in --json / --junit for lab grade')
    .option('--break <task>', "bring the lab up with a task's deliberate fault (break/fix)");
}

/**
 * A lab that is not up: checked against what runs now, with the scope and logs of its last run
 * (so `lab check` after `lab run` knows ${echo.port}), else the ports its services would use.
 */
export function detachedRun(spec: LabSpec, logs: Record<string, string>, vars: Record<string, string> = {}): LabRun {
  const last = lastRunOf(spec.name);
  const planned: Record<string, string> = {};
  try {
    for (const [k, v] of Object.entries(staticScope(spec))) if (/\.(port|address|transport)$/.test(k)) planned[k] = v;
  } catch {
    // a service's flags that only the run can fill
  }
  const fromLast = Object.fromEntries(Object.entries(last?.scope ?? {}).filter(([k]) => k !== 'run_dir' && k !== 'lab_dir'));
  return LabRun.detached(spec, { ...last?.logs, ...logs }, { ...planned, ...fromLast, ...vars });
}

/** The lab running now (attached), or its last run (detached); namespace labs must be up. */
function currentRun(spec: LabSpec): LabRun {
  const attached = LabRun.attach(spec);
  if (attached) return attached;
  if (spec.hosts.some((h) => h.kind === 'netns') && !lastRunOf(spec.name)) {
    throw new LabError('LAB_ERR_LAB_RUN', `lab ${spec.name} is not up: run "sudo socketlab lab up ${spec.name}" first`);
  }
  return detachedRun(spec, {});
}

function questionIds(spec: LabSpec): string {
  return spec.questions.map((q) => q.id).join(', ') || 'none';
}

/** Registers `lab answer`, `lab hint`, `lab status` and `lab grade` on the lab command. */
export function registerStudentCommands(lab: Command): void {
  lab
    .command('answer')
    .description("answer one of a lab's questions about the last run; says right or wrong (with a hint) and records it")
    .argument('<name>', 'lab name, number or path to a lab.yaml')
    .argument('<question>', 'the question id (socketlab lab status NAME lists them)')
    .argument('<value>', 'your answer, e.g. 54012 or 10.0.2.100')
    .option('--json', 'print the verdict as JSON')
    .action(async (name: string, id: string, value: string, opts: { json?: boolean }) => {
      const spec = resolveLab(name);
      const q = spec.questions.find((x) => x.id === id);
      if (!q) throw invalidArgument(`lab ${spec.name} has no question "${id}" (questions: ${questionIds(spec)})`);
      if (!value.trim()) throw invalidArgument(`the answer to "${id}" is empty; give a value, e.g. socketlab lab answer ${spec.name} ${id} "..."`);
      if (value.length > 500 || /[\u0000-\u0008\u000b-\u001f]/.test(value)) throw invalidArgument(`the answer to "${id}" must be one line of at most 500 characters`);
      let expected = expectedOf(spec.name);
      if (!expected && readState(spec.name)) expected = await recordQuestions(LabRun.attach(spec)!);
      if (!expected) throw new LabError('LAB_ERR_LAB_RUN', `there is no run of lab ${spec.name} to answer about: run "socketlab lab run ${spec.name}" (or lab up) first; the answers come from that run`);
      const e = expected.find((x) => x.id === id);
      if (e?.value === undefined) throw new LabError('LAB_ERR_LAB_RUN', `this run of lab ${spec.name} has no answer to "${id}": ${e?.missing ?? 'the question is newer than the run'}; run the lab again`);
      const correct = sameAnswer(value, e.value);
      const a = recordAnswer(spec.name, id, value.trim(), correct);
      if (opts.json) printJson({ lab: spec.name, question: id, text: e.text, given: a.given, correct, attempts: a.attempts });
      else if (correct) print(`${green('right')}: ${e.text} ${dim(`(${a.given})`)}`);
      else print(`${red('wrong')}: ${e.text} ${dim(`(you said ${a.given}; attempt ${a.attempts})`)}\n${yellow('hint:')} ${fillSoft(q.hint, lastRunOf(spec.name)?.scope ?? {})}`);
      process.exitCode = correct ? 0 : 1;
    });

  lab
    .command('hint')
    .description('the exact command for a task (lab check gives the first nudge)')
    .argument('<name>', 'lab name, number or path to a lab.yaml')
    .argument('<task>', 'the task id')
    .action((name: string, id: string) => {
      const spec = resolveLab(name);
      const t = spec.tasks.find((x) => x.id === id);
      if (!t) throw invalidArgument(`lab ${spec.name} has no task "${id}" (tasks: ${spec.tasks.map((x) => x.id).join(', ') || 'none'})`);
      const scope = LabRun.attach(spec)?.scope ?? lastRunOf(spec.name)?.scope ?? staticScopeSafe(spec);
      print(bold(`${t.id}: ${fillSoft(t.title, scope)}`));
      print(`${yellow('nudge:')} ${fillSoft(t.nudge, scope)}`);
      print(`${yellow('do this:')}\n${fillSoft(t.command, scope).trimEnd().split('\n').map((l) => `  ${l}`).join('\n')}`);
      print(dim(`then: socketlab lab check ${spec.name}`));
      if (readState(spec.name) || lastRunOf(spec.name)) recordHint(spec.name, t.id);
    });

  lab
    .command('status')
    .description('tasks done, questions answered, score of the current (or last) run')
    .argument('<name>', 'lab name, number or path to a lab.yaml')
    .option('--json', 'print the result (as lab check --json, for lab grade)')
    .action(async (name: string, opts: { json?: boolean }) => {
      const spec = resolveLab(name);
      const run = currentRun(spec);
      const started = Date.now();
      const checks = await run.check();
      const report: LabReport = { lab: spec.name, title: spec.title, topic: spec.topic, exitCode: exitCodeOf(checks, []), passed: false, steps: [], checks, startedAt: new Date(started).toISOString(), durationMs: 0 };
      await addStudentWork(run, report, { tasksCount: true });
      report.passed = report.exitCode === 0;
      report.durationMs = Date.now() - started;
      if (opts.json) return printJson(report);
      const hints = hintsOf(spec.name);
      const answers = answersOf(spec.name);
      print(bold(`lab ${spec.name}${report.student ? `, student ${report.student}` : ''}${report.seed !== undefined ? `, seed ${report.seed}` : ''}`));
      print(`checks: ${checks.filter((c) => c.passed).length} of ${checks.length} pass`);
      if (report.tasks?.length) print(`\n${formatTasks(spec.name, report.tasks)}${Object.keys(hints).length ? dim(`\n(exact commands asked for: ${Object.keys(hints).join(', ')})`) : ''}`);
      if (report.questions?.length) {
        print(`\n${bold('questions')}`);
        print(table(report.questions, [
          { header: 'ID', get: (q) => q.id },
          { header: 'ANSWER', get: (q) => (q.correct ? 'right' : q.answered ? `wrong (${answers[q.id]?.given ?? ''})` : '-') },
          { header: 'QUESTION', get: (q) => q.text },
        ]));
      }
      print(`\nscore: ${report.score!.points} of ${report.score!.maxPoints} points`);
    });

  lab
    .command('grade')
    .description("a class CSV from many students' results (the --json of lab run / check / status), one row per student")
    .argument('<dir>', 'directory of result files (*.json)')
    .option('--csv <file>', 'where to write the CSV; default: DIR/grades.csv')
    .option('--json', 'print the rows as JSON')
    .action((dir: string, opts: { csv?: string; json?: boolean }) => {
      let names: string[];
      try {
        names = readdirSync(dir).filter((f) => f.endsWith('.json') && statSync(join(dir, f)).isFile()).sort();
      } catch (err) {
        throw invalidArgument(`lab grade ${dir}: cannot read the directory: ${(err as Error).message}`);
      }
      const results = [];
      for (const f of names) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(readFileSync(join(dir, f), 'utf8'));
        } catch (err) {
          process.stderr.write(`socketlab: ${join(dir, f)}: skipped, not JSON (${(err as Error).message})\n`);
          continue;
        }
        const reports = Array.isArray(parsed) ? parsed : [parsed];
        for (const r of reports) {
          if (isLabReport(r)) results.push({ file: f, report: r });
          else process.stderr.write(`socketlab: ${join(dir, f)}: skipped, not a lab result (lab run/check --json)\n`);
        }
      }
      if (results.length === 0) throw invalidArgument(`lab grade ${dir}: no lab results (*.json from lab run/check/status --json) in it`);
      const { rows, labs } = gradeReports(results);
      const csv = opts.csv ?? join(dir, 'grades.csv');
      writeFileSync(csv, gradeCsv(rows, labs));
      if (opts.json) return printJson(rows);
      print(table(rows, [
        { header: 'STUDENT', get: (r) => r.student },
        { header: 'SEED', get: (r) => r.seeds },
        ...labs.map((l) => ({ header: l.toUpperCase(), get: (r: (typeof rows)[number]) => (l in r.labs ? String(r.labs[l]) : '-') })),
        { header: 'CHECKS', get: (r) => `${r.checks[0]}/${r.checks[1]}` },
        { header: 'TASKS', get: (r) => `${r.tasks[0]}/${r.tasks[1]}` },
        { header: 'QUESTIONS', get: (r) => `${r.questions[0]}/${r.questions[1]}` },
        { header: 'POINTS', get: (r) => `${r.points}/${r.maxPoints}` },
        { header: '%', get: (r) => gradePercent(r) },
      ]));
      const mean = rows.reduce((n, r) => n + Number(gradePercent(r)), 0) / rows.length;
      print(dim(`\n${rows.length} students, mean ${mean.toFixed(1)} %; CSV written to ${csv}`));
    });
}

function staticScopeSafe(spec: LabSpec): Record<string, string> {
  try {
    return staticScope(spec);
  } catch {
    return { ...spec.vars };
  }
}

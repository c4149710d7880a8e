/**
 * Grading a class: the `--json` results of many students' lab runs/checks (one file each) become
 * one CSV row per student, with points per lab and the total. Pure: files in, rows and text out.
 */
import { basename } from 'node:path';
import type { LabReport } from './output.js';

export interface GradeRow {
  student: string;
  seeds: string;
  labs: Record<string, number>;
  checks: [passed: number, total: number];
  tasks: [done: number, total: number];
  questions: [right: number, total: number];
  points: number;
  maxPoints: number;
  files: string[];
}

/** Points of a report: its score, or (older results without one) one point per passed check. */
function scoreOf(r: LabReport): { points: number; maxPoints: number } {
  if (r.score) return r.score;
  return { points: r.checks.filter((c) => c.passed).length, maxPoints: r.checks.length };
}

/** Is this parsed JSON a lab result (what `lab run/check --json` prints)? */
export function isLabReport(x: unknown): x is LabReport {
  const o = x as Partial<LabReport> | null;
  return typeof o === 'object' && o !== null && typeof o.lab === 'string' && Array.isArray(o.checks);
}

/**
 * One row per student (the report's student, else the file name). A student with several results
 * for one lab keeps the latest.
 */
export function gradeReports(results: { file: string; report: LabReport }[]): { rows: GradeRow[]; labs: string[] } {
  const latest = new Map<string, { file: string; report: LabReport }>();
  for (const x of results) {
    const student = x.report.student ?? basename(x.file).replace(/\.json$/, '');
    const key = `${student}\u0000${x.report.lab}`;
    const prev = latest.get(key);
    if (!prev || prev.report.startedAt < x.report.startedAt) latest.set(key, x);
  }
  const rows = new Map<string, GradeRow>();
  for (const [key, { file, report: r }] of latest) {
    const student = key.split('\u0000')[0]!;
    const row = rows.get(student) ?? { student, seeds: '', labs: {}, checks: [0, 0], tasks: [0, 0], questions: [0, 0], points: 0, maxPoints: 0, files: [] };
    const s = scoreOf(r);
    row.labs[r.lab] = s.points;
    row.checks = [row.checks[0] + r.checks.filter((c) => c.passed).length, row.checks[1] + r.checks.length];
    row.tasks = [row.tasks[0] + (r.tasks ?? []).filter((t) => t.done).length, row.tasks[1] + (r.tasks ?? []).length];
    row.questions = [row.questions[0] + (r.questions ?? []).filter((q) => q.correct).length, row.questions[1] + (r.questions ?? []).length];
    row.points += s.points;
    row.maxPoints += s.maxPoints;
    if (r.seed !== undefined) row.seeds = [row.seeds, String(r.seed)].filter(Boolean).join(' ');
    row.files.push(basename(file));
    rows.set(student, row);
  }
  const labs = [...new Set([...latest.values()].map((x) => x.report.lab))].sort();
  return { rows: [...rows.values()].sort((a, b) => a.student.localeCompare(b.student)), labs };
}

const csvCell = (v: string | number): string => {
  const s = String(v);
  // quote when needed; a leading = + - @ would be a formula in a spreadsheet
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) || safe !== s ? `"${safe.replace(/"/g, '""')}"` : safe;
};

const percent = (r: GradeRow): string => (r.maxPoints ? ((100 * r.points) / r.maxPoints).toFixed(1) : '0.0');

/** The class CSV: one row per student. */
export function gradeCsv(rows: GradeRow[], labs: string[]): string {
  const header = ['student', 'seed', ...labs, 'checks_passed', 'checks_total', 'tasks_done', 'tasks_total', 'questions_right', 'questions_total', 'points', 'max_points', 'percent'];
  const lines = [header.join(',')];
  for (const r of rows) {
    lines.push([r.student, r.seeds, ...labs.map((l) => (l in r.labs ? r.labs[l]! : '')), ...r.checks, ...r.tasks, ...r.questions, r.points, r.maxPoints, percent(r)].map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

export { percent as gradePercent };

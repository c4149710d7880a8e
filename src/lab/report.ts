import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LabEvent } from '../observe/events.js';
import { renderPage } from '../view/live/page.js';
import type { LabReport } from './output.js';
import type { LabSpec } from './schema.js';

/** The verdict line the page shows for a finished run. */
export function verdictOf(report: LabReport): { verdict: string; passed: boolean } {
  const failed = report.checks.filter((c) => !c.passed).length;
  const verdict = report.error ? `could not run: ${report.error}` : failed === 0 ? `all ${report.checks.length} checks passed` : `${failed} of ${report.checks.length} checks failed`;
  return { verdict, passed: !report.error && failed === 0 && report.steps.every((s) => s.ok) };
}

/**
 * The report: the live page with the run's events embedded (one code path for both). A run that
 * could not start still gets a page saying why.
 */
export function renderReport(spec: LabSpec, report: LabReport, events: LabEvent[] = []): string {
  const all = [...events];
  if (!all.some((e) => e.kind === 'run' && e.phase === 'start')) all.unshift({ kind: 'run', phase: 'start', seq: -2, t: Date.parse(report.startedAt), lab: spec.name, title: spec.title, topic: spec.topic, capture: 'logs' });
  if (!all.some((e) => e.kind === 'run' && e.phase === 'end')) {
    const checks = all.some((e) => e.kind === 'check') ? [] : report.checks.map((c, i): LabEvent => ({ kind: 'check', seq: -1, t: Date.parse(report.startedAt) + i, name: c.name, passed: c.passed, detail: c.detail, hint: c.hint }));
    all.push(...checks, { kind: 'run', phase: 'end', seq: all.length, t: Date.now(), ...verdictOf(report) });
  }
  return renderPage({ title: `${spec.name}: ${spec.title}`, events: all });
}

export function writeReport(file: string, spec: LabSpec, report: LabReport, events: LabEvent[] = []): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderReport(spec, report, events));
}

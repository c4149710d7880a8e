import type { LabRun } from './runner.js';
import type { LabReport } from './output.js';
import { writeFileSync } from 'node:fs';

/** Writes the HTML report (filled in by a later slice). */
export function writeReport(file: string, run: LabRun, report: LabReport): void {
  writeFileSync(file, `<!doctype html><title>${report.lab}</title><p>${run.spec.title}</p>`);
}

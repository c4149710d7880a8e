/** Output helpers shared by every command: aligned tables, JSON, colour only on a TTY. */
import { colourEnabled } from './colour.js';

export interface Column<T> {
  header: string;
  get: (row: T) => string | number | undefined;
  align?: 'left' | 'right';
}

/** An aligned text table a learner can read at a glance. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => String(c.get(r) ?? '')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]): string =>
    vals
      .map((v, i) => (columns[i]!.align === 'right' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

const useColour = (): boolean => colourEnabled(process.stdout);
const wrap = (code: number) => (s: string): string => (useColour() ? `\x1b[${code}m${s}\x1b[0m` : s);
export const bold = wrap(1);
export const dim = wrap(2);
export const green = wrap(32);
export const red = wrap(31);
export const yellow = wrap(33);
export const cyan = wrap(36);

/** Prints a value as one JSON document on stdout (the `--json` contract). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function print(text = ''): void {
  process.stdout.write(text + '\n');
}

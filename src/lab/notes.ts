import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bold, dim } from '../format.js';

/** One place where the course notes say one thing and the lab shows another. */
export interface NotesCorrection {
  /** What the notes say (quoted or paraphrased). */
  notes: string;
  /** What really happens, with the RFC or the lab step that shows it. */
  really: string;
}

export const NOTES_HEADING = '## The notes say / What really happens';

/**
 * The corrections box of a lab README: the section headed NOTES_HEADING, made of items
 * `- **The notes say:** ...` followed by `**What really happens:** ...` (continuation lines allowed).
 */
export function parseNotesCorrections(markdown: string): NotesCorrection[] {
  const start = markdown.indexOf(`${NOTES_HEADING}\n`);
  if (start < 0) return [];
  const rest = markdown.slice(start + NOTES_HEADING.length + 1);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  const out: NotesCorrection[] = [];
  for (const item of section.split(/^- /m).slice(1)) {
    const text = item.replace(/\s+/g, ' ').trim();
    const m = /^\*\*The notes say:\*\*\s*(.+?)\s*\*\*What really happens:\*\*\s*(.+)$/.exec(text);
    if (m) out.push({ notes: m[1]!, really: m[2]! });
  }
  return out;
}

/** The corrections of the lab in `dir` (empty when its README has none). */
export function labNotesCorrections(dir: string): NotesCorrection[] {
  const readme = join(dir, 'README.md');
  return existsSync(readme) ? parseNotesCorrections(readFileSync(readme, 'utf8')) : [];
}

/** The box `lab run` prints at the end, so the run never leaves the notes' version standing. */
export function formatNotesCorrections(items: NotesCorrection[], width = 100): string {
  const lines = [bold('The notes say / What really happens')];
  const wrap = (label: string, text: string): void => {
    let line = label;
    for (const word of text.replace(/\*\*|`/g, '').split(' ')) {
      if (line.length + word.length + 1 > width && line.trim() !== label.trim()) {
        lines.push(line);
        line = ' '.repeat(label.length);
      }
      line += (line.endsWith(' ') ? '' : ' ') + word;
    }
    lines.push(line);
  };
  for (const it of items) {
    wrap('  notes:  ', it.notes);
    wrap('  really: ', it.really);
    lines.push('');
  }
  lines.push(dim('  (from the lab README; each point is checked against the RFC and against what this lab showed)'));
  return lines.join('\n');
}

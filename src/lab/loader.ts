import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { LabError } from '../errors.js';
import { formatPath, validateLab, type LabSpec } from './schema.js';

/** The labs shipped with the package (labs/ next to dist/). SOCKETLAB_LABS_DIR overrides. */
export function labsDir(): string {
  return process.env.SOCKETLAB_LABS_DIR ?? fileURLToPath(new URL('../../labs', import.meta.url));
}

/** A path as a learner would type it: relative to the working directory when that is shorter. */
export function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && rel.length < file.length ? rel : file;
}

/** One problem in a lab file, and the line that reports it (`file: path: message (line N)`). */
export interface LabProblem {
  file: string;
  line?: number;
  /** the field at fault, `hosts[1].name`; absent when the file is not YAML at all */
  path?: string;
  message: string;
  text: string;
}

/**
 * Parses and validates one lab file (YAML or JSON) without throwing: the spec, or every problem
 * with the file, the field and its line.
 */
export function checkLabFile(file: string): { spec?: LabSpec; problems: LabProblem[] } {
  const name = shown(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const message = `cannot read the lab file: ${(err as Error).message}`;
    return { problems: [{ file: name, message, text: `${name}: ${message}` }] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
    const message = `not valid YAML: ${e.message.split('\n')[0]}`;
    return { problems: [{ file: name, line, message, text: `${name}:${line}: ${message}` }] };
  }
  const { spec, issues } = validateLab(doc.toJS(), file, dirname(file));
  if (spec) return { spec, problems: [] };
  const problems = issues.map((issue): LabProblem => {
    // point at the deepest node of the path that exists in the document
    let line: number | undefined;
    for (let n = issue.path.length; n >= 0 && line === undefined; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(issue.path.slice(0, n), true);
      if (isNode(node) && node.range) line = lineCounter.linePos(node.range[0]).line;
    }
    const path = formatPath(issue.path);
    return { file: name, line, path, message: issue.message, text: `${name}: ${path}: ${issue.message}${line ? ` (line ${line})` : ''}` };
  });
  // in the order of the file, so the first line is the first thing to fix
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { problems };
}

/**
 * Parses and validates one lab file (YAML or JSON). Errors name the file, the field and its line:
 * `labs/x/lab.yaml: hosts[1].name: must be a short lowercase name (line 12)`.
 */
export function loadLabFile(file: string): LabSpec {
  const { spec, problems } = checkLabFile(file);
  if (spec) return spec;
  const lines = problems.map((p) => p.text);
  throw new LabError('LAB_ERR_LAB_FILE', lines.join('\n'), problems[0]?.path === undefined ? undefined : { issues: lines });
}

/** A lab file named directly, or the lab.yaml / lab.json of a lab directory. */
export function labFileIn(path: string): string {
  if (!existsSync(path) || !statSync(path).isDirectory()) return path;
  return ['lab.yaml', 'lab.yml', 'lab.json'].map((f) => join(path, f)).find((f) => existsSync(f)) ?? join(path, 'lab.yaml');
}

export interface LabEntry {
  name: string;
  dir: string;
  file: string;
}

/** Every lab directory that holds a lab.yaml / lab.json, sorted by number. */
export function listLabFiles(dir = labsDir()): LabEntry[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => /^\d{2}-/.test(d) && statSync(join(dir, d)).isDirectory())
    .sort()
    .flatMap((d) => {
      const file = ['lab.yaml', 'lab.yml', 'lab.json'].map((f) => join(dir, d, f)).find((f) => existsSync(f));
      return file ? [{ name: d, dir: join(dir, d), file }] : [];
    });
}

/**
 * Finds a lab by its directory name (`02-socket-pairs`), its number (`2`, `02`), its name without
 * the number (`socket-pairs`), or a path to a lab file or directory (a learner's own lab).
 */
export function resolveLab(name: string, dir = labsDir()): LabSpec {
  const asPath = resolve(name);
  if ((name.includes('/') || name.endsWith('.yaml') || name.endsWith('.json')) && existsSync(asPath)) {
    if (statSync(asPath).isDirectory()) {
      const file = ['lab.yaml', 'lab.yml', 'lab.json'].map((f) => join(asPath, f)).find((f) => existsSync(f));
      if (!file) throw new LabError('LAB_ERR_LAB_FILE', `${name}: no lab.yaml in this directory`);
      return loadLabFile(file);
    }
    return loadLabFile(asPath);
  }
  const labs = listLabFiles(dir);
  const num = /^\d{1,2}$/.test(name) ? name.padStart(2, '0') : undefined;
  const hit = labs.find((l) => l.name === name || (num !== undefined && l.name.startsWith(`${num}-`)) || l.name.slice(3) === name);
  if (!hit) {
    const known = labs.map((l) => l.name).join(', ') || 'none';
    throw new LabError('LAB_ERR_LAB_FILE', `no lab named "${name}" in ${shown(dir)} (labs: ${known}); run "socketlab lab list"`);
  }
  const spec = loadLabFile(hit.file);
  if (spec.name !== basename(hit.dir)) {
    throw new LabError('LAB_ERR_LAB_FILE', `${shown(hit.file)}: name: "${spec.name}" differs from its directory "${basename(hit.dir)}"`);
  }
  return spec;
}

import { LabError } from '../errors.js';

/** Values a lab file can refer to as `${name}`: vars, `${echo.port}`, `${echo.address}`, `${run_dir}`. */
export type TemplateScope = Record<string, string>;

/** Replaces every `${name}`; an unknown name is a lab-file error that says what is known. */
export function fill(text: string, scope: TemplateScope, where: string): string {
  return text.replace(/\$\{([a-zA-Z0-9_.-]+)\}/g, (_m, name: string) => {
    const v = scope[name];
    if (v === undefined) {
      // the variable's name, never the literal placeholder: learners read this message
      throw new LabError('LAB_ERR_LAB_FILE', `${where}: variable "${name}" is not defined (known: ${Object.keys(scope).sort().join(', ')})`);
    }
    return v;
  });
}

/** A templated integer field: number as is, or `${...}` filled and parsed. */
export function fillInt(value: number | string | undefined, scope: TemplateScope, where: string): number | undefined {
  if (value === undefined || typeof value === 'number') return value;
  const s = fill(value, scope, where);
  const n = Number(s);
  if (!Number.isInteger(n)) throw new LabError('LAB_ERR_LAB_FILE', `${where}: "${s}" is not an integer`);
  return n;
}

/** A template filled where it can be: a text for people never shows a literal `${...}`. */
export function fillSoft(text: string, scope: TemplateScope): string {
  try {
    return fill(text, scope, 'text');
  } catch {
    return text.replace(/\$\{([a-zA-Z0-9_.-]+)\}/g, (_m, name: string) => scope[name] ?? `<${name}>`);
  }
}

import { LabError } from '../errors.js';
import { intToIp, parseCidr } from '../core/address.js';

/** Values a lab file can refer to as `${name}`: vars, `${echo.port}`, `${echo.address}`, `${run_dir}`. */
export type TemplateScope = Record<string, string>;

const PLACEHOLDER = /\$\{([a-zA-Z0-9_.-]+)\}/g;
const CIDR4 = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * What a name derived from a variable means: for a subnet value (`lan` = 10.0.7.0/24),
 * `${lan.N}` is its Nth address (10.0.7.N), `${lan.network}`, `${lan.prefix}`, `${lan.mask}`, and
 * `${lan.re}` a regex matching the start of its addresses by whole octets (`10\.0\.7\.`); for any
 * other value `${x.re}` is the value escaped for a regex (`10\.0\.6\.53`, `example\.com`).
 * So a lab whose subnet follows the seed keeps its router, range and checks consistent.
 */
function derived(base: string, part: string): string | undefined {
  if (!CIDR4.test(base)) return part === 're' ? escapeRe(base) : undefined;
  const c = parseCidr(base);
  if (/^\d+$/.test(part)) {
    const n = Number(part);
    return n <= c.broadcast - c.network ? intToIp(c.network + n) : undefined;
  }
  if (part === 'network') return intToIp(c.network);
  if (part === 'prefix') return String(c.prefix);
  if (part === 'mask') return intToIp(c.mask);
  if (part === 're') return intToIp(c.network).split('.').slice(0, Math.floor(c.prefix / 8)).map((o) => `${o}\\.`).join('');
  return undefined;
}

/** A name's value in the scope, or derived from a variable's (see derived()). */
export function lookup(scope: TemplateScope, name: string): string | undefined {
  const v = scope[name];
  if (v !== undefined) return v;
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const base = scope[name.slice(0, dot)];
  return base === undefined ? undefined : derived(base, name.slice(dot + 1));
}

/** Replaces every `${name}`; an unknown name is a lab-file error that says what is known. */
export function fill(text: string, scope: TemplateScope, where: string): string {
  return text.replace(PLACEHOLDER, (_m, name: string) => {
    const v = lookup(scope, name);
    if (v === undefined) {
      // the variable's name, never the literal placeholder: learners read this message
      throw new LabError('LAB_ERR_LAB_FILE', `${where}: variable "${name}" is not defined (known: ${Object.keys(scope).sort().join(', ') || 'none'})`);
    }
    return v;
  });
}

/** Fills only the names the scope knows; any other `${...}` (a shell's, a program's) is left as it is. */
export function fillKnown(text: string, scope: TemplateScope): string {
  return text.replace(PLACEHOLDER, (m, name: string) => lookup(scope, name) ?? m);
}

/**
 * Vars whose values refer to other vars (`gateway: ${lan.1}`, `acl: ${lan}`) filled, until none
 * changes; names only a run knows (`${echo.port}`) stay for the run to fill.
 */
export function bindVars(vars: Record<string, string>, extra: TemplateScope = {}): Record<string, string> {
  const out = { ...vars };
  for (let pass = 0; pass < 8; pass++) {
    let changed = false;
    for (const [k, v] of Object.entries(out)) {
      if (!v.includes('${')) continue;
      const filled = v.replace(PLACEHOLDER, (m, name: string) => {
        const x = lookup({ ...extra, ...out }, name);
        return x !== undefined && !x.includes('${') ? x : m;
      });
      if (filled !== v) {
        out[k] = filled;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return out;
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
  return text.replace(PLACEHOLDER, (_m, name: string) => lookup(scope, name) ?? `<${name}>`);
}

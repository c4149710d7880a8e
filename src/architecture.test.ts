import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));

/** Every non-test .ts file under src/DIR, as paths relative to src/. */
function sources(dir: string): string[] {
  return readdirSync(join(SRC, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

/** The relative imports of a file (`import ... from './x.js'`, `export ... from`), resolved to paths relative to src/. */
function importsOf(file: string): { names: string[]; from: string }[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const out: { names: string[]; from: string }[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.[^']+)'/gms)) {
    const names = [...(m[2] ?? '').matchAll(/\b([A-Za-z_$][\w$]*)\b(?!\s+as\b)/g)].map((n) => n[1]!).filter((n) => n !== 'type');
    out.push({ names: m[1] ? [] : names, from: relative(SRC, resolve(dirname(join(SRC, file)), m[3]!)).replace(/\.js$/, '.ts') });
  }
  return out;
}

// DESIGN.md: arrows point down the flow (hosts -> observe -> lab -> views)
describe('layers', () => {
  it('src/hosts imports nothing from lab/ or view/', () => {
    const up = sources('hosts').flatMap((f) => importsOf(f).filter((i) => /^(lab|view)\//.test(i.from)).map((i) => `${f} -> ${i.from}`));
    expect(up).toEqual([]);
  });
});

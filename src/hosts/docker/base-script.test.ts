import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAB_TOOLS, PACKAGE_ROOT } from './image.js';

// scripts/docker-base.sh keeps its own copy of LAB_TOOLS (it is plain sh): its package list and the
// programs it checks in an existing base must be the same, or an old base would be kept without a tool.
describe('scripts/docker-base.sh', () => {
  const script = readFileSync(join(PACKAGE_ROOT, 'scripts', 'docker-base.sh'), 'utf8');
  const value = (name: string): string[] => {
    const m = new RegExp(`^${name}=["']?([^"'\\n]*)`, 'm').exec(script);
    if (!m?.[1]) throw new Error(`no ${name}= in docker-base.sh`);
    return m[1].split(/[ ,]+/).filter(Boolean);
  };

  it('installs every package of LAB_TOOLS', () => {
    expect(value('TOOLS')).toEqual(expect.arrayContaining(Object.keys(LAB_TOOLS)));
  });

  it('checks an existing base for every program of LAB_TOOLS', () => {
    expect(value('PROGRAMS').sort()).toEqual(Object.values(LAB_TOOLS).sort());
  });
});

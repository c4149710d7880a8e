import { describe, expect, it } from 'vitest';
import { effectiveCaps, hasNetnsCaps, needsRootError } from './privileges.js';

const status = (capEff: string): string => `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;

describe('namespace privileges', () => {
  it('reads CapEff and needs both CAP_SYS_ADMIN (21) and CAP_NET_ADMIN (12)', () => {
    expect(effectiveCaps(status('000001ffffffffff'))).toBe(0x1ffffffffffn);
    expect(hasNetnsCaps(status('000001ffffffffff'))).toBe(true);
    expect(hasNetnsCaps(status('0000000000000000'))).toBe(false);
    expect(hasNetnsCaps(status((1n << 12n).toString(16).padStart(16, '0')))).toBe(false);
    expect(hasNetnsCaps(status((1n << 21n).toString(16).padStart(16, '0')))).toBe(false);
    expect(hasNetnsCaps(status(((1n << 21n) | (1n << 12n)).toString(16).padStart(16, '0')))).toBe(true);
    expect(hasNetnsCaps('no caps line')).toBe(false);
  });

  it('says it needs root, which capabilities, and what to run instead', () => {
    const err = needsRootError('building a lab topology');
    expect(err.code).toBe('LAB_ERR_NEEDS_ROOT');
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/building a lab topology needs root/);
    expect(err.message).toMatch(/CAP_SYS_ADMIN and CAP_NET_ADMIN/);
    expect(err.message).toMatch(/sudo socketlab/);
    expect(err.message).toMatch(/localhost variant/);
  });
});

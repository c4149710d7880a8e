import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawDhcpPacket } from 'dhcp/lib/protocol.js';
import { assertPatchedCodec, codecProblems } from './codec-selfcheck.js';
import { unpatchedDhcpCopy } from '../../test/helpers/unpatch.js';

const work = mkdtempSync(join(tmpdir(), 'sl-unpatched-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const dir = unpatchedDhcpCopy(work);
const unpatched = (createRequire(import.meta.url)(join(dir, 'lib', 'protocol.js')) as { parse(b: Buffer): RawDhcpPacket }).parse;

describe('DHCP codec self-check', () => {
  it('passes on the patched node-dhcp this package loads', () => {
    expect(codecProblems()).toEqual([]);
    expect(() => assertPatchedCodec()).not.toThrow();
  });

  it('the copy really is node-dhcp as published (the patch undone)', () => {
    expect(readFileSync(join(dir, 'lib', 'protocol.js'), 'utf8')).not.toContain('socketlab patch');
    expect(readFileSync(join(dir, 'lib', 'options.js'), 'utf8')).toMatch(/name: 'Client-Identifier',\n\s+type: 'ASCII'/);
  });

  it('rejects the unpatched codec, saying what it gets wrong', () => {
    const problems = codecProblems(unpatched);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/PAD option shifted the options|option 61/),
      'a message without the DHCP magic cookie was accepted',
    ]));
    let err: unknown;
    try {
      assertPatchedCodec(unpatched);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'LAB_ERR_DHCP_CODEC', exitCode: 1 });
    expect((err as Error).message).toMatch(/WITHOUT socketlab's patch \(patches\/dhcp\+0\.2\.20\.patch\).*nothing was started/);
  });
});

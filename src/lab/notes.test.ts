import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { formatNotesCorrections, labNotesCorrections, parseNotesCorrections } from './notes.js';

const labsDir = fileURLToPath(new URL('../../labs/', import.meta.url));

describe('notes corrections box', () => {
  it('parses items until the next heading, continuation lines included', () => {
    const md = `# Lab\n\n## The notes say / What really happens\n- **The notes say:** "A = B".\n  **What really happens:** A is not B\n  (RFC 1).\n- **The notes say:** x **What really happens:** y\n\n## Questions\n- **The notes say:** not this one **What really happens:** no\n`;
    expect(parseNotesCorrections(md)).toEqual([
      { notes: '"A = B".', really: 'A is not B (RFC 1).' },
      { notes: 'x', really: 'y' },
    ]);
    expect(parseNotesCorrections('# no box\n')).toEqual([]);
  });

  it('formats for the terminal without markdown', () => {
    const text = formatNotesCorrections([{ notes: '**bold** `code`', really: 'it is so' }]);
    expect(text).toContain('notes:  bold code');
    expect(text).toContain('really: it is so');
  });

  it('every shipped lab carries at least one correction, and the known mistakes are corrected where they are taught', () => {
    const labs = readdirSync(labsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(labs.length).toBeGreaterThanOrEqual(10);
    const all = new Map(labs.map((l) => [l, labNotesCorrections(join(labsDir, l))]));
    for (const [lab, items] of all) expect(items.length, lab).toBeGreaterThan(0);
    const text = (lab: string): string => all.get(lab)!.map((i) => `${i.notes} ${i.really}`).join('\n');
    for (const lab of ['10-slaac', '11-dhcpv6']) for (const fact of [/DHCPv6 = SLAAC/, /RFC 4862/, /RFC 8415/, /port 546/, /on 547/, /M flag/, /O flag/]) expect(text(lab), lab).toMatch(fact);
    expect(text('06-dns')).toMatch(/NOTIFY[\s\S]*UDP[\s\S]*RFC 7766[\s\S]*EDNS[\s\S]*853/);
    expect(text('03-handshake')).toMatch(/[Gg]uaranteed[\s\S]*retransmi[\s\S]*accept\(\)/);
    expect(text('03-handshake')).toMatch(/4 minutes/);
    expect(text('04-udp-vs-tcp')).toMatch(/ESTAB/);
    expect(text('07-dhcp')).toMatch(/unicast[\s\S]*broadcast flag[\s\S]*87\.5/);
    expect(text('01-ports')).toMatch(/DHCP 67\/68 and TFTP 69 as TCP[\s\S]*UDP only/);
    expect(text('02-socket-pairs')).toMatch(/-p[\s\S]*Windows/);
    expect(text('09-ephemeral-exhaustion')).toMatch(/60 s[\s\S]*4 minutes/);
    expect(text('12-web')).toMatch(/443[\s\S]*TLS[\s\S]*UDP[\s\S]*port 53[\s\S]*32768-60999[\s\S]*49152-65535/);
    expect(text('13-l2-l3')).toMatch(/Layer 2 and Layer 3[\s\S]*this hop[\s\S]*next hop[\s\S]*TTL[\s\S]*NAT/);
  });
});

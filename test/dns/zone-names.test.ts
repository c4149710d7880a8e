// ISC dig against `socketlab dns serve` with a zone as BIND users write it: escaped and UTF-8 owner
// names, mixed case, a DNAME, an RFC 3597 generic record, a stray out-of-zone line, $INCLUDE.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithPeers } from '../helpers/peers.js';
import { dig, startDns, tempDir, type DnsProcess } from './helpers.js';

const ZONE = `$ORIGIN t.test.
$TTL 300
@ SOA ns h 1 3600 900 604800 60
@ NS ns
ns A 192.0.2.1
MiXeD A 192.0.2.2
\\065bc A 192.0.2.3
semi\\;colon A 192.0.2.4
bücher A 192.0.2.6
1.2.0.192.in-addr.arpa. PTR ns.t.test.
$INCLUDE inc/more.zone
`;
const MORE = `old DNAME new.t.test.
x.new A 192.0.2.11
gen TYPE65534 \\# 4 01020304
`;

describeWithPeers('dns serve: names and types as BIND loads them, checked with dig', ['dig'], () => {
  const dir = tempDir();
  let srv: DnsProcess;
  beforeAll(async () => {
    mkdirSync(join(dir.path, 'inc'));
    writeFileSync(join(dir.path, 'inc', 'more.zone'), MORE);
    writeFileSync(join(dir.path, 't.zone'), ZONE);
    srv = await startDns(['--zone', join(dir.path, 't.zone')], dir.path);
  });
  afterAll(async () => {
    await srv?.stop();
    dir[Symbol.dispose]();
  });

  it.each([
    ['mixed.t.test', /^MiXeD\.t\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.2$/m],
    ['abc.t.test', /^Abc\.t\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.3$/m],
    ['semi\\;colon.t.test', /^semi\\;colon\.t\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.4$/m],
    ['b\\195\\188cher.t.test', /^b\\195\\188cher\.t\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.6$/m],
  ])('answers %s with the zone\'s spelling and case', async (name, line) => {
    const out = await dig(srv.port, [name, 'A']);
    expect(out).toMatch(/status: NOERROR/);
    expect(out).toMatch(line);
  });

  it('synthesises a CNAME from a DNAME (RFC 6672) and serves a TYPE65534 generic record', async () => {
    const d = await dig(srv.port, ['x.old.t.test', 'A']);
    expect(d).toMatch(/^old\.t\.test\.\s+300\s+IN\s+DNAME\s+new\.t\.test\.$/m);
    expect(d).toMatch(/^x\.old\.t\.test\.\s+300\s+IN\s+CNAME\s+x\.new\.t\.test\.$/m);
    expect(d).toMatch(/^x\.new\.t\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.11$/m);
    const g = await dig(srv.port, ['gen.t.test', 'TYPE65534']);
    expect(g).toMatch(/^gen\.t\.test\.\s+300\s+IN\s+TYPE65534\s+\\# 4 01020304$/m);
  });

  it('AXFR keeps the case, and the out-of-zone line was ignored with a file:line warning', async () => {
    const out = await dig(srv.port, ['+tcp', 't.test', 'AXFR']);
    expect(out).toMatch(/^MiXeD\.t\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.2$/m);
    expect(out).not.toMatch(/in-addr\.arpa/);
    await srv.stop(); // the log is complete once the process has exited
    const warn = srv.records().find((r) => r.level === 40 && String(r.msg).includes('outside the zone'));
    expect(warn).toMatchObject({ line: 10, msg: expect.stringMatching(/t\.zone:10: 1\.2\.0\.192\.in-addr\.arpa is outside the zone t\.test; record ignored/) });
  });
});

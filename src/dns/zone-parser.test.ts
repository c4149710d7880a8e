import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from '../errors.js';
import { TYPES, type SoaData } from './codec.js';
import { loadZoneFile, parseTtl, parseZone, parseZoneText } from './zone-parser.js';

const get = (z: ReturnType<typeof parseZone>, name: string, type: number) => z.nodes.get(name)?.get(type) ?? [];

/** Asserts the parse fails with exactly this `file:line: message` prefix. */
function fails(text: string, expected: RegExp): LabError {
  try {
    parseZone(text, { file: 'db.test' });
  } catch (err) {
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('LAB_ERR_ZONE_FILE');
    expect((err as LabError).message).toMatch(expected);
    return err as LabError;
  }
  throw new Error('expected the zone to be rejected');
}

describe('zone parser: real-world snippets', () => {
  it('parses the BIND ARM style zone ($ORIGIN, $TTL, @, multi-line SOA, omitted owners)', () => {
    // after the BIND 9 ARM's example.com zone
    const z = parseZone(
      `$ORIGIN example.com.
$TTL 2d                ; default TTL for zone
@         IN      SOA   ns1.example.com. hostmaster.example.com. (
                        2003080800 ; sn = serial number
                        12h        ; refresh
                        15m        ; retry = refresh retry
                        3w         ; expiry
                        2h         ; nx = nxdomain ttl
                        )
          IN      NS     ns1.example.com.
          IN      MX     10 mail.example.net.
joe       IN      CNAME  www.example.com.
www       IN      A      192.168.0.2
          IN      A      192.168.0.3
ns1       3600 IN A      192.168.0.4
`,
      { file: 'db.example' },
    );
    expect(z.origin).toBe('example.com');
    const soa = z.soa.data as SoaData;
    expect(soa).toMatchObject({ serial: 2003080800, refresh: 43200, retry: 900, expire: 1814400, minimum: 7200 });
    expect(z.soa.ttl).toBe(172800);
    expect(get(z, 'www.example.com', TYPES.A).map((r) => (r.data as { address: string }).address)).toEqual(['192.168.0.2', '192.168.0.3']);
    expect(get(z, 'ns1.example.com', TYPES.A)[0]!.ttl).toBe(3600);
    expect(get(z, 'joe.example.com', TYPES.CNAME)[0]!.data).toEqual({ target: 'www.example.com' });
    expect(get(z, 'example.com', TYPES.MX)[0]!.data).toEqual({ preference: 10, exchange: 'mail.example.net' });
  });

  it('parses Knot-style TTL-before-class, class-before-TTL, lowercase types and a relative $ORIGIN', () => {
    const z = parseZone(`$ORIGIN example.org.
@ 3600 IN SoA ns hostmaster 1 7200 3600 1209600 3600
@ IN 300 ns ns
$ORIGIN sub
host 60 aaaa 2001:DB8::10
`);
    expect(get(z, 'example.org', TYPES.NS)[0]!.ttl).toBe(300);
    expect(get(z, 'host.sub.example.org', TYPES.AAAA)[0]!.data).toEqual({ address: '2001:db8::10' });
    expect(z.soa.data).toMatchObject({ mname: 'ns.example.org', rname: 'hostmaster.example.org' });
  });

  it('parses quoted TXT strings with spaces, escapes, semicolons and several strings, across lines', () => {
    const z = parseZone(`$ORIGIN example.net.
$TTL 300
@ SOA ns.example.net. h.example.net. 1 1 1 1 1
@ TXT "v=spf1 include:_spf.google.com ~all"
t TXT "a \\"quoted\\" word; not a comment" plain "\\065\\066"
m TXT ( "first"
        "second" ) ; comment after
dkim._domainkey TXT ( "v=DKIM1; k=rsa; "
    "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ" )
`);
    const txt = (n: string) => (get(z, n, TYPES.TXT)[0]!.data as { strings: Buffer[] }).strings.map((b) => b.toString('latin1'));
    expect(txt('example.net')).toEqual(['v=spf1 include:_spf.google.com ~all']);
    expect(txt('t.example.net')).toEqual(['a "quoted" word; not a comment', 'plain', 'AB']);
    expect(txt('m.example.net')).toEqual(['first', 'second']);
    expect(txt('dkim._domainkey.example.net')).toEqual(['v=DKIM1; k=rsa; ', 'p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ']);
  });

  it('parses SRV, PTR, CAA and a reverse zone, with absolute names outside the zone as targets', () => {
    const z = parseZone(`$TTL 1h
$ORIGIN 2.0.192.in-addr.arpa.
@ IN SOA ns1.example.com. hostmaster.example.com. ( 1 1h 15m 1w 300 )
80 IN PTR www.example.com.
_ldap._tcp IN SRV 0 100 389 ldap.example.com.
@ IN CAA 128 issue "ca.example.net; account=230123"
`);
    expect(get(z, '80.2.0.192.in-addr.arpa', TYPES.PTR)[0]!.data).toEqual({ target: 'www.example.com' });
    expect(get(z, '_ldap._tcp.2.0.192.in-addr.arpa', TYPES.SRV)[0]!.data).toEqual({ priority: 0, weight: 100, port: 389, target: 'ldap.example.com' });
    const caa = get(z, '2.0.192.in-addr.arpa', TYPES.CAA)[0]!.data as { flags: number; tag: string; value: Buffer };
    expect([caa.flags, caa.tag, caa.value.toString()]).toEqual([128, 'issue', 'ca.example.net; account=230123']);
  });

  it('uses the origin given by the caller when the file has no $ORIGIN, and tracks empty non-terminals', () => {
    const z = parseZone('@ 60 IN SOA ns h 1 1 1 1 1\na.b.c 60 IN A 192.0.2.1\n', { origin: 'example.com.' });
    expect(z.ents.has('b.c.example.com')).toBe(true);
    expect(z.ents.has('c.example.com')).toBe(true);
  });

  it('collapses duplicate records and gives an RRset one TTL (RFC 2181 5)', () => {
    const z = parseZone('$ORIGIN e.com.\n@ 60 SOA ns h 1 1 1 1 1\nw 60 A 192.0.2.1\nw 60 A 192.0.2.1\nw 120 A 192.0.2.2\n');
    expect(get(z, 'w.e.com', TYPES.A).map((r) => r.ttl)).toEqual([60, 60]);
  });

  it('loads the example zones shipped for learners', () => {
    const z = loadZoneFile(fileURLToPath(new URL('../../examples/zones/example.zone', import.meta.url)));
    const types = new Set(z.records.map((r) => r.type));
    for (const t of ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SOA', 'SRV', 'PTR', 'CAA'] as const) expect(types.has(TYPES[t])).toBe(true);
    expect(get(z, 'many.example.com', TYPES.A).length).toBeGreaterThanOrEqual(40);
    loadZoneFile(fileURLToPath(new URL('../../examples/zones/reverse.zone', import.meta.url)));
  });

  it('reads TTL units the way BIND does', () => {
    expect(parseTtl('1h30m')).toBe(5400);
    expect(parseTtl('1W')).toBe(604800);
    expect(parseTtl('86400')).toBe(86400);
    expect(parseTtl('1x')).toBeUndefined();
  });
});

describe('zone parser: broken files say file:line: what is wrong', () => {
  const head = '$ORIGIN example.com.\n$TTL 300\n@ SOA ns h 1 1 1 1 1\n';
  it.each([
    ['a bad IPv4 address', `${head}www A 192.0.2.300\n`, /^db\.test:4: "192\.0\.2\.300" is not an IPv4 address$/],
    ['a bad IPv6 address', `${head}www AAAA 2001:db8::zz\n`, /^db\.test:4: "2001:db8::zz" is not an IPv6 address/],
    ['an unknown type', `${head}www AA 192.0.2.1\n`, /^db\.test:4: unknown record type "AA"/],
    ['a missing MX preference', `${head}@ MX mail\n`, /^db\.test:4: MX needs a preference and a mail exchanger name/],
    ['an unterminated string', `${head}t TXT "never closed\n`, /^db\.test:4: unterminated quoted string/],
    ['an unclosed parenthesis', `${head}\nt TXT ( "a"\n "b"\n`, /^db\.test:5: unbalanced "\("/],
    ['a stray close parenthesis', `${head}t TXT "a" )\n`, /^db\.test:4: unbalanced "\)"/],
    ['CNAME and other data', `${head}w A 192.0.2.1\nw CNAME x\n`, /^db\.test:4: w\.example\.com has a CNAME and other data/],
    ['a second SOA', `${head}@ SOA ns h 2 1 1 1 1\n`, /^db\.test:4: second SOA record/],
    ['no SOA first', '$ORIGIN example.com.\n$TTL 1\nwww A 192.0.2.1\n', /^db\.test:3: the first record must be the zone's SOA, not A/],
    ['no $ORIGIN for @', '$TTL 1\n@ SOA ns h 1 1 1 1 1\n', /^db\.test:2: "@" used but no \$ORIGIN is set/],
    ['a TXT string over 255 octets', `${head}t TXT "${'x'.repeat(256)}"\n`, /^db\.test:4: TXT string of 256 octets is longer than 255/],
    ['a label over 63 octets', `${head}${'a'.repeat(64)} A 192.0.2.1\n`, /^db\.test:4: label longer than 63 octets/],
    ['a bad SRV port', `${head}_s._tcp SRV 1 1 70000 t\n`, /^db\.test:4: SRV port "70000" is not a number from 0 to 65535/],
    ['extra data', `${head}www A 192.0.2.1 192.0.2.2\n`, /^db\.test:4: A has extra data "192\.0\.2\.2"/],
    ['a missing $INCLUDE file', `${head}$INCLUDE /nonexistent-socketlab/other.zone\n`, /^db\.test:4: cannot read included file \/nonexistent-socketlab\/other\.zone: ENOENT/],
    ['class CH', `${head}v CH TXT "x"\n`, /^db\.test:4: class CH is not supported/],
    ['an empty file', '', /^db\.test:1: no SOA record/],
  ])('rejects %s', (_what, text, re) => {
    fails(text, re);
  });

  it('names the missing file', () => {
    expect(() => loadZoneFile('/nonexistent/db.zone')).toThrow(/^\/nonexistent\/db\.zone: cannot read zone file: ENOENT/);
  });
});

describe('zone parser: what BIND loads', () => {
  const head = '$ORIGIN t.test.\n$TTL 300\n@ SOA ns h 1 3600 900 604800 60\n';
  const raw = (z: ReturnType<typeof parseZone>, name: string, type: number) => (get(z, name, type)[0]!.data as { raw: Buffer }).raw.toString('hex').toUpperCase();

  it('keeps escaped and UTF-8 owner names in one canonical form, case preserved, keyed case-folded', () => {
    const z = parseZone(`${head}\\065bc A 192.0.2.3\nsemi\\;colon A 192.0.2.4\nbücher A 192.0.2.6\nMiXeD A 192.0.2.2\n`);
    expect(get(z, 'abc.t.test', TYPES.A)[0]!.name).toBe('Abc.t.test');
    expect(get(z, 'semi\\;colon.t.test', TYPES.A)).toHaveLength(1);
    expect(get(z, 'b\\195\\188cher.t.test', TYPES.A)).toHaveLength(1);
    expect(get(z, 'mixed.t.test', TYPES.A)[0]!.name).toBe('MiXeD.t.test');
  });

  it('ignores a record outside the zone with a file:line warning and loads the rest (as BIND)', () => {
    const { zone, warnings } = parseZoneText(`${head}www A 192.0.2.1\n1.2.0.192.in-addr.arpa. PTR www.t.test.\nmail A 192.0.2.2\n`, { file: 'db.t' });
    expect(warnings).toEqual([{ file: 'db.t', line: 5, message: expect.stringMatching(/^1\.2\.0\.192\.in-addr\.arpa is outside the zone t\.test; record ignored/) }]);
    expect(zone.nodes.has('1.2.0.192.in-addr.arpa')).toBe(false);
    expect(get(zone, 'mail.t.test', TYPES.A)).toHaveLength(1);
  });

  it('reads RFC 3597 generic data for unknown and known types', () => {
    const z = parseZone(`${head}gen TYPE65534 \\# 4 0102 0304\nga A \\# 4 C0000209\nempty TYPE65000 \\# 0\nmx MX \\# 8 000A 026D78 017400\n`);
    expect(raw(z, 'gen.t.test', 65534)).toBe('01020304');
    expect(get(z, 'ga.t.test', TYPES.A)[0]!.data).toEqual({ address: '192.0.2.9' });
    expect(raw(z, 'empty.t.test', 65000)).toBe('');
    expect(get(z, 'mx.t.test', TYPES.MX)[0]!.data).toEqual({ preference: 10, exchange: 'mx.t' });
    fails(`${head}g TYPE65534 \\# 5 01020304\n`, /^db\.test:4: TYPE65534 generic data has 4 octets, not the 5 given after \\#$/);
    fails(`${head}g TYPE65534 01020304\n`, /^db\.test:4: TYPE65534 has no known text form: write its data as RFC 3597 generic data/);
    fails(`${head}g A \\# 3 010203\n`, /^db\.test:4: A generic data is not a valid A: A record with 3 octets/);
  });

  // expected octets: BIND 9.18 serving the same lines, read with `dig +unknownformat`
  it.each([
    ['HINFO', 'HINFO "PC-Intel" "Linux 6"', '0850432D496E74656C074C696E75782036'],
    ['NAPTR', 'NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.t.test.', '0064000A0153075349502B44325500045F736970045F7564700174047465737400'],
    ['NAPTR', 'NAPTR 100 50 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .', '006400320175074532552B7369701B215E2E2A24217369703A696E666F406578616D706C652E636F6D2100'],
    ['SSHFP', 'SSHFP 4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789', '0402123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789'],
    ['TLSA', 'TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6', '0301010C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6'],
    ['DS', 'DS 12345 8 2 49FD46E6C4B45C55D4AC69CB ( D3CD34AC1AFE51DE7E9A7F5D0A1A3C2B4F1E2D3C )', '303908024' + '9FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE7E9A7F5D0A1A3C2B4F1E2D3C'],
    ['HTTPS', 'HTTPS 1 . alpn="h2,h3" port=8443 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1', '000100000100060268320268330003000220FB00040008C0000201C00002020006001020010DB8000000000000000000000001'],
    ['SVCB', 'SVCB 16 svc.t.test. mandatory=alpn alpn=h2 key65000=hello no-default-alpn', '00100373766301740474657374000000000200010001000302683200020000FDE8000568656C6C6F'],
    ['LOC', 'LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m', '000016138B3CF018810CBCE0009895B8'],
    ['LOC', 'LOC 42 21 54 N 71 06 18 W -24m 30m', '0033161389172DD070BE15F000988D20'],
  ])('%s: %s gives the octets BIND serves', (type, line, hex) => {
    const z = parseZone(`${head}x ${line}\n`);
    expect(raw(z, 'x.t.test', TYPES[type as keyof typeof TYPES])).toBe(hex);
  });

  it('$INCLUDE: relative to the including file, with an optional origin, never outside its directory tree', () => {
    const dir = mkdtempSync(join(tmpdir(), 'socketlab-zone-'));
    try {
      mkdirSync(join(dir, 'inc'));
      writeFileSync(join(dir, 'inc', 'hosts.zone'), 'www A 192.0.2.1\n$INCLUDE more.zone\n');
      writeFileSync(join(dir, 'inc', 'more.zone'), 'mail A 192.0.2.2\nbad A 192.0.2.300\n');
      writeFileSync(join(dir, 'inc', 'ok.zone'), 'mail A 192.0.2.2\n');
      writeFileSync(join(dir, 'db.t'), `${head}$INCLUDE inc/hosts.zone\n`);
      fails2(join(dir, 'db.t'), /inc\/more\.zone:2: "192\.0\.2\.300" is not an IPv4 address$/);
      writeFileSync(join(dir, 'inc', 'hosts.zone'), 'www A 192.0.2.1\n$INCLUDE ok.zone sub.t.test.\nafter A 192.0.2.3\n');
      const z = loadZoneFile(join(dir, 'db.t'));
      expect(get(z, 'www.t.test', TYPES.A)).toHaveLength(1);
      expect(get(z, 'mail.sub.t.test', TYPES.A)).toHaveLength(1);
      expect(get(z, 'after.t.test', TYPES.A)).toHaveLength(1); // the include's origin does not leak back
      writeFileSync(join(dir, 'db.t'), `${head}$INCLUDE ../../../etc/hostname\n`);
      fails2(join(dir, 'db.t'), /db\.t:4: \$INCLUDE \.\.\/\.\.\/\.\.\/etc\/hostname is outside .*: included files must sit in the zone file's directory or below$/);
      writeFileSync(join(dir, 'db.t'), `${head}$INCLUDE db.t\n`);
      fails2(join(dir, 'db.t'), /db\.t:4: \$INCLUDE db\.t includes itself/);
      writeFileSync(join(dir, 'inc', 'loop.zone'), '$INCLUDE loop.zone\n');
      writeFileSync(join(dir, 'db.t'), `${head}$INCLUDE inc/loop.zone\n`);
      fails2(join(dir, 'db.t'), /loop\.zone:1: \$INCLUDE loop\.zone includes itself/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('$GENERATE with $, ${offset,width,base} and \\$', () => {
    const z = parseZone(`${head}$GENERATE 1-3 host$ A 192.0.2.$\n$GENERATE 10-12/2 h\${100,4,x} 60 IN CNAME t\\$\${0,2}\n`);
    expect([1, 2, 3].map((i) => (get(z, `host${i}.t.test`, TYPES.A)[0]!.data as { address: string }).address)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    expect(get(z, 'h006e.t.test', TYPES.CNAME)[0]).toMatchObject({ ttl: 60, data: { target: 't\\$10.t.test' } });
    expect(get(z, 'h0070.t.test', TYPES.CNAME)).toHaveLength(1);
    expect(get(z, 'h006f.t.test', TYPES.CNAME)).toHaveLength(0);
    fails(`${head}$GENERATE 5-1 h$ A 192.0.2.$\n`, /^db\.test:4: \$GENERATE range 5-1 is empty/);
    fails(`${head}$GENERATE 1-300 h$ A 192.0.2.$\n`, /^db\.test:4: "192\.0\.2\.256" is not an IPv4 address$/);
  });

  it('a zone without any TTL uses the SOA minimum, with a warning (as BIND)', () => {
    const { zone, warnings } = parseZoneText('$ORIGIN t.test.\n@ IN SOA ns h 1 1 1 1 60\n  NS ns\nns A 192.0.2.1\n', { file: 'db.t' });
    expect(zone.records.map((r) => r.ttl)).toEqual([60, 60, 60]);
    expect(warnings).toEqual([{ file: 'db.t', line: 2, message: 'no TTL specified and no $TTL; using the SOA minimum 60 instead' }]);
  });

  it('keeps line numbers after a backslash-newline inside a name', () => {
    fails(`${head}a\\\nb A 192.0.2.1\nw A 192.0.2.300\n`, /^db\.test:6: "192\.0\.2\.300" is not an IPv4 address$/);
  });

  it('says what is wrong with a TTL above 2^32-1, and zeroes one above 2^31-1 with a warning (RFC 2181 8)', () => {
    fails(`${head}w 4294967296 A 192.0.2.1\n`, /^db\.test:4: TTL 4294967296 is above 4294967295 \(2\^32-1\)/);
    fails(`$TTL 99999999999\n${head}`, /^db\.test:1: \$TTL value 99999999999 is above 4294967295/);
    const { zone, warnings } = parseZoneText(`${head}w 3000000000 A 192.0.2.1\n`, { file: 'db.t' });
    expect(get(zone, 'w.t.test', TYPES.A)[0]!.ttl).toBe(0);
    expect(warnings[0]).toMatchObject({ line: 4, message: expect.stringMatching(/above 2147483647/) });
  });

  it('skips a UTF-8 byte order mark with a warning instead of reading it as an owner name', () => {
    const { zone, warnings } = parseZoneText(`\uFEFF${head}www A 192.0.2.1\n`, { file: 'db.t' });
    expect(get(zone, 'www.t.test', TYPES.A)).toHaveLength(1);
    expect(warnings).toEqual([{ file: 'db.t', line: 1, message: 'file starts with a UTF-8 byte order mark; ignored' }]);
  });
});

function fails2(path: string, expected: RegExp): void {
  expect(() => loadZoneFile(path)).toThrow(expected);
}

import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { LabError } from '../errors.js';
import { TYPES, type SoaData } from './codec.js';
import { loadZoneFile, parseTtl, parseZone } from './zone-parser.js';

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
    ['a name outside the zone', `${head}www.example.org. A 192.0.2.1\n`, /^db\.test:4: www\.example\.org is outside the zone example\.com/],
    ['a second SOA', `${head}@ SOA ns h 2 1 1 1 1\n`, /^db\.test:4: second SOA record/],
    ['no SOA first', '$ORIGIN example.com.\n$TTL 1\nwww A 192.0.2.1\n', /^db\.test:3: the first record must be the zone's SOA, not A/],
    ['no $ORIGIN for @', '$TTL 1\n@ SOA ns h 1 1 1 1 1\n', /^db\.test:2: "@" used but no \$ORIGIN is set/],
    ['no TTL anywhere', '$ORIGIN e.com.\n@ SOA ns h 1 1 1 1 1\nw A 192.0.2.1\n', /no TTL on this record and no \$TTL/],
    ['a TXT string over 255 octets', `${head}t TXT "${'x'.repeat(256)}"\n`, /^db\.test:4: TXT string of 256 octets is longer than 255/],
    ['a label over 63 octets', `${head}${'a'.repeat(64)} A 192.0.2.1\n`, /^db\.test:4: label longer than 63 octets/],
    ['a bad SRV port', `${head}_s._tcp SRV 1 1 70000 t\n`, /^db\.test:4: SRV port "70000" is not a number from 0 to 65535/],
    ['extra data', `${head}www A 192.0.2.1 192.0.2.2\n`, /^db\.test:4: A has extra data "192\.0\.2\.2"/],
    ['$INCLUDE', `${head}$INCLUDE other.zone\n`, /^db\.test:4: \$INCLUDE is not supported/],
    ['class CH', `${head}v CH TXT "x"\n`, /^db\.test:4: class CH is not supported/],
    ['an empty file', '', /^db\.test:1: no SOA record/],
  ])('rejects %s', (_what, text, re) => {
    fails(text, re);
  });

  it('names the missing file', () => {
    expect(() => loadZoneFile('/nonexistent/db.zone')).toThrow(/^\/nonexistent\/db\.zone: cannot read zone file: ENOENT/);
  });
});

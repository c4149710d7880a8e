import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import Protocol, { type RawDhcpPacket } from 'dhcp/lib/protocol.js';
import { LabError } from '../errors.js';
import { print } from '../format.js';

/*
 * socketlab's DHCP codec is node-dhcp with patches/dhcp+0.2.20.patch applied. patch-package applies it
 * at install, but not under `npm install --ignore-scripts`, and an unpatched codec parses real clients'
 * packets wrong without a word. The published package bundles the patched copy; this check proves at
 * start-up, with packets the unpatched codec gets wrong, that the running copy is the patched one.
 */

/** 236 bytes of fixed fields (RFC 2131 section 2): a BOOTREQUEST over Ethernet, xid 0x5e1fc4ec. */
function fixed(): Buffer {
  const b = Buffer.alloc(236);
  b.set([1, 1, 6, 0]);
  b.writeUInt32BE(0x5e1fc4ec, 4);
  b.set([0x02, 0x00, 0x00, 0x5e, 0x1f, 0xc4], 28);
  return b;
}
const COOKIE = Buffer.from([0x63, 0x82, 0x53, 0x63]);

/**
 * A DISCOVER with a PAD option first and a client identifier (option 61) holding 0x00 and bytes > 0x7f.
 * Unpatched: the PAD swallows the next byte (the options shift), and option 61 is decoded as ASCII.
 */
export const PROBE_OPTIONS = [0, 53, 1, 1, 61, 7, 1, 0x02, 0x00, 0x5e, 0x00, 0xff, 0x80, 255];

/** What is wrong with `parse` compared with the patched codec; empty when it is the patched one. */
export function codecProblems(parse: (buf: Buffer) => RawDhcpPacket = Protocol.parse): string[] {
  // the unpatched codec prints "Option N not known" for what it misreads: keep that off the terminal
  const consoleError = console.error;
  console.error = () => {};
  try {
    return probe(parse);
  } finally {
    console.error = consoleError;
  }
}

function probe(parse: (buf: Buffer) => RawDhcpPacket): string[] {
  const problems: string[] = [];
  let m: RawDhcpPacket | undefined;
  try {
    m = parse(Buffer.concat([fixed(), COOKIE, Buffer.from(PROBE_OPTIONS)]));
  } catch (err) {
    problems.push(`a valid DISCOVER was refused (${(err as Error).message})`);
  }
  if (m) {
    if (m.options[53] !== 1) problems.push('a PAD option shifted the options after it (message type lost)');
    if (m.options[61] !== '0102005e00ff80') problems.push(`option 61 (client identifier) was decoded as ${JSON.stringify(m.options[61])}, not as bytes`);
  }
  // RFC 2131 section 3: options start with the magic cookie 99.130.83.99; the unpatched codec reads any 4 bytes.
  let refused = false;
  try {
    parse(Buffer.concat([fixed(), Buffer.alloc(4)]));
  } catch {
    refused = true;
  }
  if (!refused) problems.push('a message without the DHCP magic cookie was accepted');
  return problems;
}

/** The folder of the node-dhcp copy this process loads (named in the error). */
export function codecLocation(): string {
  return dirname(dirname(createRequire(import.meta.url).resolve('dhcp/lib/protocol.js')));
}

/** Throws LAB_ERR_DHCP_CODEC when the loaded node-dhcp is not the patched one. */
export function assertPatchedCodec(parse?: (buf: Buffer) => RawDhcpPacket): void {
  const problems = codecProblems(parse);
  if (problems.length === 0) return;
  throw new LabError(
    'LAB_ERR_DHCP_CODEC',
    `the DHCP codec in ${codecLocation()} is node-dhcp WITHOUT socketlab's patch (patches/dhcp+0.2.20.patch): ` +
      `${problems.join('; ')}. It would misread real clients' packets, so nothing was started. ` +
      `Install socketlab from its published package (it bundles the patched codec), or run "npx patch-package" in socketlab's folder.`,
    { problems },
  );
}

/** `dhcp selfcheck`, and the same check before `dhcp serve`, `relay` and `client` start. */
export function addCodecSelfcheck(dhcp: Command): void {
  dhcp.hook('preAction', (_dhcp, action) => {
    if (['serve', 'relay', 'client'].includes(action.name())) assertPatchedCodec();
  });
  dhcp
    .command('selfcheck')
    .description("check that the DHCP codec is socketlab's patched node-dhcp (also done before serve, relay, client)")
    .action(() => {
      assertPatchedCodec();
      print(`dhcp codec: patched node-dhcp in ${codecLocation()}: PAD, option 61 and the magic cookie decode as RFC 2131/2132 say`);
    });
}

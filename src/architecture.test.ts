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

// Issue 14: the CLI is built on the same API. A command starts servers and clients through src/api
// (what library users call), never through the internal modules the API wraps.
describe('the CLI is built on the public API', () => {
  /** Internal start functions the API wraps, by module. */
  const WRAPPED: Record<string, string[]> = {
    'echo/server.ts': ['startEcho'],
    'dns/server.ts': ['startDnsServer'],
    'dns/secondary.ts': ['startSecondary'],
    'dns/client.ts': ['query', 'axfr'],
    'dhcp/server.ts': ['startDhcpServer'],
    'dhcp/relay.ts': ['startDhcpRelay'],
    'dhcp/client.ts': ['DhcpClient'],
    'connect/client.ts': ['openConversations'],
  };
  /** Allowed, with the reason: what the API does not offer. */
  const EXCEPTIONS: Record<string, string> = {
    // the API's dnsQuery refuses AXFR: it has no zone-transfer client
    'dns/command.ts -> dns/client.ts axfr': 'no zone transfer in the API',
    // `dhcp client` holds a lease (renew at T1, rebind at T2) and prints every message as it goes;
    // the API's dhcpClient has obtain/renew/release only
    'dhcp/command.ts -> dhcp/client.ts DhcpClient': 'no lease-holding client in the API',
  };
  const commands = readdirSync(SRC, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(SRC, d.name)).filter((f) => f === 'command.ts').map((f) => join(d.name, f)));

  it('finds the commands', () => {
    expect(commands).toEqual(expect.arrayContaining(['echo/command.ts', 'dns/command.ts', 'dhcp/command.ts', 'connect/command.ts', 'tour/command.ts']));
  });

  it('no command imports a wrapped start function from an internal module', () => {
    const found = commands.flatMap((f) =>
      importsOf(f).flatMap((i) => (WRAPPED[i.from] ?? []).filter((n) => i.names.includes(n)).map((n) => `${f} -> ${i.from} ${n}`)),
    );
    expect(found.filter((x) => !(x in EXCEPTIONS))).toEqual([]);
    // an exception that no longer happens is removed from the list
    expect(Object.keys(EXCEPTIONS).filter((x) => !found.includes(x))).toEqual([]);
  });

  it('the serving and connecting commands import their start functions from src/api', () => {
    const fromApi = (f: string): string[] => importsOf(f).filter((i) => i.from.startsWith('api/')).flatMap((i) => i.names);
    expect(fromApi('echo/command.ts')).toContain('startEcho');
    expect(fromApi('dns/command.ts')).toEqual(expect.arrayContaining(['startDnsServer', 'dnsQuery']));
    expect(fromApi('dhcp/command.ts')).toEqual(expect.arrayContaining(['startDhcpServer', 'startDhcpRelay']));
    expect(fromApi('connect/command.ts')).toContain('connect');
    expect(fromApi('tour/command.ts')).toContain('startEcho');
  });
});

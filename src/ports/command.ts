import type { Command } from 'commander';
import { table, print, printJson, bold, dim } from '../format.js';
import { portsReport, type PortsReport } from './lookup.js';

const PORT_ZERO =
  'Port 0 is reserved (RFC 6335): no service uses it. Binding to port 0 asks the kernel to pick a free port, which is how tests and clients get one.';

/** Registers `socketlab ports [PORT|SERVICE ...] [--json]`. */
export function registerPorts(program: Command): void {
  program
    .command('ports')
    .description('classify ports (well-known / registered / dynamic), name their services, show the ephemeral range')
    .argument('[port-or-service...]', 'port numbers or service names (443, https, dns, 3389 ...)')
    .option('--json', 'print a JSON document instead of tables')
    .addHelpText('after', `
Examples:
  $ socketlab ports                 the course's port table and the three ranges
  $ socketlab ports 443 22 53       classify ports and name their services
  $ socketlab ports https rdp       look services up by name
  $ socketlab ports 41822 --json    is a client port in this host's ephemeral range?`)
    .action((queries: string[], opts: { json?: boolean }) => {
      const report = portsReport(queries);
      if (opts.json) return printJson(report);
      print(renderPorts(report, queries.length === 0));
    });
}

export function renderPorts(r: PortsReport, overview: boolean): string {
  const out: string[] = [];
  out.push(bold(overview ? 'Well-known ports from the course notes' : 'Ports'));
  out.push(
    table(r.ports, [
      { header: 'PORT', get: (p) => p.port, align: 'right' },
      { header: 'PROTO', get: (p) => (p.protocols.length ? p.protocols.join('+') : '-') },
      { header: 'SERVICE', get: (p) => p.service ?? '(none listed)' },
      { header: 'CATEGORY', get: (p) => p.category },
      { header: 'HOST EPHEMERAL?', get: (p) => (p.inHostEphemeralRange ? 'yes' : 'no') },
      { header: 'DESCRIPTION', get: (p) => p.description ?? '' },
    ]),
  );
  const differ = r.ports.filter((p) => p.notesDiffer);
  if (differ.length > 0) {
    out.push('');
    out.push(bold('Where the course notes differ'));
    for (const p of differ) out.push(wrap(`${p.port}/${p.protocols.join('+')}: ${p.notesDiffer}`, 96, '  '));
  }
  if (r.ports.some((p) => p.port === 0) || overview) {
    out.push('');
    out.push(dim(wrap(PORT_ZERO, 96, '  ')));
  }
  out.push('');
  out.push(bold('Port ranges (IANA, RFC 6335)'));
  out.push(
    table(r.ranges, [
      { header: 'RANGE', get: (g) => `${g.first}-${g.last}`, align: 'right' },
      { header: 'CATEGORY', get: (g) => g.category },
      { header: 'ALSO CALLED', get: (g) => g.also },
      { header: 'USED FOR', get: (g) => g.use },
    ]),
  );
  out.push('');
  const h = r.ephemeral.host;
  out.push(bold('Ephemeral (client source) ports'));
  out.push(`  this host: ${h ? `${h.first}-${h.last}  (${h.source})` : 'unknown (no /proc/sys/net/ipv4/ip_local_port_range)'}`);
  out.push(`  IANA:      ${r.ephemeral.iana.first}-${r.ephemeral.iana.last}  (dynamic/private range)`);
  out.push(dim(wrap(r.ephemeral.explanation, 96, '  ')));
  return out.join('\n');
}

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if ((line + ' ' + word).trim().length > width) {
      lines.push(indent + line.trim());
      line = '';
    }
    line += ' ' + word;
  }
  if (line.trim()) lines.push(indent + line.trim());
  return lines.join('\n');
}

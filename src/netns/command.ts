import { spawn } from 'node:child_process';
import { Option, type Command } from 'commander';
import { LabError } from '../errors.js';
import { print, printJson, table } from '../format.js';
import { argParser } from '../cli-context.js';
import { cleanNetns, listSocketlabNamespaces } from './clean.js';
import { listNamespaces } from './ip.js';
import { isSocketlabName, validateId } from './names.js';
import { requireNetnsPrivileges } from './privileges.js';

/** Registers `socketlab netns list | clean | exec`. */
export function registerNetns(program: Command): void {
  const netns = program
    .command('netns')
    .description('the network namespaces socketlab builds lab topologies from (sl-<id>-<host>; needs root)')
    .addHelpText(
      'after',
      `
A lab host is a network namespace sl-<id>-<host> with its own interfaces (eth0, eth1, ... one per
segment), addresses, routes and ports; the segments' bridges live in sl-<id>-sw. Nothing is created
in this machine's own network namespace.

Examples:
  $ sudo socketlab netns list                             what is there, with addresses
  $ sudo socketlab netns exec sl-ab12-client -- ss -tan   the client host's socket table
  $ sudo socketlab netns clean                            remove leftovers after a crash`,
    );

  netns
    .command('list')
    .description('the socketlab namespaces present, with their interfaces and addresses')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const rows = await listSocketlabNamespaces();
      if (opts.json) return printJson(rows);
      if (rows.length === 0) return print('no socketlab namespaces (sl-*)');
      const lines = rows.flatMap((ns) =>
        ns.links.map((l, i) => ({
          ns: i === 0 ? ns.name : '',
          procs: i === 0 ? String(ns.pids.length) : '',
          ifname: l.master ? `${l.ifname} (in ${l.master})` : l.ifname,
          kind: l.kind ?? (l.ifname === 'lo' ? 'loopback' : ''),
          state: l.operstate,
          addresses: l.addresses.join(' '),
        })),
      );
      print(
        table(lines, [
          { header: 'NAMESPACE', get: (r) => r.ns },
          { header: 'PROCS', get: (r) => r.procs, align: 'right' },
          { header: 'INTERFACE', get: (r) => r.ifname },
          { header: 'KIND', get: (r) => r.kind },
          { header: 'STATE', get: (r) => r.state },
          { header: 'ADDRESSES', get: (r) => r.addresses },
        ]),
      );
    });

  netns
    .command('clean')
    .description('remove every leftover socketlab namespace (killing its processes) and sl-* interface; nothing else')
    .addOption(new Option('--id <id>', 'only the topology with this id (sl-<id>-*)').argParser(argParser(validateId)))
    .option('--json', 'print JSON')
    .action(async (opts: { id?: string; json?: boolean }) => {
      const report = await cleanNetns({ id: opts.id });
      if (opts.json) return printJson(report);
      if (report.namespaces.length === 0 && report.interfaces.length === 0) return print('nothing to clean: no socketlab namespaces or sl-* interfaces');
      for (const ns of report.namespaces) {
        const procs = ns.killed.map((k) => `${k.pid} ${k.command}`).join(', ');
        print(`removed namespace ${ns.name}${procs ? ` (killed ${procs})` : ''}`);
      }
      for (const ifname of report.interfaces) print(`removed interface ${ifname} from the host namespace`);
    });

  netns
    .command('exec')
    .description('run a command inside a socketlab namespace, e.g. socketlab netns exec sl-ab12-client -- ss -tan')
    .argument('<name>', 'namespace (sl-<id>-<host>, see socketlab netns list)')
    .argument('<command...>', 'command and its arguments (put -- before it)')
    .action(async (name: string, command: string[]) => {
      if (!isSocketlabName(name)) {
        throw new LabError('LAB_ERR_INVALID_ARGUMENT', `"${name}" is not a socketlab namespace (names start with sl-); see socketlab netns list`);
      }
      requireNetnsPrivileges(`socketlab netns exec ${name}`);
      if (!(await listNamespaces()).includes(name)) {
        throw new LabError('LAB_ERR_NETNS', `namespace ${name} does not exist; see socketlab netns list`);
      }
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn('ip', ['netns', 'exec', name, ...command], { stdio: 'inherit' });
        child.on('error', reject);
        child.on('close', (c, sig) => resolve(c ?? 128 + (sig === 'SIGINT' ? 2 : sig === 'SIGKILL' ? 9 : 15)));
      });
      process.exitCode = code;
    });
}

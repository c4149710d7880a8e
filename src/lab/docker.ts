import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { LabError, asSystemError, invalidArgument } from '../errors.js';
import { splitCommand } from './exec.js';
import { fill, type TemplateScope } from './template.js';
import { bindSpec, labVars, renderFile } from './bind.js';
import type { LabSpec, SegmentSpec, ServiceSpec } from './schema.js';
import { LAB_TOOLS } from '../hosts/docker/image.js';
import { segmentIpam, subnetOf } from '../hosts/docker/plan.js';

/** Where the lab folder is mounted in every container; `${run_dir}` and `${lab_dir}` point here. */
export const LAB_MOUNT = '/lab';
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Debian packages the image needs for the labs' own commands (ss, ip, dig, tcpdump, dhclient, udhcpc, radvd, dnsmasq, ping). */
export const IMAGE_PACKAGES = Object.keys(LAB_TOOLS);

/** A port a service listens on, as `7007/tcp`. */
export interface ExportedPort {
  port: number;
  proto: 'tcp' | 'udp';
}

/** The port and address a service's socketlab arguments name (`--port`, `-p`, `--host`), or the command's default. */
export function servicePorts(args: string[]): { address: string; ports: ExportedPort[] } {
  const opt = (names: string[]): string | undefined => {
    for (let i = 0; i < args.length; i++) {
      for (const n of names) {
        if (args[i] === n) return args[i + 1];
        if (args[i]!.startsWith(`${n}=`)) return args[i]!.slice(n.length + 1);
      }
    }
    return undefined;
  };
  const [cmd, sub] = args;
  const address = opt(['--host', '-H']) ?? '127.0.0.1';
  const port = Number(opt(['--port', '-p']) ?? NaN);
  const tcpOnly = args.includes('--tcp');
  const udpOnly = args.includes('--udp');
  switch (cmd) {
    case 'echo': {
      const p = Number.isInteger(port) ? port : 8920;
      return { address, ports: [...(udpOnly ? [] : [{ port: p, proto: 'tcp' as const }]), ...(tcpOnly ? [] : [{ port: p, proto: 'udp' as const }])] };
    }
    case 'dns':
      if (sub === 'serve') {
        const p = Number.isInteger(port) ? port : 5300;
        return { address, ports: [{ port: p, proto: 'udp' }, { port: p, proto: 'tcp' }] };
      }
      return { address, ports: [] };
    case 'dhcp':
      if (sub === 'serve' || sub === 'relay') return { address: '0.0.0.0', ports: [{ port: 67, proto: 'udp' }] };
      if (sub === 'client') return { address: '0.0.0.0', ports: [{ port: 68, proto: 'udp' }] };
      return { address, ports: [] };
    default:
      return { address, ports: [] };
  }
}

/** The ports a lab's listening checks expect on `host` (what the programs there serve). */
function checkedPorts(spec: LabSpec, host: string, scope: TemplateScope): ExportedPort[] {
  const seen = new Set<string>();
  const out: ExportedPort[] = [];
  for (const c of spec.checks) {
    if (c.kind !== 'listening' || c.absent || (c.host ?? spec.hosts[0]!.name) !== host) continue;
    const p = { port: Number(fill(String(c.port), scope, 'port')), proto: c.proto };
    if (seen.has(`${p.port}/${p.proto}`)) continue;
    seen.add(`${p.port}/${p.proto}`);
    out.push(p);
  }
  return out;
}

/** Values for `${...}` without running anything: vars (OVER them: a seed's), the mount point, each service's port and address. */
export function staticScope(file: LabSpec, over: Record<string, string> = {}): TemplateScope {
  const vars = labVars(file, over);
  const spec = bindSpec(file, vars);
  const scope: TemplateScope = { ...vars, run_dir: LAB_MOUNT, lab_dir: LAB_MOUNT };
  for (const s of spec.services) {
    const args = splitCommand(fill(s.run, scope, `services[${s.name}].run`));
    const { address, ports } = servicePorts(args);
    if (ports[0]) {
      scope[`${s.name}.port`] = String(ports[0].port);
      scope[`${s.name}.address`] = address;
      scope[`${s.name}.transport`] = [...new Set(ports.map((p) => p.proto))].join('+');
    }
  }
  for (const seg of spec.segments) {
    for (const m of seg.members) {
      const i = spec.segments.filter((x) => x.members.some((mm) => mm.host === m.host)).indexOf(seg);
      scope[`${m.host}.${seg.name}.if`] = `eth${i}`;
      if (m.address) scope[`${m.host}.${seg.name}.ip`] = m.address.split('/')[0]!;
    }
  }
  return scope;
}

/**
 * Shell lines that give a container's interfaces the lab's names. Compose files must run on Engine
 * 20.10 (no `interface_name`, which needs 28.1+), where Docker names them in its own order: each is
 * found by the lab subnet it has an address in and renamed, via a temporary name so two can swap.
 */
function renameLines(wanted: { ifname: string; subnet: string }[]): string[] {
  if (wanted.length < 2) return [];
  return [
    ...wanted.map((w, k) => `d=$(ip -o addr show to ${w.subnet} | awk '{print $2; exit}') && ip link set dev "$d" down && ip link set dev "$d" name sltmp${k}`),
    ...wanted.map((w, k) => `ip link set dev sltmp${k} name ${w.ifname} && ip link set dev ${w.ifname} up`),
  ];
}

/** Compose service names: the host's own container, and one per extra service sharing its network. */
function containerName(host: string, svc: ServiceSpec | undefined, first: boolean): string {
  return first || !svc ? host : `${host}-${svc.name}`;
}

/**
 * Writes DIR/compose.yaml, DIR/Dockerfile, DIR/steps.sh, DIR/README.md and DIR/lab/ (the lab
 * folder, mounted at /lab). Each lab host becomes a container on user-defined bridge networks (one
 * per segment, with the lab's addresses); each service runs its socketlab command as the
 * container's command under the image's `socketlab` entrypoint.
 */
export function exportDocker(spec: LabSpec, dir: string, opts: { force?: boolean; image?: string } = {}): string[] {
  try {
    return writeExport(spec, dir, opts);
  } catch (err) {
    if (err instanceof LabError) throw err;
    const e = asSystemError(err);
    const why = e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'ENOSPC' ? 'no space left on the device' : e.code === 'EROFS' ? 'read-only file system' : e.message;
    throw invalidArgument(`lab export: cannot write ${(e as { path?: string }).path ?? dir}: ${why}; pick a directory you can write, e.g. --docker ./${spec.name}-docker`);
  }
}

/** What an export writes, relative to its directory. */
function exportedFiles(spec: LabSpec): string[] {
  return ['compose.yaml', 'Dockerfile', 'steps.sh', 'README.md', ...['lab.yaml', 'lab.json', 'README.md', ...spec.files].map((f) => join('lab', f))];
}

/** An export's compose.yaml names its lab on line 2; only that lab's export may be overwritten. */
function exportedLab(out: string): string | undefined {
  try {
    return /^# Exported by "socketlab lab export (\S+) --docker"/m.exec(readFileSync(join(out, 'compose.yaml'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * mkdir -p that fails instead of looping: Node's recursive mkdir spins forever where a parent
 * exists but refuses children (/proc), so each missing level is made on its own.
 */
function makeDir(dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw invalidArgument(`lab export: ${dir} exists and is not a directory`);
    return;
  }
  const parent = dirname(dir);
  if (parent !== dir) makeDir(parent);
  mkdirSync(dir);
}

function writeExport(file: LabSpec, dir: string, opts: { force?: boolean; image?: string }): string[] {
  // the lab without a seed: its default addresses
  const spec = bindSpec(file, labVars(file));
  const force = opts.force === true;
  if (dir.trim() === '') throw invalidArgument('lab export: --docker needs a directory (an empty path would write into the current one)');
  const out = resolve(dir);
  if (out.startsWith('/proc/') || out.startsWith('/sys/') || out === '/proc' || out === '/sys') throw invalidArgument(`lab export: ${out} is a kernel file system, not a place for files`);
  const previous = exportedLab(out);
  if (!force && previous !== spec.name) {
    const clash = exportedFiles(spec).filter((f) => existsSync(join(out, f)));
    if (clash.length) {
      throw invalidArgument(
        `lab export: ${out} already has ${clash.join(', ')}${previous ? ` from an export of ${previous}` : ', not from an export of this lab'}; ` +
          `pick an empty directory, or pass --force to overwrite them`,
      );
    }
  }
  makeDir(join(out, 'lab'));
  const scope = staticScope(spec);
  const netnsLab = spec.hosts.some((h) => h.kind === 'netns');
  const services: Record<string, Record<string, unknown>> = {};
  const networks: Record<string, Record<string, unknown>> = {};

  // networks: one user-defined bridge per segment; a localhost lab gets one bridge of its own
  const segments: SegmentSpec[] = netnsLab ? spec.segments : [{ name: 'lab', members: spec.hosts.map((h) => ({ host: h.name })) }];
  const segmentSubnet: Record<string, string> = {};
  for (const seg of segments) {
    const addressed = seg.members.filter((m) => m.address).map((m) => m.address!);
    const v4 = addressed.filter((a) => !a.includes(':'));
    const v6 = addressed.filter((a) => a.includes(':'));
    const config: Record<string, unknown>[] = [];
    for (const group of [v4, v6]) {
      if (!group.length) continue;
      // Docker's gateway on the last free address, off the lab's; hosts without an address (DHCP /
      // SLAAC clients) get Docker's from a small block at the top, flushed before they ask for a lease
      const ipam = segmentIpam(group, seg.members.some((m) => !m.address) || (v4.length > 0 && v6.length > 0));
      config.push({ subnet: ipam.subnet, gateway: ipam.gateway, ...(ipam.ipRange && { ip_range: ipam.ipRange }) });
      segmentSubnet[seg.name] ??= subnetOf(group[0]!).text;
    }
    networks[seg.name] = {
      driver: 'bridge',
      // no route or NAT out: a lab's DHCP server or scan never reaches a real LAN
      internal: true,
      ...(v6.length && { enable_ipv6: true }),
      ...(config.length && { ipam: { config } }),
      labels: { 'socketlab.lab': spec.name, 'socketlab.segment': seg.name },
    };
  }

  for (const host of spec.hosts) {
    const hostServices = spec.services.filter((s) => s.host === host.name);
    const hostSegments = segments.filter((s) => s.members.some((m) => m.host === host.name));
    const routes = spec.routes.filter((r) => r.host === host.name);
    const noAddress = netnsLab ? hostSegments.filter((s) => s.members.some((m) => m.host === host.name && !m.address)) : [];
    const prep = [
      ...renameLines(hostSegments.filter((s) => segmentSubnet[s.name]).map((s) => ({ ifname: `eth${hostSegments.indexOf(s)}`, subnet: segmentSubnet[s.name]! }))),
      ...routes.map((r) => `ip ${r.via.includes(':') ? '-6 ' : ''}route add ${r.to} via ${r.via}`),
      ...noAddress.map((s) => `ip -4 addr flush dev eth${hostSegments.indexOf(s)}`),
    ];
    const caps = new Set<string>();
    if (netnsLab || spec.root) caps.add('NET_ADMIN').add('NET_RAW');
    // real ports 53, 67, 68 in the namespace labs (the clients' steps bind 68 too)
    // and ss -p of a process that dropped to another user (dnsmasq as nobody), as HOST_CAPS
    if (netnsLab) caps.add('NET_BIND_SERVICE').add('SYS_PTRACE');
    const sysctls: Record<string, string> = {};
    // explicit both ways: a container copies the Docker host's ip_forward (dockerd turns it on)
    if (netnsLab || host.forwarding) Object.assign(sysctls, { 'net.ipv4.ip_forward': host.forwarding ? '1' : '0', 'net.ipv6.conf.all.forwarding': host.forwarding ? '1' : '0' });
    // renaming takes a link down once: keep its IPv6 addresses through that
    if (hostSegments.length > 1) sysctls['net.ipv6.conf.all.keep_addr_on_down'] = '1';
    if (host.ephemeralRange) sysctls['net.ipv4.ip_local_port_range'] = `${host.ephemeralRange[0]} ${host.ephemeralRange[1]}`;
    if (noAddress.length) {
      // a SLAAC client must accept Router Advertisements
      sysctls['net.ipv6.conf.all.accept_ra'] = '2';
    }
    const list = hostServices.length ? hostServices : [undefined];
    list.forEach((svc, i) => {
      const name = containerName(host.name, svc, i === 0);
      const c: Record<string, unknown> = {
        ...(!opts.image && { build: { context: PACKAGE_ROOT, dockerfile: join(out, 'Dockerfile') } }),
        image: opts.image ?? 'socketlab:lab',
        labels: { 'socketlab.lab': spec.name, 'socketlab.host': host.name, ...(svc && { 'socketlab.service': svc.name }) },
        volumes: [`./lab:${LAB_MOUNT}`],
        // tells socketlab it runs in a lab host (a container on internal networks), not on a real LAN
        environment: { SOCKETLAB_LAB_HOST: host.name },
      };
      let args: string[] = [];
      if (svc) {
        args = splitCommand(fill(svc.run, scope, `services[${svc.name}].run`));
        const ports = svc.program ? [] : servicePorts(args).ports;
        if (ports.some((p) => p.port < 1024)) caps.add('NET_BIND_SERVICE');
        if (ports.length) c.expose = ports.map((p) => `${p.port}/${p.proto}`);
      }
      // a program (dnsmasq) or a step's client (dhclient) names no --port: the host's listening checks say which
      // (on the host's first container: the others share its network and may not expose)
      if (i === 0) {
        const checked = checkedPorts(spec, host.name, scope);
        if (checked.some((p) => p.port < 1024)) caps.add('NET_BIND_SERVICE');
        const expose = [...new Set([...((c.expose as string[] | undefined) ?? []), ...checked.map((p) => `${p.port}/${p.proto}`)])];
        if (expose.length) c.expose = expose;
      }
      if (i === 0) {
        c.hostname = host.name;
        c.networks = Object.fromEntries(hostSegments.map((s, k) => {
          const m = s.members.find((mm) => mm.host === host.name)!;
          const a = m.address?.split('/')[0];
          return [s.name, { priority: 1000 - k, ...(a && (a.includes(':') ? { ipv6_address: a } : { ipv4_address: a })) }];
        }));
        if (Object.keys(sysctls).length) c.sysctls = sysctls;
      } else {
        // more services on one lab host share its network namespace, as in the namespace lab
        c.network_mode = `service:${host.name}`;
        c.depends_on = [host.name];
      }
      if (!svc) {
        c.entrypoint = prep.length ? ['sh', '-c', `${prep.join(' && ')} && exec sleep infinity`] : ['sleep', 'infinity'];
      } else if (svc.program) {
        c.entrypoint = prep.length && i === 0 ? ['sh', '-c', `${prep.join(' && ')} && exec "$@"`, args[0]!] : [args[0]!];
        c.command = args.slice(1);
      } else {
        if (prep.length && i === 0) c.entrypoint = ['sh', '-c', `${prep.join(' && ')} && exec socketlab "$@"`, 'socketlab'];
        c.command = args;
      }
      if (caps.size) c.cap_add = [...caps].sort();
      // Compose interpolates ${VAR} and $VAR in every string: a shell's own $ is written $$
      for (const k of ['entrypoint', 'command'] as const) if (Array.isArray(c[k])) c[k] = (c[k] as string[]).map((x) => x.replace(/\$/g, '$$$$'));
      services[name] = c;
    });
  }

  // no top-level `name` (Compose v2 only): docker-compose 1.29 names the project after the directory
  const compose = { services, networks };
  const header = `# ${spec.name}: ${spec.title}\n# Exported by "socketlab lab export ${spec.name} --docker". The namespace lab ("socketlab lab run ${spec.name}") is its executable twin.\n# Each lab host is a container on user-defined bridge networks; each service runs its socketlab command.\n`;
  const files: string[] = [];
  const write = (name: string, text: string, mode?: number): void => {
    writeFileSync(join(out, name), text, mode ? { mode } : {});
    files.push(join(out, name));
  };
  write('compose.yaml', header + stringify(compose, { lineWidth: 0 }));
  if (!opts.image) write('Dockerfile', dockerfile());
  write('steps.sh', stepsScript(spec, scope), 0o755);
  write('README.md', readme(spec));
  for (const f of ['lab.yaml', 'lab.json', 'README.md']) {
    if (existsSync(join(spec.dir, f))) copyFileSync(join(spec.dir, f), join(out, 'lab', f));
  }
  // the lab's own files as a run has them: its ${var}s filled
  for (const f of spec.files) if (existsSync(join(spec.dir, f))) renderFile(join(spec.dir, f), join(out, 'lab', f), scope);
  if (!existsSync(join(out, 'compose.yaml'))) throw new LabError('LAB_ERR_LAB_RUN', `could not write ${out}/compose.yaml`);
  return files;
}

function dockerfile(): string {
  return `# socketlab image: Node 20 on Debian bookworm with the tools the labs use.
# Build context: the socketlab package root (compose.yaml sets it).
FROM node:20-bookworm-slim
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ${IMAGE_PACKAGES.join(' ')} \\
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/socketlab
COPY package.json package-lock.json tsconfig.json ./
COPY patches ./patches
COPY scripts ./scripts
COPY src ./src
COPY labs ./labs
RUN npm ci && npm run build && npm prune --omit=dev \\
 && ln -s /opt/socketlab/dist/cli.js /usr/local/bin/socketlab
ENV SOCKETLAB_LOG_SYNC=1
ENTRYPOINT ["socketlab"]
CMD ["--help"]
`;
}

function stepsScript(spec: LabSpec, scope: TemplateScope): string {
  const lines = [
    '#!/bin/sh',
    `# The steps of ${spec.name}, run in the containers (after: docker-compose up -d, or docker compose up -d).`,
    'set -e',
    'cd "$(dirname "$0")"',
    '# Compose v2 (docker compose) where it is installed, else Debian\'s docker-compose 1.29; COMPOSE overrides',
    'if [ -z "${COMPOSE:-}" ]; then if docker compose version >/dev/null 2>&1; then COMPOSE="docker compose"; else COMPOSE=docker-compose; fi; fi',
  ];
  const q = (a: string): string => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  spec.steps.forEach((s, i) => {
    const cmd = splitCommand(fill(s.run, scope, `steps[${i}].run`));
    const quoted = cmd.map(q).join(' ');
    lines.push('', `echo ${q(`== step ${i + 1}: ${s.name} (on ${s.host})`)}`);
    lines.push(`$COMPOSE exec ${s.background ? '-d ' : ''}-T ${s.host} ${quoted}${s.exit ? ' || true' : ''}`);
    if (s.background) lines.push('sleep 2');
    if (s.wait) lines.push(`sleep ${s.wait}`);
  });
  return lines.join('\n') + '\n';
}

function readme(spec: LabSpec): string {
  const hosts = spec.hosts.map((h) => `- \`${h.name}\`: ${spec.services.filter((s) => s.host === h.name).map((s) => `\`${s.program ? '' : 'socketlab '}${s.run}\``).join(', ') || 'a client (steps run here)'}`);
  return `# ${spec.name} as Docker containers

Exported by \`socketlab lab export ${spec.name} --docker DIR\`. The same lab runs without Docker, in
network namespaces: \`socketlab lab run ${spec.name}\` — that is the executable twin the tests run.

\`\`\`sh
docker-compose up -d --build     # build the image (context: the socketlab package) and start the hosts
sh steps.sh                      # the lab's steps, each with docker-compose exec
docker-compose down              # remove containers and networks
\`\`\`

Debian's \`docker-compose\` 1.29 and Compose v2 (\`docker compose\`) both run these files. Exported
with \`--image NAME\` there is no build section: \`socketlab image build\` makes that image.

## Hosts (containers)
${hosts.join('\n')}

Every container uses the image's entrypoint \`socketlab\`; its \`command\` is the service's socketlab
arguments. Extra services of one host share its network namespace (\`network_mode: service:HOST\`).

## Networks
${spec.segments.length ? spec.segments.map((s) => `- \`${s.name}\`: a user-defined bridge; ${s.members.map((m) => `${m.host} ${m.address ?? '(DHCP/SLAAC: its Docker address is flushed at start)'}`).join(', ')}`).join('\n') : '- `lab`: one user-defined bridge for the single host'}

Each network is \`internal\` (no route or NAT out of the machine). Docker's own gateway is moved to
the last free address of each subnet so it does not take the lab router's address. Engines before
28.1 name interfaces in their own order, so a host on several networks renames them at start (found
by subnet) to eth0, eth1 ... in the lab's order.

## Capabilities
NET_ADMIN (addresses, routes, a DHCP client applying its lease, radvd), NET_RAW (tcpdump, ping)
and NET_BIND_SERVICE (ports below 1024: DNS 53, DHCP 67/68) where the lab needs them; sysctls set
forwarding and the ephemeral port range per container, as the namespace lab does per namespace.
`;
}

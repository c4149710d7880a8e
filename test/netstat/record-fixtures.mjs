#!/usr/bin/env node
// Records REAL ss/netstat output from this machine into src/netstat/fixtures/ for the parser unit tests.
// Everything is on loopback (or bound to lo with SO_BINDTODEVICE); every socket and helper is closed at the end.
// Usage: node test/netstat/record-fixtures.mjs   (as root, so -p can see every process)
import net from 'node:net';
import dgram from 'node:dgram';
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

const OUT = fileURLToPath(new URL('../../src/netstat/fixtures/', import.meta.url));
mkdirSync(OUT, { recursive: true });
process.title = 'socketlab-rec';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cleanup = [];

async function tcpServer(host, opts = {}) {
  const conns = [];
  const s = net.createServer(opts, (c) => {
    conns.push(c);
    c.on('error', () => {});
    if (opts.echoEnd) c.on('end', () => c.end());
  });
  s.listen({ host, port: 0 });
  await once(s, 'listening');
  cleanup.push(() => { for (const c of conns) c.destroy(); s.close(); });
  return s;
}
async function client(host, port) {
  const c = net.connect({ host, port });
  c.on('error', () => {});
  await once(c, 'connect');
  cleanup.push(() => c.destroy());
  return c;
}

// Python helper: wildcard sockets bound to lo (SO_BINDTODEVICE) -> `0.0.0.0%lo:P`, `*%lo:P`/`[::]%lo:P`,
// (forked, so ss -p lists two processes for them), and a TCP listener with backlog 0 that never accepts, so later clients stay in SYN-SENT.
const py = spawn('python3', ['-u', '-c', `
import socket, sys, time
out = []
def dev(s): s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'lo')
u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); dev(u4); u4.bind(('0.0.0.0', 0)); out.append(u4.getsockname()[1])
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); dev(u6); u6.bind(('::', 0)); out.append(u6.getsockname()[1])
t4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM); dev(t4); t4.bind(('0.0.0.0', 0)); t4.listen(5); out.append(t4.getsockname()[1])
import os
if os.fork() == 0:
    sys.stdin.read(); os._exit(0)
full = socket.socket(socket.AF_INET, socket.SOCK_STREAM); full.bind(('127.0.0.1', 0)); full.listen(0); out.append(full.getsockname()[1])
print(' '.join(map(str, out)), flush=True)
sys.stdin.read()
`], { stdio: ['pipe', 'pipe', 'inherit'] });
cleanup.push(() => py.stdin.end());
const [pyLine] = await once(py.stdout, 'data');
const [pyUdp4, pyUdp6, pyTcpLo, pyFull] = String(pyLine).trim().split(' ').map(Number);

const s4 = await tcpServer('127.0.0.1', { echoEnd: true });
const s6 = await tcpServer('::1');
const sMapped = await tcpServer('::ffff:127.0.0.1');
const sHalf = await tcpServer('127.0.0.1', { allowHalfOpen: true });
const p4 = s4.address().port, p6 = s6.address().port, pMapped = sMapped.address().port, pHalf = sHalf.address().port;

const est4 = [await client('127.0.0.1', p4), await client('127.0.0.1', p4)];
const est6 = await client('::1', p6);
const estMapped = await client('::ffff:127.0.0.1', pMapped);
// TIME-WAIT: the client closes first (active close) and so keeps the pair for 2*MSL.
const tw = await client('127.0.0.1', p4);
const twPort = tw.address().port;
tw.end();
await once(tw, 'close');
// FIN-WAIT-2 / CLOSE-WAIT: the client sends FIN, the half-open server never answers with its own.
const half = await client('127.0.0.1', pHalf);
const halfPort = half.address().port;
half.end();
// SYN-SENT: the python listener has backlog 0 and never accepts; once its queue is full SYNs are dropped.
const synClients = [];
for (let i = 0; i < 3; i++) {
  const c = net.connect({ host: '127.0.0.1', port: pyFull });
  c.on('error', () => {});
  synClients.push(c);
  cleanup.push(() => c.destroy());
}
// UDP: unconnected (UNCONN) on v4 and v6, and a connected one (ss: ESTAB).
const u4 = dgram.createSocket('udp4'); u4.bind(0, '127.0.0.1'); await once(u4, 'listening');
const u6 = dgram.createSocket('udp6'); u6.bind(0, '::1'); await once(u6, 'listening');
const u4c = dgram.createSocket('udp4'); u4c.bind(0, '127.0.0.1'); await once(u4c, 'listening');
u4c.connect(u4.address().port, '127.0.0.1'); await once(u4c, 'connect');
cleanup.push(() => { u4.close(); u6.close(); u4c.close(); });
await sleep(300);

const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8' });
const files = {
  'ss-a-tu.txt': ['ss', ['-H', '-n', '-a', '-t', '-u']],
  'ss-a-tu-p.txt': ['ss', ['-H', '-n', '-a', '-t', '-u', '-p']],
  'ss-a-t-p.txt': ['ss', ['-H', '-n', '-a', '-t', '-p']],
  'ss-a-tu-header.txt': ['ss', ['-n', '-a', '-t', '-u']],
  'netstat-a-tu.txt': ['netstat', ['-n', '-a', '-t', '-u']],
  'netstat-a-tu-p.txt': ['netstat', ['-n', '-a', '-t', '-u', '-p']],
  'netstat-a-tu-wide-p.txt': ['netstat', ['-n', '-a', '-t', '-u', '-W', '-p']],
};
for (const [name, [cmd, args]] of Object.entries(files)) writeFileSync(OUT + name, run(cmd, args));
const meta = {
  recorded: new Date().toISOString(),
  host: { ss: run('ss', ['-V']).trim(), netstat: run('netstat', ['-V']).split('\n')[0].trim(), kernel: run('uname', ['-r']).trim() },
  commands: Object.fromEntries(Object.entries(files).map(([n, [c, a]]) => [n, [c, ...a].join(' ')])),
  pid: process.pid,
  pythonPid: py.pid,
  comm: 'socketlab-rec',
  tcp: {
    listen4: p4, listen6: p6, listenMapped: pMapped, listenHalfOpen: pHalf, listenLoDevice: pyTcpLo, listenFullBacklog: pyFull,
    est4ClientPorts: est4.map((c) => c.address().port), est6ClientPort: est6.address().port, estMappedClientPort: estMapped.address().port,
    timeWaitClientPort: twPort, finWait2ClientPort: halfPort,
  },
  udp: { unconn4: u4.address().port, unconn6: u6.address().port, connected4: u4c.address().port, lo4: pyUdp4, lo6: pyUdp6 },
};
writeFileSync(OUT + 'meta.json', JSON.stringify(meta, null, 2) + '\n');
for (const f of cleanup.reverse()) f();
console.log('recorded', Object.keys(files).length, 'samples into', OUT);
setTimeout(() => process.exit(0), 200).unref();

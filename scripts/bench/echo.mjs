// npm run bench -- echo: socketlab echo vs a plain node:net pipe echo vs socat, same run, same machine.
// Round trips/s with 64-byte messages at 1 and 50 connections, and bulk MiB/s; printed as ratios and
// written to results/bench-echo.json. Every server and load process is stopped at the end.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = `${root}dist/cli.js`;
const load = fileURLToPath(new URL('./echo-load.mjs', import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
mkdirSync(`${root}results`, { recursive: true });
const logFile = `${root}results/bench-echo-server.log`;
rmSync(logFile, { force: true });

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function waitListening(port) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on ${port} did not start`);
}

const servers = {
  socketlab: (port) => spawn(process.execPath, [cli, '--log-file', logFile, 'echo', '--tcp', '--port', String(port)], { stdio: 'ignore' }),
  'node-pipe': (port) => spawn(process.execPath, ['-e', `require('net').createServer({noDelay:true},s=>{s.on('error',()=>{});s.pipe(s)}).listen(${port},'127.0.0.1')`], { stdio: 'ignore' }),
  socat: (port) => spawn('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr,nodelay`, 'PIPE'], { stdio: 'ignore' }),
};

function runLoad(args) {
  const r = spawnSync(process.execPath, [load, ...args.map(String)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`load failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const hasSocat = spawnSync('sh', ['-c', 'command -v socat']).status === 0;
const results = {};
for (const [name, start] of Object.entries(servers)) {
  if (name === 'socat' && !hasSocat) { console.error('socat missing (apt-get install socat): skipped'); continue; }
  const port = await freePort();
  const proc = start(port);
  try {
    await waitListening(port);
    const r = { rtt1: [], rtt50: [], bulk: [] };
    for (let i = 0; i < repeats; i++) {
      r.rtt1.push(runLoad(['rtt', port, 1, seconds]).perSecond);
      r.rtt50.push(runLoad(['rtt', port, 50, seconds]).perSecond);
      r.bulk.push(runLoad(['bulk', port, seconds]).mibPerSecond);
    }
    results[name] = { rtt1: median(r.rtt1), rtt50: median(r.rtt50), bulkMibPerSecond: median(r.bulk), samples: r };
    console.error(`${name}: done`);
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}

const ratio = (a, b) => (a && b ? Number((a / b).toFixed(2)) : null);
const s = results.socketlab;
const summary = {
  machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
  settings: { seconds, repeats, messageBytes: 64, socketlabLogLevel: 'info (default), to a file' },
  results,
  ratios: {
    vsNodePipe: { rtt1: ratio(s?.rtt1, results['node-pipe']?.rtt1), rtt50: ratio(s?.rtt50, results['node-pipe']?.rtt50), bulk: ratio(s?.bulkMibPerSecond, results['node-pipe']?.bulkMibPerSecond) },
    vsSocat: { rtt1: ratio(s?.rtt1, results.socat?.rtt1), rtt50: ratio(s?.rtt50, results.socat?.rtt50), bulk: ratio(s?.bulkMibPerSecond, results.socat?.bulkMibPerSecond) },
    nodePipeVsSocat: { rtt50: ratio(results['node-pipe']?.rtt50, results.socat?.rtt50) },
  },
  targets: { 'socketlab/node-pipe rtt50': '>= 0.9', 'socketlab/socat rtt50': '>= 2.0' },
};
writeFileSync(`${root}results/bench-echo.json`, JSON.stringify(summary, null, 2) + '\n');

const fmt = (n) => (n === undefined ? '-' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
console.log('echo benchmark (median of %d runs, %d s each; 64-byte round trips, bulk 64 KiB writes)', repeats, seconds);
console.log('server        rtt/s @1     rtt/s @50    bulk MiB/s');
for (const [name, r] of Object.entries(results)) console.log(`${name.padEnd(12)}  ${fmt(r.rtt1).padStart(10)}  ${fmt(r.rtt50).padStart(11)}  ${fmt(r.bulkMibPerSecond).padStart(10)}`);
console.log('ratios: socketlab/node-pipe rtt@1 %s, rtt@50 %s, bulk %s (target rtt@50 >= 0.9)', summary.ratios.vsNodePipe.rtt1, summary.ratios.vsNodePipe.rtt50, summary.ratios.vsNodePipe.bulk);
console.log('        socketlab/socat     rtt@1 %s, rtt@50 %s, bulk %s (target rtt@50 >= 2.0); node-pipe/socat rtt@50 %s', summary.ratios.vsSocat.rtt1, summary.ratios.vsSocat.rtt50, summary.ratios.vsSocat.bulk, summary.ratios.nodePipeVsSocat.rtt50);
console.log('written: results/bench-echo.json');

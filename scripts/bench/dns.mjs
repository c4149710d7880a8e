#!/usr/bin/env node
// npm run bench -- dns [--seconds N] [--rounds N] [--unpinned] [--no-profile]
// dnsperf (Debian package) against `socketlab dns serve` and against dnsmasq serving the same
// records (authoritative data only, no upstream: --no-resolv), over UDP and TCP, in the same run,
// plus a bare node:dgram echo over UDP: the floor of any Node UDP server on this machine.
// Servers run pinned to core 0 and dnsperf to core 1 (taskset); the servers take turns round by
// round and the ratios are per-round (median, min-max). socketlab logs every query at its default
// level (info) to a log file, as it would in a lab (counted and emptied after each of its runs).
// Afterwards two more UDP runs of socketlab under --cpu-prof say where its time goes in steady
// state (the second run only). Everything runs on 127.0.0.1; every run is bounded by dnsperf -l
// (seconds) and a kill timer. Appends its summary to results/history.jsonl.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, statSync, openSync, readSync, closeSync, ftruncateSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendHistory, CORES, fmtRatio, onCore, pinningFrom, ratioStats, stats } from './lib.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/cli.js');
const zoneFile = join(root, 'examples/zones/example.zone');
const args = process.argv.slice(2);
const argOf = (flag, def) => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const seconds = argOf('--seconds', 5);
const rounds = argOf('--rounds', 7);
const pin = pinningFrom(args);
const profile = !args.includes('--no-profile');
/** Peak RSS (VmHWM) of a process in MiB: what it needed at full load. */
const peakRssMiB = (pid) => {
  try {
    return Number((Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024).toFixed(1));
  } catch {
    return null;
  }
};
const spawnPinned = (cmd, argv, opts) => {
  const [c, a] = onCore(pin, CORES.server, cmd, argv);
  return spawn(c, a, opts);
};

for (const tool of ['dnsperf', 'dnsmasq']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`bench dns: ${tool} is missing (apt-get install ${tool === 'dnsmasq' ? 'dnsmasq-base' : 'dnsperf'})`);
    process.exit(2);
  }
}
try {
  statSync(cli);
} catch {
  console.error('bench dns: dist/cli.js is missing: run npm run build first');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'socketlab-bench-dns-'));
const queries = [
  'www.example.com A',
  'www.example.com AAAA',
  'example.com MX',
  'info.example.com TXT',
  '_sip._udp.example.com SRV',
  'mail.example.com A',
  'ns1.example.com A',
  'sip.example.com A',
];
const queryFile = join(dir, 'queries.txt');
writeFileSync(queryFile, queries.join('\n') + '\n');

// dnsmasq with the same answers, from its own config, no upstream resolver at all.
const dnsmasqConf = join(dir, 'dnsmasq.conf');
writeFileSync(
  dnsmasqConf,
  [
    'no-resolv',
    'no-hosts',
    'no-poll',
    'bind-interfaces',
    'listen-address=127.0.0.1',
    'except-interface=*',
    'interface=lo',
    'host-record=www.example.com,192.0.2.80,2001:db8::80',
    'host-record=mail.example.com,192.0.2.25',
    'host-record=ns1.example.com,192.0.2.53',
    'host-record=sip.example.com,192.0.2.60',
    'mx-host=example.com,mail.example.com,10',
    'txt-record=info.example.com,"socketlab example zone","second string in the same record"',
    'srv-host=_sip._udp.example.com,sip.example.com,5060,10,60',
    'local=/example.com/',
    'cache-size=1000',
  ].join('\n') + '\n',
);

function waitFor(child, re, what) {
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`${what} not ready: ${out}`)), 15_000);
    const on = (d) => {
      out += d.toString();
      if (re.test(out)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}): ${out}`)));
  });
}

async function startSocketlab(port, nodeFlags = []) {
  const logFile = join(dir, `socketlab-${port}.log`);
  const child = spawnPinned(process.execPath, [...nodeFlags, cli, '--log-file', logFile, 'dns', 'serve', '--zone', zoneFile, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SOCKETLAB_LOG_LEVEL: 'info' },
  });
  await waitFor(child, /socketlab-dns listening on /, 'socketlab dns');
  return { child, logFile };
}

async function startDnsmasq(port) {
  const child = spawnPinned('dnsmasq', ['-k', `--conf-file=${dnsmasqConf}`, `--port=${port}`, '--pid-file=', '--log-facility=-', '--user=root'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(child, /started, version/, 'dnsmasq');
  return { child };
}

// Reference floor: the least a Node UDP server can do per datagram (flip QR, send it back) — not a
// DNS server, just how fast node:dgram itself goes on this machine in this run.
const ECHO_SRC = `
const dgram = require('node:dgram');
const s = dgram.createSocket({ type: 'udp4', lookup: (a, f, cb) => cb(null, a, 4) });
s.on('message', (b, r) => { b[2] |= 0x80; s.send(b, r.port, r.address); });
s.bind(Number(process.argv[1]), '127.0.0.1', () => console.log('ready'));
`;
async function startNodeEcho(port) {
  const child = spawnPinned(process.execPath, ['-e', ECHO_SRC, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(child, /ready/, 'node echo');
  return { child };
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function dnsperf(port, mode) {
  // 10 clients, 100 queries outstanding: enough to keep one server core busy
  const [cmd, argv] = onCore(pin, CORES.load, 'dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-m', mode, '-d', queryFile, '-l', String(seconds), '-c', '10', '-q', '100', '-t', '2']);
  const r = spawnSync(cmd, argv, {
    encoding: 'utf8',
    timeout: (seconds + 20) * 1000,
  });
  const out = r.stdout + r.stderr;
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : NaN;
  };
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    noerror: num(/NOERROR (\d+)/),
    avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    raw: Number.isNaN(num(/Queries per second:\s+([\d.]+)/)) ? out : undefined,
  };
}

/**
 * Counts the query records in socketlab's log file, then empties the file: called after each
 * socketlab run, once the server is idle and its last batch written (it flushes every 200 ms).
 * Left to grow, the log reached ~4 GB over a run, and the kernel wrote it back to disk during the
 * later rounds (kworker and the journal, on either core): socketlab's UDP runs fell from 160,000 to
 * 130,000 qps over one run, the echo's and dnsmasq's, which log nothing, fell too. Truncated, the
 * pages are dropped before writeback starts; the server's write(2) of each record into the page
 * cache still counts. The server appends (O_APPEND): its next write lands at the new end.
 */
let logLines = 0;
async function takeLog(file) {
  await new Promise((r) => setTimeout(r, 300));
  const fd = openSync(file, 'r+');
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    const needle = Buffer.from('"event":"dns.query"');
    let carry = Buffer.alloc(0);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      const buf = Buffer.concat([carry, chunk.subarray(0, n)]);
      for (let i = buf.indexOf(needle); i >= 0; i = buf.indexOf(needle, i + 1)) logLines++;
      carry = Buffer.from(buf.subarray(Math.max(0, buf.length - needle.length + 1)));
    }
    ftruncateSync(fd, 0);
  } finally {
    closeSync(fd);
  }
}

const base = 20000 + Math.floor(Math.random() * 20000);
const results = [];
const memory = {};
let sl;
let dm;
let echo;
try {
  sl = await startSocketlab(base);
  dm = await startDnsmasq(base + 1);
  echo = await startNodeEcho(base + 2);
  // Alternate the two servers, several rounds, and compare medians: the machine is shared, and
  // load that comes and goes should hit both sides alike.
  const median = (runs) => {
    const sorted = [...runs].sort((x, y) => x.qps - y.qps);
    return { ...sorted[Math.floor(sorted.length / 2)], runs: runs.map((r) => Math.round(r.qps)), completedAllRuns: runs.reduce((n, r) => n + (r.completed || 0), 0) };
  };
  // warm-up (JIT) for each, not reported
  dnsperf(base, 'udp');
  await takeLog(sl.logFile);
  dnsperf(base + 2, 'udp');
  for (const mode of ['udp', 'tcp']) {
    const a = [];
    const b = [];
    const c = [];
    for (let i = 0; i < rounds; i++) {
      // each round starts with the next server: none always runs first or right after another
      const runs = [
        async () => {
          a.push(dnsperf(base, mode));
          await takeLog(sl.logFile);
        },
        () => b.push(dnsperf(base + 1, mode)),
        ...(mode === 'udp' ? [() => c.push(dnsperf(base + 2, mode))] : []),
      ];
      for (let k = 0; k < runs.length; k++) await runs[(i + k) % runs.length]();
    }
    const sa = median(a);
    const sb = median(b);
    const floor = c.length ? median(c) : undefined;
    const q = (xs) => xs.map((x) => x.qps);
    results.push({
      mode,
      socketlab: sa,
      dnsmasq: sb,
      ratio: sa.qps / sb.qps,
      ratioVsDnsmasq: ratioStats(q(a), q(b)),
      ...(c.length ? { ratioVsNodeEcho: ratioStats(q(a), q(c)) } : {}),
      nodeEchoFloor: floor ? { qps: floor.qps, runs: floor.runs, ratioToDnsmasq: floor.qps / sb.qps } : null,
    });
  }
  memory.socketlabPeakRssMiB = peakRssMiB(sl.child.pid);
  memory.dnsmasqPeakRssMiB = peakRssMiB(dm.child.pid);
} finally {
  if (sl) {
    await stop(sl.child);
    // what the server wrote on its way out
    await takeLog(sl.logFile).catch(() => {}); // no log file: nothing was written
  }
  if (dm) await stop(dm.child);
  if (echo) await stop(echo.child);
}
// Where socketlab's time goes: one more UDP run under --cpu-prof, self time summed per function.
let cpuProfile = null;
if (profile) {
  const profDir = join(dir, 'prof');
  mkdirSync(profDir);
  // Only the second run counts: start-up (module loading, compiling), the warm-up run (JIT) and
  // shutdown (the exit flush of the log file) are not the steady state being asked about.
  const spawnedAt = performance.now();
  const p = await startSocketlab(base + 3, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  let window;
  try {
    dnsperf(base + 3, 'udp');
    const from = performance.now() - spawnedAt;
    dnsperf(base + 3, 'udp');
    const to = performance.now() - spawnedAt;
    // profile time starts a little after spawn (node's boot): keep a margin at both ends
    window = [(from + 250) * 1000, (to - 250) * 1000];
  } finally {
    await stop(p.child);
  }
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (file) cpuProfile = summarizeProfile(JSON.parse(readFileSync(join(profDir, file), 'utf8')), window);
}

/**
 * Self time per function (name + file:line), top entries, as shares of the samples taken within
 * `window` ([from, to] in µs since the profile started).
 */
function summarizeProfile(prof, window) {
  const dt = new Map();
  let t = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] ?? 0;
    if (window && (t < window[0] || t > window[1])) continue;
    dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const total = [...dt.values()].reduce((a, b) => a + b, 0) || 1;
  const byFn = new Map();
  for (const n of prof.nodes) {
    const f = n.callFrame;
    const where = f.url ? `${f.url.replace(/^file:\/\//, '').replace(root, '')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + (dt.get(n.id) ?? 0));
  }
  const top = [...byFn.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([fn, us]) => ({ fn, share: Number((us / total).toFixed(3)) }));
  const share = (re) => Number(([...byFn.entries()].filter(([k]) => re.test(k)).reduce((a, [, v]) => a + v, 0) / total).toFixed(3));
  return {
    top,
    // queryLog: its code and its file writes (writeBuffer: the UDP run writes nothing else with it)
    groups: { idle: share(/^\(idle\)/), garbageCollector: share(/^\(garbage collector\)/), socketlab: share(/dist\//), queryLog: share(/dist\/dns\/query-log\.js|^writeBuffer$/), nodeInternals: share(/node:/), pino: share(/node_modules\/pino/) },
  };
}

rmSync(dir, { recursive: true, force: true });

const report = {
  benchmark: 'dns',
  pinned: pin ? { server: `core ${CORES.server}`, dnsperf: `core ${CORES.load}` } : false,
  memory,
  cpuProfile,
  date: new Date().toISOString(),
  seconds,
  rounds,
  queries,
  logging: 'info level, one record per query, to --log-file',
  queryLogRecords: logLines,
  // every completed query should have its record (plus the few dnsperf gave up on)
  queriesCompletedBySocketlab: results.reduce((n, r) => n + r.socketlab.completedAllRuns, 0),
  results,
};
mkdirSync(join(root, 'results'), { recursive: true });
writeFileSync(join(root, 'results/bench-dns.json'), JSON.stringify(report, null, 2) + '\n');
appendHistory(root, {
  benchmark: 'dns',
  pinned: Boolean(pin),
  settings: { seconds, rounds, clients: 10, outstanding: 100, logging: report.logging },
  ratios: Object.fromEntries(results.map((r) => [r.mode, { vsDnsmasq: r.ratioVsDnsmasq, ...(r.ratioVsNodeEcho ? { vsNodeEcho: r.ratioVsNodeEcho } : {}) }])),
  medians: Object.fromEntries(results.map((r) => [r.mode, { socketlab: r.socketlab.qps, dnsmasq: r.dnsmasq.qps, ...(r.nodeEchoFloor ? { nodeEcho: r.nodeEchoFloor.qps } : {}) }])),
  memory,
  profileGroups: cpuProfile?.groups ?? null,
});

const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
console.log(`dnsperf ${pin ? 'pinned (servers core 0, dnsperf core 1)' : 'UNPINNED'}, median of ${rounds} alternating runs of ${seconds} s, 127.0.0.1; socketlab logged ${logLines.toLocaleString('en-US')} query records for ${report.queriesCompletedBySocketlab.toLocaleString('en-US')} completed queries`);
console.log('transport  socketlab qps  dnsmasq qps  ratio   socketlab lost  dnsmasq lost   runs (socketlab | dnsmasq)');
for (const r of results) {
  console.log(
    `${r.mode.padEnd(9)}  ${fmt(r.socketlab.qps).padStart(13)}  ${fmt(r.dnsmasq.qps).padStart(11)}  ${(Number.isFinite(r.ratio) ? r.ratio.toFixed(2) + 'x' : 'n/a').padStart(5)}   ${fmt(r.socketlab.lost).padStart(14)}  ${fmt(r.dnsmasq.lost).padStart(12)}   ${r.socketlab.runs.join(' ')} | ${r.dnsmasq.runs.join(' ')}`,
  );
  for (const [who, x] of [['socketlab', r.socketlab], ['dnsmasq', r.dnsmasq]]) if (x.raw) console.log(`${who} ${r.mode} dnsperf output:\n${x.raw}`);
}
const udp = results.find((r) => r.mode === 'udp');
if (udp?.nodeEchoFloor) {
  console.log(`reference: a bare node:dgram echo (no DNS, no logging) did ${fmt(udp.nodeEchoFloor.qps)} qps over udp = ${udp.nodeEchoFloor.ratioToDnsmasq.toFixed(2)}x dnsmasq (runs ${udp.nodeEchoFloor.runs.join(' ')})`);
}
for (const r of results) {
  console.log(`${r.mode}: socketlab/dnsmasq ${fmtRatio(r.ratioVsDnsmasq)}${r.ratioVsNodeEcho ? `, socketlab/node:dgram echo ${fmtRatio(r.ratioVsNodeEcho)} (target >= 0.95)` : ' (target >= 5)'}`);
}
console.log(`peak RSS at full load: socketlab ${memory.socketlabPeakRssMiB} MiB, dnsmasq ${memory.dnsmasqPeakRssMiB} MiB`);
if (cpuProfile) {
  const g = cpuProfile.groups;
  console.log(`where socketlab's time went (one warm UDP run, --cpu-prof, start-up and exit excluded): idle ${(g.idle * 100).toFixed(0)}%, socketlab code ${(g.socketlab * 100).toFixed(0)}% (query log with its file writes ${(g.queryLog * 100).toFixed(0)}%), pino ${(g.pino * 100).toFixed(0)}%, node internals ${(g.nodeInternals * 100).toFixed(0)}%, GC ${(g.garbageCollector * 100).toFixed(0)}%`);
  for (const t of cpuProfile.top.slice(0, 10)) console.log(`  ${(t.share * 100).toFixed(1).padStart(5)}%  ${t.fn}`);
}
console.log('results written to results/bench-dns.json, appended to results/history.jsonl');

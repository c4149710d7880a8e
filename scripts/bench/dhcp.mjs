#!/usr/bin/env node
// npm run bench -- dhcp [--seconds N] [--rates 1000,2000,...] [--max-seconds N] [--unpinned]
// perfdhcp (Debian package kea-admin) runs full DORA exchanges against `socketlab dhcp serve` and
// against ISC Kea (kea-dhcp4-server, memfile lease file with persist on) in the same run, each in its
// own network namespace on one /16 lab segment. perfdhcp acts as a relay (giaddr = its address),
// so both servers answer unicast. For each offered rate the two servers are measured back to back,
// so both see the same machine load. Reported per server: the highest offered rate with no drops
// (perfdhcp drops <= 0.1% of sent; after each period perfdhcp waits 0.5 s (-W) for answers still
// in flight, so only requests never answered count) and the maximum achieved rate (ACKs received
// per second of the period). socketlab ACKs only after the lease row is fsync'ed; Kea's
// memfile appends without fsync. Both servers run pinned to core 0 and perfdhcp to core 1 (taskset),
// and at each rate the two take turns. Bounded: each perfdhcp run is -p seconds, the whole run
// --max-seconds. Appends its summary to results/history.jsonl.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync, mkdirSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendHistory, CORES, onCore, pinningFrom, rssKiB } from './lib.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const argOf = (flag, def) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : def;
};
const seconds = Number(argOf('--seconds', '3'));
const maxSeconds = Number(argOf('--max-seconds', '300'));
const rates = argOf('--rates', '500,1000,2000,3000,4000,5000,6000,8000,10000,12000,14000,16000,18000,20000,22000,25000').split(',').map(Number);
const DROP_TOLERANCE = 0.001;
const EXIT_WAIT_US = 500_000;
const pin = pinningFrom(args);

if (process.getuid?.() !== 0) {
  console.error('bench dhcp: needs root (network namespaces, port 67)');
  process.exit(2);
}
for (const [tool, pkg] of [['perfdhcp', 'kea-admin'], ['kea-dhcp4', 'kea-dhcp4-server'], ['ip', 'iproute2']]) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`bench dhcp: ${tool} is missing (apt-get install ${pkg})`);
    process.exit(2);
  }
}
try {
  statSync(join(root, 'dist/cli.js'));
  statSync(join(root, 'dist/netns/index.js'));
} catch {
  console.error('bench dhcp: dist/ is missing: run npm run build first');
  process.exit(2);
}
const { createTopology } = await import(join(root, 'dist/netns/index.js'));
const { readLeaseFile } = await import(join(root, 'dist/dhcp/lease-store.js'));

const dir = mkdtempSync(join(tmpdir(), 'socketlab-bench-dhcp-'));
const slLeases = join(dir, 'socketlab-leases4.csv');
const keaLeases = join(dir, 'kea-leases4.csv');
const keaConf = join(dir, 'kea-dhcp4.json');
writeFileSync(
  keaConf,
  JSON.stringify(
    {
      Dhcp4: {
        'interfaces-config': { interfaces: ['eth0'], 'dhcp-socket-type': 'udp' },
        'lease-database': { type: 'memfile', persist: true, name: keaLeases, 'lfc-interval': 0 },
        'valid-lifetime': 3600,
        subnet4: [{ id: 1, subnet: '10.50.0.0/16', pools: [{ pool: '10.50.1.0 - 10.50.255.250' }] }],
        loggers: [{ name: 'kea-dhcp4', severity: 'WARN', output_options: [{ output: 'stderr' }] }],
      },
    },
    null,
    2,
  ),
);

// Every socket of the run gets the receive buffer socketlab asks for its own (4 MiB, which the
// kernel doubles, capped by net.core.rmem_max): Kea and perfdhcp keep the system default, 208 KiB,
// and a burst then overflowed Kea's buffer (its drops from 12,000/s were all RcvbufErrors) or
// perfdhcp's own (a group commit releases the ACKs of a slow fsync together: 104 ACKs that had
// reached perfdhcp's host were lost in its socket at 8,000/s). The default is global, not per
// network namespace: raised once the topology is up (whose teardown on Ctrl-C ends in process exit)
// and put back at the end, on an error or at exit.
const RMEM_DEFAULT = '/proc/sys/net/core/rmem_default';
const rmemBefore = readFileSync(RMEM_DEFAULT, 'utf8').trim();
const rmemRun = 2 * Math.min(4 * 1024 * 1024, Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim()));
const restoreRmem = () => {
  try {
    writeFileSync(RMEM_DEFAULT, rmemBefore);
  } catch {
    // not writable (not root): nothing was changed
  }
};

const started = Date.now();
const timeLeft = () => maxSeconds * 1000 - (Date.now() - started);
const topo = await createTopology({
  id: `b${Math.random().toString(36).slice(2, 6)}`,
  hosts: [{ name: 'sl' }, { name: 'kea' }, { name: 'perf' }],
  segments: [{ name: 'lan', members: [{ host: 'sl', address: '10.50.0.1/16' }, { host: 'kea', address: '10.50.0.3/16' }, { host: 'perf', address: '10.50.0.2/16' }] }],
});
process.once('exit', restoreRmem);
writeFileSync(RMEM_DEFAULT, String(Math.max(rmemRun, Number(rmemBefore))));

const waitOutput = (child, re, what, ms = 15_000) =>
  new Promise((resolve, reject) => {
    let text = '';
    const t = setTimeout(() => reject(new Error(`${what} not ready after ${ms} ms: ${text}`)), ms);
    const on = (d) => {
      text += d;
      if (re.test(text)) {
        clearTimeout(t);
        resolve(text);
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.on('close', (code) => reject(new Error(`${what} exited (${code}): ${text.slice(-2000)}`)));
  });

function parsePerf(out) {
  const rate = Number(/Rate: ([\d.]+) 4-way exchanges\/second/.exec(out)?.[1] ?? 0);
  const block = (name) => {
    const i = out.indexOf(`***Statistics for: ${name}***`);
    const s = i >= 0 ? out.slice(i, i + 600) : '';
    const num = (k) => Number(new RegExp(`${k}: ([\\d.]+)`).exec(s)?.[1] ?? 0);
    return { sent: num('sent packets'), received: num('received packets'), drops: num('drops'), avgDelayMs: num('avg delay') };
  };
  return { rate, discoverOffer: block('DISCOVER-OFFER'), requestAck: block('REQUEST-ACK') };
}

const targets = { socketlab: { ip: '10.50.0.1', runs: [], stopped: false }, kea: { ip: '10.50.0.3', runs: [], stopped: false } };
let sl;
let kea;
let restart;

/**
 * Restart time with RESTART_ROWS lease rows: the file a long run leaves before compaction (the
 * 50,000 clients' leases renewed 20 times each, last row per address wins). socketlab: from spawn
 * to its "listening" line, which it prints after reading, compacting (new file, fsync, rename) and
 * loading the leases. Kea gets the same leases in its own file layout and is timed from spawn to
 * DHCP4_STARTED (logged at INFO once its lease database is loaded). An empty file gives each
 * server's start-up without leases.
 */
const RESTART_ROWS = 1_000_000;
async function measureRestart() {
  const { formatLeaseRow, LEASE_HEADER } = await import(join(root, 'dist/dhcp/lease-store.js'));
  const keaHeader = readFileSync(keaLeases, 'utf8').split('\n')[0];
  const distinctAddrs = 50_000;
  const now = Math.floor(Date.now() / 1000);
  const writeRows = (file, header, row) => {
    writeFileSync(file, header + '\n');
    for (let i = 0; i < RESTART_ROWS; i += 50_000) {
      let text = '';
      for (let k = i; k < Math.min(RESTART_ROWS, i + 50_000); k++) {
        const n = k % distinctAddrs;
        const address = `10.50.${1 + (n >> 8)}.${n & 255}`;
        const hwaddr = `00:0c:01:${((n >> 16) & 255).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
        text += row({ address, hwaddr, clientId: '', validLifetime: 3600, expire: now + 3600 + Math.floor(k / distinctAddrs), subnetId: 1, hostname: '', state: 0 });
      }
      appendFileSync(file, text);
    }
  };
  // Kea's layout for the same lease: its own header (its version decides the columns)
  const keaCols = keaHeader.split(',');
  const keaRow = (r) => keaCols.map((c) => ({ address: r.address, hwaddr: r.hwaddr, client_id: '', valid_lifetime: r.validLifetime, expire: r.expire, subnet_id: r.subnetId, fqdn_fwd: 0, fqdn_rev: 0, hostname: '', state: 0, user_context: '', pool_id: 0 })[c] ?? '').join(',') + '\n';
  const timeTo = async (spawnIt, re, what) => {
    const t0 = performance.now();
    const child = spawnIt();
    const stop = () => {
      const gone = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
      child.kill('SIGTERM');
      return gone;
    };
    const text = await waitOutput(child, re, what, 120_000).catch(async (err) => {
      await stop();
      throw err;
    });
    const ms = Math.round(performance.now() - t0);
    child.removeAllListeners('close');
    await stop();
    return { ms, text };
  };
  const out = { rows: RESTART_ROWS, distinctLeases: distinctAddrs };
  for (const [label, rows] of [['empty', 0], ['full', RESTART_ROWS]]) {
    const slFile = join(dir, `restart-${label}-socketlab.csv`);
    const keaFile = join(dir, `restart-${label}-kea.csv`);
    if (rows) {
      writeRows(slFile, LEASE_HEADER, formatLeaseRow);
      writeRows(keaFile, keaHeader, keaRow);
    } else {
      writeFileSync(slFile, LEASE_HEADER + '\n');
      writeFileSync(keaFile, keaHeader + '\n');
    }
    const bytesBefore = statSync(slFile).size;
    const slRun = await timeTo(
      () => topo.hosts.sl.spawn(...onCore(pin, CORES.server, process.execPath, [join(root, 'dist/cli.js'), 'dhcp', 'serve', '-i', 'eth0', '--subnet', '10.50.0.0/16', '--range', '10.50.1.0-10.50.255.250', '--lease-time', '3600', '--leases', slFile, '--log-level', 'warn'])),
      /^socketlab-dhcp listening on [\s\S]*lease\(s\) loaded/m,
      'socketlab dhcp serve (restart)',
    );
    const loaded = Number(/(\d+) lease\(s\) loaded/.exec(slRun.text)?.[1] ?? NaN);
    const conf = join(dir, `kea-restart-${label}.json`);
    const c = JSON.parse(readFileSync(keaConf, 'utf8'));
    c.Dhcp4['lease-database'].name = keaFile;
    c.Dhcp4.loggers[0].severity = 'INFO';
    writeFileSync(conf, JSON.stringify(c));
    const keaRun = await timeTo(
      () => topo.hosts.kea.spawn(...onCore(pin, CORES.server, 'kea-dhcp4', ['-c', conf]), { env: { ...process.env, KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir } }),
      /DHCP4_STARTED/,
      'kea-dhcp4 (restart)',
    );
    out[label] = { socketlabMs: slRun.ms, socketlabLeasesLoaded: loaded, socketlabFileBytesBefore: bytesBefore, socketlabFileBytesAfter: statSync(slFile).size, keaMs: keaRun.ms };
    console.log(`restart with ${rows.toLocaleString('en-US')} lease rows: socketlab ${slRun.ms} ms (${loaded} leases loaded, file ${(bytesBefore / 1e6).toFixed(1)} -> ${(statSync(slFile).size / 1e6).toFixed(1)} MB compacted), Kea ${keaRun.ms} ms`);
  }
  return out;
}
let ok = false;
const memory = {};
try {
  sl = topo.hosts.sl.spawn(...onCore(pin, CORES.server, process.execPath, [join(root, 'dist/cli.js'), 'dhcp', 'serve', '-i', 'eth0', '--subnet', '10.50.0.0/16', '--range', '10.50.1.0-10.50.255.250', '--lease-time', '3600', '--leases', slLeases, '--log-level', 'warn']));
  await waitOutput(sl, /^socketlab-dhcp listening on /m, 'socketlab dhcp serve');
  kea = topo.hosts.kea.spawn(...onCore(pin, CORES.server, 'kea-dhcp4', ['-c', keaConf]), { env: { ...process.env, KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir } });
  kea.stderr.on('data', () => undefined);
  kea.stdout.on('data', () => undefined);
  await new Promise((r) => setTimeout(r, 1500)); // Kea prints nothing reliable at WARN; give it time to open its sockets
  if (kea.exitCode !== null) throw new Error('kea-dhcp4 exited at start');

  // Kernel UDP counters per namespace: where datagrams were dropped (RcvbufErrors: a receive
  // buffer overflowed) tells a slow server from a starved load generator.
  const udp = async (host) => {
    const lines = (await topo.hosts[host].exec('cat', ['/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Udp:'));
    const [keys, vals] = lines.map((l) => l.split(/\s+/).slice(1));
    return Object.fromEntries(keys.map((k, i) => [k, Number(vals[i])]));
  };
  const perf = async (ip, rate, period, seed) => {
    // -g single: perfdhcp's multi-thread mode busy-waits and steals the CPU the servers need.
    // -W: after the period perfdhcp sends nothing more and waits EXIT_WAIT_US for the answers still
    // on their way; without it every exchange in flight when the period ends counts as dropped,
    // which charges a server for its latency (an fsync per ACK) rather than for lost requests.
    const r = await topo.hosts.perf.exec(...onCore(pin, CORES.load, 'perfdhcp', ['-4', '-g', 'single', '-l', 'eth0', '-r', String(rate), '-R', '50000', '-s', String(seed), '-p', String(period), '-W', String(EXIT_WAIT_US), ip]), { timeoutMs: (period + 10) * 1000 });
    const parsed = parsePerf(r.stdout);
    // perfdhcp's own Rate divides by the period plus the wait: exchanges completed per second of sending
    parsed.rate = parsed.requestAck.received / period;
    return parsed;
  };
  // warm-up (JIT, ARP, first leases) for both, not reported
  await perf(targets.socketlab.ip, 500, 1, 1);
  await perf(targets.kea.ip, 500, 1, 1);

  let seed = 10;
  for (const rate of rates) {
    for (const [name, t] of Object.entries(targets)) {
      if (t.stopped || timeLeft() < (seconds + 10) * 1000) continue;
      const host = name === 'socketlab' ? 'sl' : 'kea';
      const [s0, p0] = [await udp(host), await udp('perf')];
      const r = await perf(t.ip, rate, seconds, seed++);
      const [s1, p1] = [await udp(host), await udp('perf')];
      r.rcvbufErrors = { server: s1.RcvbufErrors - s0.RcvbufErrors, perfdhcp: p1.RcvbufErrors - p0.RcvbufErrors };
      const sent = r.discoverOffer.sent + r.requestAck.sent;
      const drops = r.discoverOffer.drops + r.requestAck.drops;
      const run = { offered: rate, achieved: r.rate, drops, sent, dropRatio: sent ? drops / sent : 1, dropFree: sent > 0 && drops / sent <= DROP_TOLERANCE, ...r };
      t.runs.push(run);
      console.log(
        `${name.padEnd(9)} offered ${String(rate).padStart(6)}/s  achieved ${r.rate.toFixed(0).padStart(6)}/s  drops ${drops}/${sent}` +
          `  (receive-buffer overflows: server ${r.rcvbufErrors.server}, perfdhcp ${r.rcvbufErrors.perfdhcp})`,
      );
      // two steps in a row far below the offered rate: the server is saturated, stop climbing
      const last = t.runs.slice(-2);
      if (last.length === 2 && last.every((x) => x.achieved < 0.7 * x.offered)) t.stopped = true;
    }
  }
  memory.socketlabRssMiB = Number(((rssKiB(sl.pid) ?? 0) / 1024).toFixed(1));
  memory.keaRssMiB = Number(((rssKiB(kea.pid) ?? 0) / 1024).toFixed(1));
  const exited = (child) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
  sl.kill('SIGTERM');
  kea.kill('SIGTERM');
  await Promise.all([exited(sl), exited(kea)]);
  sl = kea = undefined;
  restart = await measureRestart();
  ok = true;
} finally {
  sl?.kill('SIGTERM');
  kea?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  await topo.close();
  restoreRmem();
}

const summary = (t) => {
  const free = t.runs.filter((r) => r.dropFree).map((r) => r.offered);
  return { dropFreeRate: free.length ? Math.max(...free) : 0, maxRate: Math.max(0, ...t.runs.map((r) => r.achieved)) };
};
const s = summary(targets.socketlab);
const k = summary(targets.kea);
// Every ACK perfdhcp received from socketlab was preceded by an appended, fsync'ed lease row.
const ackedBySocketlab = targets.socketlab.runs.reduce((n, r) => n + r.requestAck.received, 0);
let slRows = 0;
try {
  slRows = readFileSync(slLeases, 'utf8').split('\n').filter((l) => /^\d/.test(l)).length;
} catch {
  // no file: no leases
}
const distinct = (() => {
  try {
    return readLeaseFile(slLeases).length;
  } catch {
    return 0;
  }
})();
const ratio = (a, b) => (b > 0 ? Number((a / b).toFixed(2)) : null);
const result = {
  benchmark: 'dhcp',
  date: new Date().toISOString(),
  pinned: pin ? { servers: `core ${CORES.server}`, perfdhcp: `core ${CORES.load}` } : false,
  memory,
  complete: ok,
  tool: `perfdhcp -4 -g single -W ${EXIT_WAIT_US} (relay mode, unicast), -R 50000 clients, full DORA`,
  seconds,
  dropTolerance: DROP_TOLERANCE,
  subnet: '10.50.0.0/16 (pool 10.50.1.0-10.50.255.250)',
  logging: 'both servers at warn level',
  receiveBuffers: `net.core.rmem_default ${rmemRun} during the run (was ${rmemBefore}), socketlab's own size for every socket`,
  durability: { socketlab: 'lease row appended and fdatasync-ed (grouped) before each ACK', kea: 'memfile persist=true: appended, no fsync per lease' },
  socketlab: { ...s, acksReceivedByPerfdhcp: ackedBySocketlab, leaseFileRowsAtEnd: slRows, distinctLeases: distinct, runs: targets.socketlab.runs },
  kea: { ...k, runs: targets.kea.runs },
  ratios: { dropFreeRate: ratio(s.dropFreeRate, k.dropFreeRate), maxRate: ratio(s.maxRate, k.maxRate) },
  restart,
};
mkdirSync(join(root, 'results'), { recursive: true });
writeFileSync(join(root, 'results/bench-dhcp.json'), JSON.stringify(result, null, 2) + '\n');
rmSync(dir, { recursive: true, force: true });
appendHistory(root, { benchmark: 'dhcp', pinned: Boolean(pin), complete: ok, seconds, socketlab: s, kea: k, ratios: result.ratios, distinctLeases: distinct, memory, restart });

const row = (name, x, r) => `${name.padEnd(12)}${String(x.dropFreeRate).padStart(16)}${x.maxRate.toFixed(0).padStart(12)}${r.padStart(22)}`;
console.log('\nDHCP DORA exchanges/second (perfdhcp, same run)');
console.log(`${'server'.padEnd(12)}${'drop-free rate'.padStart(16)}${'max rate'.padStart(12)}${'ratio vs Kea (df/max)'.padStart(22)}`);
console.log(row('socketlab', s, `${result.ratios.dropFreeRate}x / ${result.ratios.maxRate}x`));
console.log(row('kea-dhcp4', k, '1x / 1x'));
console.log(`RSS after the run (ip netns exec and taskset exec the server, so the pid is the server's): socketlab ${memory.socketlabRssMiB} MiB, Kea ${memory.keaRssMiB} MiB`);
console.log(`socketlab: ${ackedBySocketlab} ACKs received by perfdhcp (each after its row was fsync'ed), ${slRows} rows in the lease file at the end (compacted in the background), ${distinct} distinct leases`);
console.log('results/bench-dhcp.json written');
if (!ok) process.exit(1);

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { describeRoot } from '../helpers/root.js';
import { runCli } from '../helpers/cli.js';
import { addresses, broadcastRoute, lab, logRecords, probe, readLeaseFile, startIn, startServer, tempDir, waitFor, type Running, type Topology } from './helpers.js';

// One subnet: socketlab's own client, reservations, NAKs and pool exhaustion against the server.
describeRoot('dhcp serve: one subnet', () => {
  let topo: Topology;
  let server: Running;
  const tmp = tempDir();
  const leases = path.join(tmp.dir, 'leases.csv');
  const log = path.join(tmp.dir, 'server.log');
  const RESERVED_MAC = '02:aa:00:00:00:01';

  beforeAll(async () => {
    tmp.make();
    topo = await lab({
      hosts: [{ name: 'srv' }, { name: 'pc' }, { name: 'probe' }],
      segments: [{ name: 'lan', members: [{ host: 'srv', address: '10.0.1.1/24' }, { host: 'pc' }, { host: 'probe' }] }],
    });
    await broadcastRoute(topo.hosts.probe!);
    server = await startServer(topo.hosts.srv!, [
      '-i', 'eth0', '--subnet', '10.0.1.0/24', '--range', '10.0.1.100-10.0.1.105', '--router', '10.0.1.1', '--dns', '10.0.1.1',
      '--reserve', '02-AA-00-00-00-01=10.0.1.50', '--lease-time', '600', '--leases', leases, '--log-file', log,
    ]);
  });
  afterAll(async () => {
    await server?.stop();
    await topo?.close();
    tmp[Symbol.dispose]();
  });

  it('socketlab dhcp client: DORA printed with socket pairs, lease applied; --renew unicasts; --release removes it', async () => {
    const pc = topo.hosts.pc!;
    const state = path.join(tmp.dir, 'client-state.json');
    const got = await pc.exec(process.execPath, [cliPath(), 'dhcp', 'client', '-i', 'eth0', '--once', '--state-file', state], { timeoutMs: 30_000 });
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toMatch(/^-> DISCOVER 0\.0\.0\.0:68 -> 255\.255\.255\.255:67 /m);
    expect(got.stdout).toMatch(/^<- OFFER +10\.0\.1\.1:67 -> 255\.255\.255\.255:68 .*yiaddr=10\.0\.1\.1\d\d/m);
    expect(got.stdout).toMatch(/^-> REQUEST +0\.0\.0\.0:68 -> 255\.255\.255\.255:67 /m);
    expect(got.stdout).toMatch(/^<- ACK /m);
    const addr = /lease (10\.0\.1\.\d+)\/24 on eth0 from 10\.0\.1\.1, router 10\.0\.1\.1/.exec(got.stdout)?.[1];
    expect(addr).toBeDefined();
    expect(await addresses(pc)).toEqual([`${addr}/24`]);
    expect((await pc.exec('ip', ['route', 'show', 'default'])).stdout).toMatch(/default via 10\.0\.1\.1 dev eth0/);

    const renew = await pc.exec(process.execPath, [cliPath(), 'dhcp', 'client', '-i', 'eth0', '--renew', '--json', '--state-file', state], { timeoutMs: 30_000 });
    expect(renew.code, renew.stderr).toBe(0);
    const lines = renew.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ event: 'message', dir: 'send', type: 'REQUEST', from: `${addr}:68`, to: '10.0.1.1:67', ciaddr: addr });
    expect(lines[1]).toMatchObject({ event: 'message', dir: 'recv', type: 'ACK', from: '10.0.1.1:67', to: `${addr}:68` });
    expect(lines.at(-1)).toMatchObject({ event: 'lease', address: addr });

    const rel = await pc.exec(process.execPath, [cliPath(), 'dhcp', 'client', '-i', 'eth0', '--release', '--state-file', state], { timeoutMs: 30_000 });
    expect(rel.code, rel.stderr).toBe(0);
    expect(rel.stdout).toMatch(new RegExp(`RELEASE +${addr!.replaceAll('.', '\\.')}:68 -> 10\\.0\\.1\\.1:67`));
    expect(await addresses(pc)).toEqual([]);
    await waitFor(() => readLeaseFile(leases).find((r) => r.address === addr && r.state === 3), 'released row in the lease file');

    const table = await topo.hosts.srv!.exec(process.execPath, [cliPath(), 'dhcp', 'leases', '--leases', leases]);
    expect(table.stdout).toMatch(new RegExp(`^${addr!.replaceAll('.', '\\.')} .* released `, 'm'));
    const json = await topo.hosts.srv!.exec(process.execPath, [cliPath(), 'dhcp', 'leases', '--leases', leases, '--json']);
    const doc = JSON.parse(json.stdout) as { file: string; leases: { address: string; stateName: string; secondsLeft: number }[] };
    expect(doc.file).toBe(leases);
    expect(doc.leases.find((l) => l.address === addr)).toMatchObject({ stateName: 'released', secondsLeft: 0 });
  });

  it('reservation: the reserved MAC always gets its address (given as AA-BB-..), nobody else does', async () => {
    const p = topo.hosts.probe!;
    const d = await probe(p, ['discover', '--mac', RESERVED_MAC]);
    expect(d[0]).toMatchObject({ result: 'OFFER', address: '10.0.1.50' });
    const a = await probe(p, ['request', '--mac', RESERVED_MAC, '--requested', '10.0.1.50', '--server-id', '10.0.1.1']);
    expect(a[0]).toMatchObject({ result: 'ACK', address: '10.0.1.50' });
    const again = await probe(p, ['discover', '--mac', RESERVED_MAC]);
    expect(again[0]).toMatchObject({ address: '10.0.1.50' });
    const thief = await probe(p, ['request', '--mac', '02:bb:00:00:00:09', '--requested', '10.0.1.50', '--server-id', '10.0.1.1']);
    expect(thief[0]).toMatchObject({ result: 'NAK' });
  });

  it('NAK for a wrong address: another client\'s, off-subnet, and not this client\'s own', async () => {
    const p = topo.hosts.probe!;
    const m = '02:cc:00:00:00:01';
    await probe(p, ['discover', '--mac', m]);
    const off = await probe(p, ['request', '--mac', m, '--requested', '192.168.7.7']);
    expect(off[0]).toMatchObject({ result: 'NAK', message: expect.stringMatching(/not on subnet 10\.0\.1\.0\/24/) });
    const d = await probe(p, ['discover', '--mac', m]);
    const ack = await probe(p, ['request', '--mac', m, '--requested', String(d[0]!.address), '--server-id', '10.0.1.1']);
    expect(ack[0]).toMatchObject({ result: 'ACK' });
    // INIT-REBOOT asking for an address that is not its lease
    const other = String(d[0]!.address) === '10.0.1.105' ? '10.0.1.104' : '10.0.1.105';
    const wrong = await probe(p, ['request', '--mac', m, '--requested', other]);
    expect(wrong[0]).toMatchObject({ result: 'NAK', message: expect.stringMatching(/not this client's address/) });
    expect(logRecords(log).some((r) => r.event === 'dhcp.out' && r.type === 'NAK' && r.to === '255.255.255.255:68')).toBe(true);
  });

  it('option 61 is echoed in OFFER, ACK and NAK (RFC 6842); INIT-REBOOT from an unknown client is not answered, even for another client\'s address (RFC 2131 4.3.2)', async () => {
    const p = topo.hosts.probe!;
    const m = '02:cd:00:00:00:01';
    const cid = '00ff80aabbcc'; // opaque, with bytes above 0x7f
    const d = await probe(p, ['discover', '--mac', m, '--client-id', cid]);
    expect(d[0]).toMatchObject({ result: 'OFFER', clientId: cid });
    const ack = await probe(p, ['request', '--mac', m, '--client-id', cid, '--requested', String(d[0]!.address), '--server-id', '10.0.1.1']);
    expect(ack[0]).toMatchObject({ result: 'ACK', clientId: cid });
    const nak = await probe(p, ['request', '--mac', m, '--client-id', cid, '--requested', '192.168.7.7']);
    expect(nak[0]).toMatchObject({ result: 'NAK', clientId: cid });
    // a stranger INIT-REBOOTs into that address: silence (a NAK is only for the wrong network)
    const stranger = await probe(p, ['request', '--mac', '02:cd:00:00:00:02', '--requested', String(d[0]!.address)]);
    expect(stranger[0]).toMatchObject({ result: 'timeout' });
    const wrongNet = await probe(p, ['request', '--mac', '02:cd:00:00:00:02', '--requested', '192.168.7.7']);
    expect(wrongNet[0]).toMatchObject({ result: 'NAK' });
  });

  it('DECLINE quarantines the address: recorded as declined, offered to nobody', async () => {
    const p = topo.hosts.probe!;
    const m = '02:ee:00:00:00:01';
    const off = await probe(p, ['discover', '--mac', m]);
    const addr = String(off[0]!.address);
    await probe(p, ['request', '--mac', m, '--requested', addr, '--server-id', '10.0.1.1']);
    await probe(p, ['decline', '--mac', m, '--requested', addr, '--server-id', '10.0.1.1']);
    await waitFor(() => readLeaseFile(leases).find((r) => r.address === addr && r.state === 1), 'declined row');
    for (const other of ['02:ee:00:00:00:02', '02:ee:00:00:00:03']) {
      const d = await probe(p, ['discover', '--mac', other]);
      expect(d[0]!.address).not.toBe(addr);
    }
  });

  it('pool exhaustion: no offer and a warning, never a crash; the server still answers afterwards', async () => {
    const p = topo.hosts.probe!;
    const res = await probe(p, ['dora', '--count', '10', '--prefix', '02:dd:00:00', '--concurrency', '1', '--timeout', '700']);
    const acks = res.filter((r) => r.result === 'ACK');
    const none = res.filter((r) => r.result === 'no-offer');
    expect(acks.length).toBeGreaterThan(0);
    expect(none.length).toBeGreaterThan(0);
    expect(new Set(acks.map((r) => r.address)).size).toBe(acks.length);
    for (const a of acks) expect(String(a.address)).toMatch(/^10\.0\.1\.10[0-5]$/);
    await waitFor(() => logRecords(log).some((r) => r.level === 40 && /no free address/.test(String(r.msg))), 'pool warning in the log');
    // still alive: the reserved client is served
    const d = await probe(p, ['discover', '--mac', RESERVED_MAC]);
    expect(d[0]).toMatchObject({ result: 'OFFER', address: '10.0.1.50' });
    expect(server.child.exitCode).toBeNull();
  });

  it('a second server in the same namespace is refused before it touches the running one\'s lease file', async () => {
    const srv = topo.hosts.srv!;
    const inode = fs.statSync(leases).ino;
    // SO_REUSEADDR would let it bind 67 too: two lease states answering the same broadcasts.
    const second = await srv.exec(process.execPath, [cliPath(), 'dhcp', 'serve', '-i', 'eth0', '--subnet', '10.0.1.0/24', '--range', '10.0.1.100-10.0.1.105', '--leases', leases], { timeoutMs: 10_000 });
    expect(second.code, second.stdout + second.stderr).toBe(1);
    expect(second.stderr).toMatch(/udp\/67 .*already in use/);
    expect(second.stdout).not.toMatch(/listening on/);
    expect(fs.statSync(leases).ino).toBe(inode); // not compacted (renamed) under the running server
    const d = await probe(topo.hosts.probe!, ['discover', '--mac', RESERVED_MAC]);
    expect(d[0]).toMatchObject({ result: 'OFFER', address: '10.0.1.50' });
  });
});

// Two subnets joined by a router running `socketlab dhcp relay`: the far client gets an address
// from the far scope, chosen by giaddr.
describeRoot('dhcp relay across two subnets', () => {
  let topo: Topology;
  let server: Running;
  let relay: Running;
  const tmp = tempDir();
  const leases = path.join(tmp.dir, 'leases.csv');
  const log = path.join(tmp.dir, 'server.log');
  const relayLog = path.join(tmp.dir, 'relay.log');

  beforeAll(async () => {
    tmp.make();
    topo = await lab({
      hosts: [{ name: 'srv' }, { name: 'rtr', forwarding: true }, { name: 'far' }],
      segments: [
        { name: 'core', members: [{ host: 'srv', address: '10.0.1.1/24' }, { host: 'rtr', address: '10.0.1.254/24' }] },
        { name: 'edge', members: [{ host: 'rtr', address: '10.0.2.1/24' }, { host: 'far' }] },
      ],
      routes: [{ host: 'srv', to: '10.0.2.0/24', via: '10.0.1.254' }],
    });
    server = await startServer(topo.hosts.srv!, [
      '-i', 'eth0', '--subnet', '10.0.1.0/24', '--range', '10.0.1.100-10.0.1.150', '--subnet', '10.0.2.0/24', '--range', '10.0.2.100-10.0.2.150',
      '--router', '10.0.2.1', '--leases', leases, '--log-file', log,
    ]);
    relay = await startIn(topo.hosts.rtr!, null, ['dhcp', 'relay', '-i', 'eth1', '--server', '10.0.1.1', '--log-file', relayLog], /^socketlab-dhcp-relay listening on udp 10\.0\.2\.1:67 \(eth1\)/m);
  });
  afterAll(async () => {
    await relay?.stop();
    await server?.stop();
    await topo?.close();
    tmp[Symbol.dispose]();
  });

  it('far client gets a 10.0.2.x lease via the relay, renews straight to the server, and releases', async () => {
    const far = topo.hosts.far!;
    const state = path.join(tmp.dir, 'far.json');
    const got = await far.exec(process.execPath, [cliPath(), 'dhcp', 'client', '-i', 'eth0', '--once', '--state-file', state], { timeoutMs: 30_000 });
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toMatch(/^<- OFFER +10\.0\.2\.1:67 -> 255\.255\.255\.255:68 .*yiaddr=10\.0\.2\.1\d\d server=10\.0\.1\.1/m);
    const addr = /lease (10\.0\.2\.\d+)\/24 on eth0 from 10\.0\.1\.1, router 10\.0\.2\.1/.exec(got.stdout)?.[1];
    expect(addr, got.stdout).toBeDefined();
    const row = readLeaseFile(leases).find((r) => r.address === addr)!;
    expect(row).toMatchObject({ subnetId: 2, state: 0 });
    // the server saw giaddr and the relay's circuit id; the relay logged both directions
    const ins = logRecords(log).filter((r) => r.event === 'dhcp.in');
    expect(ins.find((r) => r.type === 'DISCOVER')).toMatchObject({ giaddr: '10.0.2.1', from: '10.0.2.1:67', circuitId: 'eth1' });
    expect(logRecords(log).find((r) => r.event === 'dhcp.out' && r.type === 'OFFER')).toMatchObject({ to: '10.0.2.1:67' });
    await waitFor(() => logRecords(relayLog).filter((r) => r.event === 'dhcp.relay').length >= 4, 'relay records');
    // renewal goes unicast across the router, without the relay
    const renew = await far.exec(process.execPath, [cliPath(), 'dhcp', 'client', '-i', 'eth0', '--renew', '--state-file', state], { timeoutMs: 30_000 });
    expect(renew.code, renew.stderr).toBe(0);
    expect(renew.stdout).toMatch(new RegExp(`REQUEST +${addr!.replaceAll('.', '\\.')}:68 -> 10\\.0\\.1\\.1:67`));
    const rel = await far.exec(process.execPath, [cliPath(), 'dhcp', 'client', '-i', 'eth0', '--release', '--state-file', state], { timeoutMs: 30_000 });
    expect(rel.code, rel.stderr).toBe(0);
    await waitFor(() => readLeaseFile(leases).find((r) => r.address === addr && r.state === 3), 'released row');
  });
});

describe('dhcp serve refuses the host network', () => {
  it('exits 2 with a message when run in the host\'s own network namespace', async () => {
    const r = await runCli(['dhcp', 'serve', '-i', 'lo', '--subnet', '127.0.0.0/8', '--range', '127.0.0.100-127.0.0.110', '--leases', '/dev/null/never'], { timeoutMs: 10_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to run a DHCP server in the host's own network namespace.*--allow-host-network/s);
  });

  it('refuses a --lease-time that option 51 cannot carry (every OFFER/ACK would fail to encode)', async () => {
    const r = await runCli(['dhcp', 'serve', '-i', 'lo', '--subnet', '127.0.0.0/8', '--range', '127.0.0.100-127.0.0.110', '--lease-time', '5000000000', '--leases', '/dev/null/never'], { timeoutMs: 10_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--lease-time "5000000000" must be at most 4294967295/);
  });
});

function cliPath(): string {
  return fs.realpathSync(new URL('../../dist/cli.js', import.meta.url));
}

import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LEASE_HEADER, LeaseStore, formatLeaseRow, parseLeaseFile } from './lease-store.js';
import type { LeaseRecord } from './policy.js';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-dhcp-store-'));
  dirs.push(d);
  return path.join(d, 'leases.csv');
}
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const row = (address: string, state: 0 | 1 | 2 | 3 = 0, hostname = ''): LeaseRecord => ({
  address, hwaddr: '02:00:00:00:00:01', clientId: '', validLifetime: 600, expire: 1_800_000_600, subnetId: 1, hostname, state,
});

describe('lease file (Kea memfile CSV)', () => {
  it('rows have Kea\'s 12 columns; commas in hostnames are escaped', () => {
    const line = formatLeaseRow(row('10.0.1.5', 0, 'a,b'));
    expect(line.trimEnd().split(',')).toHaveLength(LEASE_HEADER.split(',').length);
    expect(parseLeaseFile(LEASE_HEADER + '\n' + line)[0]!.hostname).toBe('a,b');
  });

  it('last row per address wins; a torn last row (crash mid-write) is ignored', () => {
    const text = LEASE_HEADER + '\n' + formatLeaseRow(row('10.0.1.5')) + formatLeaseRow(row('10.0.1.5', 3)) + '10.0.1.6,02:00';
    const leases = parseLeaseFile(text);
    expect(leases).toHaveLength(1);
    expect(leases[0]!.state).toBe(3);
  });

  it('a bad row names file and line', () => {
    const text = LEASE_HEADER + '\n' + 'nope,1,2,3,4,5,6,7,8,9,10,11\n' + formatLeaseRow(row('10.0.1.5'));
    expect(() => parseLeaseFile(text, 'x.csv')).toThrow(/x\.csv:2: address "nope"/);
    expect(() => parseLeaseFile('a,b\n', 'y.csv')).toThrow(/y\.csv:1: not a lease file/);
  });

  it('append is durable and grouped; open compacts to one row per address', async () => {
    const file = tmp();
    const s = LeaseStore.open(file);
    await Promise.all([s.append([row('10.0.1.5')]), s.append([row('10.0.1.6')]), s.append([row('10.0.1.5', 3)])]);
    expect(s.syncs).toBeLessThan(3); // the 2nd and 3rd waited for one shared fsync
    await s.close();
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(4);
    const again = LeaseStore.open(file);
    expect(again.initial.map((r) => [r.address, r.state])).toEqual([['10.0.1.5', 3], ['10.0.1.6', 0]]);
    await again.close();
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(3);
  });
});

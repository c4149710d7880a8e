import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LEASE_HEADER, LeaseStore, formatLeaseRow, parseLeaseFile, type LeaseFileIo } from './lease-store.js';
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

  it('last row per address wins; a torn last row (crash mid-write) is skipped with a warning naming file:line', () => {
    const text = LEASE_HEADER + '\n' + formatLeaseRow(row('10.0.1.5')) + formatLeaseRow(row('10.0.1.5', 3)) + '10.0.1.6,02:00';
    const warnings: string[] = [];
    const leases = parseLeaseFile(text, 'l.csv', (w) => warnings.push(w));
    expect(leases).toHaveLength(1);
    expect(leases[0]!.state).toBe(3);
    expect(warnings).toEqual([expect.stringMatching(/^l\.csv:4: torn row skipped/)]);
  });

  it('a torn row with the next row glued onto it is skipped with a warning; every complete row is kept', () => {
    const good = formatLeaseRow(row('10.77.0.129'));
    const warnings: string[] = [];
    // cut inside the address: "10.77.0" + the next row
    const a = LEASE_HEADER + '\n' + formatLeaseRow(row('10.77.0.5')) + '10.77.0' + good + formatLeaseRow(row('10.77.0.130'));
    expect(parseLeaseFile(a, 'a.csv', (w) => warnings.push(w)).map((r) => r.address)).toEqual(['10.77.0.5', '10.77.0.130']);
    // cut after the MAC: the glued line has 13 columns and must not be read as a lease for 10.77.0.6
    const b = LEASE_HEADER + '\n' + '10.77.0.6,02:00:00:00:00:0' + good + formatLeaseRow(row('10.77.0.131'));
    expect(parseLeaseFile(b, 'b.csv', (w) => warnings.push(w)).map((r) => r.address)).toEqual(['10.77.0.131']);
    expect(warnings).toEqual([expect.stringMatching(/^a\.csv:3: torn row skipped .*two rows run together/), expect.stringMatching(/^b\.csv:2: torn row skipped .*13 columns/)]);
  });

  it('NUL bytes at the end (crash after the file grew) are logged, not dropped silently', () => {
    const warnings: string[] = [];
    const text = LEASE_HEADER + '\n' + formatLeaseRow(row('10.0.1.5')) + '\0'.repeat(40);
    expect(parseLeaseFile(text, 'n.csv', (w) => warnings.push(w))).toHaveLength(1);
    expect(warnings).toEqual([expect.stringMatching(/^n\.csv:3: 40 NUL byte\(s\) at the end/)]);
  });

  it('blank expire or an unknown state is an error with file:line, not "expired"', () => {
    const blankExpire = formatLeaseRow(row('10.0.1.5')).replace(',1800000600,', ',,');
    expect(() => parseLeaseFile(LEASE_HEADER + '\n' + blankExpire + formatLeaseRow(row('10.0.1.6')), 'e.csv')).toThrow(/e\.csv:2: expire "" is not a whole number/);
    const state7 = formatLeaseRow(row('10.0.1.5')).replace(/,0,,0\n$/, ',7,,0\n');
    expect(() => parseLeaseFile(LEASE_HEADER + '\n' + state7 + formatLeaseRow(row('10.0.1.6')), 's.csv')).toThrow(/s\.csv:2: state "7" is not a lease state/);
    const blankState = formatLeaseRow(row('10.0.1.5')).replace(/,0,,0\n$/, ',,,0\n');
    expect(() => parseLeaseFile(LEASE_HEADER + '\n' + blankState + formatLeaseRow(row('10.0.1.6')), 's.csv')).toThrow(/s\.csv:2: state "" is not a whole number/);
  });

  it('a short write then ENOSPC: the append fails and the partial row is cut off, so the next row is not glued onto it', async () => {
    const file = tmp();
    let full = true;
    let calls = 0;
    // A full disk: the first write call stores only part of the data, the next one fails.
    const io: LeaseFileIo = {
      write(fd, buf, off, len, pos, cb) {
        if (!full) return fs.write(fd, buf, off, len, pos, cb);
        if (calls++ === 0) return cb(null, fs.writeSync(fd, buf, off, Math.floor(len / 2)));
        cb(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }), 0);
      },
      fdatasync: (fd, cb) => fs.fdatasync(fd, cb),
      ftruncate: (fd, len, cb) => fs.ftruncate(fd, len, cb),
    };
    const s = LeaseStore.open(file, { io });
    full = false;
    await s.append([row('10.77.0.5')]);
    full = true;
    await expect(s.append([row('10.77.0.6'), row('10.77.0.7')])).rejects.toThrow(/ENOSPC/);
    expect(calls).toBe(2);
    expect(fs.readFileSync(file, 'utf8')).toBe(LEASE_HEADER + '\n' + formatLeaseRow(row('10.77.0.5')));
    full = false; // space freed
    await s.append([row('10.77.0.129')]);
    await s.close();
    const warnings: string[] = [];
    const again = LeaseStore.open(file, { onWarning: (w) => warnings.push(w) });
    expect(again.initial.map((r) => r.address)).toEqual(['10.77.0.5', '10.77.0.129']);
    expect(warnings).toEqual([]);
    await again.close();
  });

  it('an empty lease file name is refused and leaves no .compact file behind', () => {
    const dir = path.dirname(tmp());
    fs.mkdirSync(dir, { recursive: true });
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(() => LeaseStore.open('')).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/empty/) }));
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
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

  describe('background compaction (write new file, fsync, rename, as Kea\'s LFC)', () => {
    /** A stand-in for the policy: the latest record per address, snapshot as the server's is. */
    function leases() {
      const byAddr = new Map<string, LeaseRecord>();
      return {
        set: (r: LeaseRecord) => byAddr.set(r.address, r),
        snapshot: () => {
          const list = [...byAddr.values()];
          return { size: list.length, row: (i: number) => list[i] };
        },
      };
    }
    const rowsIn = (file: string): number => fs.readFileSync(file, 'utf8').trim().split('\n').length - 1;

    it('rows appended while it runs are all in the new file; every acknowledged row survives a reopen', async () => {
      const file = tmp();
      const s = LeaseStore.open(file, { compactRows: 1_000_000 });
      const mem = leases();
      s.setSnapshotSource(mem.snapshot);
      const acked = new Map<string, number>();
      const put = async (i: number, state: 0 | 3): Promise<void> => {
        const r = { ...row(`10.0.${i % 50}.${i % 200}`, state), expire: 1_800_000_000 + i };
        mem.set(r);
        await s.append([r]);
        acked.set(r.address, r.expire);
      };
      for (let i = 0; i < 2000; i++) await put(i, 0); // many rows per address
      expect(rowsIn(file)).toBe(2000);
      // appends before, during and after the switch
      const during: Promise<void>[] = [];
      for (let i = 2000; i < 2100; i++) during.push(put(i, 0));
      const done = s.compactNow();
      for (let i = 2100; i < 2300; i++) during.push(put(i, i % 2 ? 3 : 0));
      await Promise.all([done, ...during]);
      for (let i = 2300; i < 2320; i++) await put(i, 0);
      expect(s.compactions).toBe(1);
      expect(rowsIn(file)).toBeLessThan(200 + 300 + 20 + 1); // one per address at the snapshot, plus rows appended since
      await s.close();
      const again = LeaseStore.open(file);
      const back = new Map(again.initial.map((r) => [r.address, r.expire]));
      expect(back).toEqual(acked);
      await again.close();
      expect(fs.readdirSync(path.dirname(file))).toEqual(['leases.csv']); // no temp file left
    });

    it('starts by itself once enough rows were appended, so the file stays bounded while serving', async () => {
      const file = tmp();
      const s = LeaseStore.open(file, { compactRows: 200 });
      const mem = leases();
      s.setSnapshotSource(mem.snapshot);
      for (let i = 0; i < 1500; i++) {
        const r = { ...row(`10.0.0.${i % 100}`), expire: 1_800_000_000 + i };
        mem.set(r);
        await s.append([r]);
      }
      await s.close();
      expect(s.compactions).toBeGreaterThan(3);
      expect(rowsIn(file)).toBeLessThanOrEqual(100 + 200 + 1);
      const again = LeaseStore.open(file);
      expect(again.initial.find((r) => r.address === '10.0.0.99')?.expire).toBe(1_800_000_000 + 1499);
      await again.close();
    });
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import type { LeaseRecord, LeaseStateCode } from './policy.js';

// The lease file, laid out like ISC Kea's memfile CSV (kea-dhcp4 `lease-database { type "memfile" }`)
// so that learners can compare it with Kea's own file. Rows are appended as leases change (the last
// row for an address wins) and the file is compacted to one row per address at start.

export const LEASE_HEADER = 'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id';
const COLUMNS = LEASE_HEADER.split(',');

/** Kea escapes commas in text columns as `&#x2c`. */
function escapeField(s: string): string {
  return s.replaceAll('&', '&#x26').replaceAll(',', '&#x2c').replace(/[\r\n]/g, ' ');
}
function unescapeField(s: string): string {
  return s.replaceAll('&#x2c', ',').replaceAll('&#x26', '&');
}

/** One CSV line (with trailing newline) for a lease. */
export function formatLeaseRow(r: LeaseRecord): string {
  return `${r.address},${r.hwaddr},${r.clientId},${r.validLifetime},${r.expire},${r.subnetId},0,0,${escapeField(r.hostname)},${r.state},,0\n`;
}

/** Parses lease file text; a bad row is a LabError naming file:line. Last row per address wins. */
export function parseLeaseFile(text: string, file = 'lease file'): LeaseRecord[] {
  const byAddr = new Map<string, LeaseRecord>();
  const lines = text.split('\n');
  let header: string[] | undefined;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    if (!header) {
      header = line.trim().split(',');
      if (header[0] !== 'address' || !header.includes('expire')) {
        throw new LabError('LAB_ERR_LEASE_FILE', `${file}:${i + 1}: not a lease file (expected the header "${LEASE_HEADER}")`);
      }
      return;
    }
    const f = line.split(',');
    if (f.length < 10) {
      // A row cut short by a crash mid-write can only be the last one; it was never acknowledged.
      if (i >= lines.length - 2) return;
      throw new LabError('LAB_ERR_LEASE_FILE', `${file}:${i + 1}: ${f.length} columns, expected ${COLUMNS.length}`);
    }
    const col = (name: string): string => f[header!.indexOf(name)] ?? '';
    const num = (name: string): number => {
      const v = Number(col(name));
      if (!Number.isFinite(v)) throw new LabError('LAB_ERR_LEASE_FILE', `${file}:${i + 1}: ${name} "${col(name)}" is not a number`);
      return v;
    };
    const address = col('address');
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(address)) throw new LabError('LAB_ERR_LEASE_FILE', `${file}:${i + 1}: address "${address}" is not IPv4`);
    const state = num('state');
    byAddr.set(address, {
      address,
      hwaddr: col('hwaddr'),
      clientId: col('client_id'),
      validLifetime: num('valid_lifetime'),
      expire: num('expire'),
      subnetId: num('subnet_id'),
      hostname: unescapeField(col('hostname')),
      state: (state >= 0 && state <= 3 ? state : 2) as LeaseStateCode,
    });
  });
  return [...byAddr.values()];
}

/** Reads and parses a lease file; a missing file is an empty list. */
export function readLeaseFile(file: string): LeaseRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new LabError('LAB_ERR_LEASE_FILE', `cannot read lease file ${file}: ${(err as Error).message}`);
  }
  return parseLeaseFile(text, file);
}

/**
 * Append-only lease file with group commit: rows handed to `append()` while a write+fsync is in
 * flight wait for the next one, so under load many ACKs share one fsync. `append()` resolves only
 * once its rows are on disk.
 */
export class LeaseStore {
  private fd: number;
  private queue: string[] = [];
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private flushing = false;
  private closed = false;
  /** How many fsyncs ran (for logs and the benchmark's durability check). */
  syncs = 0;

  private constructor(
    readonly file: string,
    fd: number,
    /** Leases found at start, one per address. */
    readonly initial: LeaseRecord[],
    private readonly syncDelayMs = 0,
    private readonly commitDelayMs = 0,
  ) {
    this.fd = fd;
  }

  /** Opens FILE: reads it, rewrites it compacted (atomically, via rename), then appends to it. */
  /**
   * `commitDelayMs`: how long the first row of a group waits for others before the write+fsync
   * (0: only until the end of the current event-loop turn). `syncDelayMs`: a simulated slow disk.
   */
  static open(file: string, opts: { syncDelayMs?: number; commitDelayMs?: number } = {}): LeaseStore {
    const initial = readLeaseFile(file);
    try {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      const tmp = `${file}.compact-${process.pid}`;
      const fdTmp = fs.openSync(tmp, 'w', 0o644);
      fs.writeSync(fdTmp, LEASE_HEADER + '\n' + initial.map(formatLeaseRow).join(''));
      fs.fsyncSync(fdTmp);
      fs.closeSync(fdTmp);
      fs.renameSync(tmp, file);
      syncDir(path.dirname(path.resolve(file)));
      const fd = fs.openSync(file, 'a');
      return new LeaseStore(file, fd, initial, opts.syncDelayMs ?? 0, opts.commitDelayMs ?? 0);
    } catch (err) {
      throw new LabError('LAB_ERR_LEASE_FILE', `cannot write lease file ${file}: ${(err as Error).message}`);
    }
  }

  /** Appends rows; resolves once they are durable (write + fdatasync). */
  append(rows: LeaseRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`lease file ${this.file} is closed`));
    if (rows.length === 0) return Promise.resolve();
    for (const r of rows) this.queue.push(formatLeaseRow(r));
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.flushing) {
      // Start the write after this turn of the event loop, so every request read from the socket
      // in the same poll shares one write + fsync (group commit also while one is in flight).
      this.flushing = true;
      if (this.commitDelayMs > 0) setTimeout(() => this.flush(), this.commitDelayMs);
      else setImmediate(() => this.flush());
    }
    return p;
  }

  private flush(): void {
    if (this.queue.length === 0) {
      this.flushing = false;
      return;
    }
    this.flushing = true;
    const data = Buffer.from(this.queue.join(''));
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    const fail = (err: Error): void => {
      for (const w of waiters) w.reject(err);
      this.flush();
    };
    writeAll(this.fd, data, (err) => {
      if (err) return fail(err);
      // fdatasync: the data and the file size are durable, which is all an append needs.
      const sync = (): void =>
        fs.fdatasync(this.fd, (err2) => {
          if (err2) return fail(err2);
          this.syncs++;
          for (const w of waiters) w.resolve();
          this.flush();
        });
      // syncDelayMs simulates a slow disk (tests make "ACK only after fsync" observable with it).
      if (this.syncDelayMs > 0) setTimeout(sync, this.syncDelayMs);
      else sync();
    });
  }

  /** Waits for pending rows, then closes the file. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

function writeAll(fd: number, data: Buffer, cb: (err: Error | null) => void, off = 0): void {
  fs.write(fd, data, off, data.length - off, null, (err, n) => {
    if (err) return cb(err);
    if (off + n < data.length) return writeAll(fd, data, cb, off + n);
    cb(null);
  });
}

function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } catch {
    // some filesystems refuse fsync on a directory; the rename is still atomic
  }
}

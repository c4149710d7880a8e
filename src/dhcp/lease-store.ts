import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { setLongTimeout } from '../core/timers.js';
import type { LeaseRecord, LeaseStateCode } from './policy.js';

// The lease file, laid out like ISC Kea's memfile CSV (kea-dhcp4 `lease-database { type "memfile" }`)
// so that learners can compare it with Kea's own file. Rows are appended as leases change (the last
// row for an address wins) and the file is compacted to one row per address at start, and again in
// the background while serving once enough rows were appended (as Kea's LFC does: write a new file,
// fsync it, rename it over the old one), so a long run's file and restart time stay bounded.

export const LEASE_HEADER = 'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id';
const COLUMNS = ['address', 'hwaddr', 'client_id', 'valid_lifetime', 'expire', 'subnet_id', 'fqdn_fwd', 'fqdn_rev', 'hostname', 'state', 'user_context', 'pool_id'] as const;

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

/** Receives a lease-file problem that was skipped, not fatal (message starts with file:line). */
export type LeaseFileWarn = (message: string) => void;

const STATES = '0 default (bound), 1 declined, 2 expired-reclaimed, 3 released';

/**
 * Parses lease file text. Last row per address wins. A torn row (a write cut short: wrong column
 * count, NUL bytes, two rows run together) is skipped with a warning naming file:line, and every
 * complete row is kept, as Kea's memfile does; a complete row with a bad value is a LabError
 * naming file:line.
 */
export function parseLeaseFile(text: string, file = 'lease file', warn: LeaseFileWarn = () => {}): LeaseRecord[] {
  const byAddr = new Map<string, LeaseRecord>();
  // A crash after the file grew but before its data reached the disk leaves zeros at the end.
  let cut = text.length;
  while (cut > 0 && text.charCodeAt(cut - 1) === 0) cut--;
  if (cut < text.length) {
    const nuls = text.length - cut;
    text = text.slice(0, cut);
    warn(`${file}:${countLines(text)}: ${nuls} NUL byte(s) at the end of the file ignored (a write interrupted by a crash)`);
  }
  // One pass over the text without an array of lines: a long run's file can hold millions of rows.
  let header: string[] | undefined;
  let ix: Record<(typeof COLUMNS)[number], number> | undefined;
  for (let start = 0, i = 0; start <= text.length; i++) {
    let end = text.indexOf('\n', start);
    const last = end === -1; // no newline after it: the write may have been cut short
    if (last) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    if (!header) {
      header = line.trim().split(',');
      if (header[0] !== 'address' || !header.includes('expire')) {
        throw new LabError('LAB_ERR_LEASE_FILE', `${file}:${i + 1}: not a lease file (expected the header "${LEASE_HEADER}")`);
      }
      const h = header;
      ix = Object.fromEntries(COLUMNS.map((c) => [c, h.indexOf(c)])) as Record<(typeof COLUMNS)[number], number>;
      continue;
    }
    const r = parseRow(line, header.length, ix!, last);
    if (r === undefined) continue;
    if (typeof r === 'string') {
      const where = `${file}:${i + 1}`;
      if (r.startsWith('torn:')) warn(`${where}: torn row skipped (${r.slice(5)}; a write was cut short, e.g. disk full or crash): "${line.slice(0, 80)}"`);
      else throw new LabError('LAB_ERR_LEASE_FILE', `${where}: ${r}; fix or remove the row`);
      continue;
    }
    byAddr.set(r.address, r);
  }
  return [...byAddr.values()];
}

function countLines(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const WHOLE = /^\d+$/;

/** One data row: the record, 'torn:<why>' for a row to skip, '<why>' for a bad value (a LabError), or undefined. */
function parseRow(line: string, columns: number, ix: Record<(typeof COLUMNS)[number], number>, last: boolean): LeaseRecord | string | undefined {
  if (line.includes('\0')) return 'torn:NUL bytes in the row';
  const f = line.split(',');
  if (f.length !== columns) return `torn:${f.length} columns, the header has ${columns}`;
  const col = (i: number): string => f[i] ?? '';
  const address = col(ix.address);
  // A bad value in the last row is a torn write too; anywhere else it is an error to fix.
  const bad = (msg: string): string => (last ? `torn:${msg}` : msg);
  if (!IPV4.test(address)) {
    if (/^[\d.]+$/.test(address) && address.split('.').length > 4) return `torn:address "${address}" is two rows run together`;
    return bad(`address "${address}" is not IPv4`);
  }
  const nums: number[] = [];
  for (const name of ['valid_lifetime', 'expire', 'subnet_id', 'state'] as const) {
    const v = col(ix[name]);
    if (!WHOLE.test(v)) return bad(`${name} "${v}" is not a whole number`);
    nums.push(Number(v));
  }
  const [validLifetime, expire, subnetId, state] = nums as [number, number, number, number];
  if (state > 3) return bad(`state "${state}" is not a lease state (${STATES})`);
  return { address, hwaddr: col(ix.hwaddr), clientId: col(ix.client_id), validLifetime, expire, subnetId, hostname: unescapeField(col(ix.hostname)), state: state as LeaseStateCode };
}

/** Reads and parses a lease file; a missing file is an empty list unless `mustExist`. */
export function readLeaseFile(file: string, warn?: LeaseFileWarn, mustExist = false): LeaseRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !mustExist) return [];
    if (code === 'ENOENT') throw new LabError('LAB_ERR_INVALID_ARGUMENT', `lease file ${file} does not exist (check --leases; a server creates it at start)`);
    throw new LabError('LAB_ERR_LEASE_FILE', `cannot read lease file ${file}: ${(err as Error).message}`);
  }
  return parseLeaseFile(text, file, warn);
}

/** The file calls an append makes; tests swap in a stub that fails like a full disk. */
export interface LeaseFileIo {
  write(fd: number, buf: Buffer, off: number, len: number, pos: null, cb: (err: NodeJS.ErrnoException | null, n: number) => void): void;
  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  ftruncate(fd: number, len: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
}
const realIo: LeaseFileIo = {
  write: (fd, buf, off, len, pos, cb) => fs.write(fd, buf, off, len, pos, cb),
  fdatasync: (fd, cb) => fs.fdatasync(fd, cb),
  ftruncate: (fd, len, cb) => fs.ftruncate(fd, len, cb),
};

export interface LeaseStoreOptions {
  /** A simulated slow disk: each fsync takes this much longer (ms). */
  syncDelayMs?: number;
  /** How long the first row of a group waits for others before the write+fsync (ms; 0: this event-loop turn). */
  commitDelayMs?: number;
  /** Torn rows skipped while reading the file at start; a background compaction that failed. */
  onWarning?: LeaseFileWarn;
  /** Compact in the background once this many rows (or as many as the last compaction wrote, if more) were appended. Default 20000. */
  compactRows?: number;
  io?: LeaseFileIo;
}

/** The leases at one moment, for a background compaction: `row(i)` is undefined for a slot with nothing to write. */
export interface LeaseSnapshot {
  readonly size: number;
  row(i: number): LeaseRecord | undefined;
}

/** Rows formatted and written per step of a background compaction (one event-loop turn each). */
const COMPACT_SLICE = 2000;

/**
 * Append-only lease file with group commit: rows handed to `append()` while a write+fsync is in
 * flight wait for the next one, so under load many ACKs share one fsync. `append()` resolves only
 * once its rows are on disk. A failed append (ENOSPC, EIO, a short write) is cut off again, so the
 * file only ever holds whole rows and the next row is not glued onto a torn one.
 */
export class LeaseStore {
  private fd: number;
  private queue: string[] = [];
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private flushing = false;
  private closed = false;
  /** File length after the last complete append: what a failed append is truncated back to. */
  private size: number;
  /** Set when a torn append could not be cut off: later rows would be glued onto it. */
  private broken?: Error;
  /** How many fsyncs ran (for logs and the benchmark's durability check). */
  syncs = 0;
  /** Background compactions completed. */
  compactions = 0;
  private snapshotSource?: () => LeaseSnapshot;
  private rowsSinceCompaction = 0;
  private rowsAtCompaction: number;
  /** While a compaction runs: every row appended since its snapshot, for the new file's end. */
  private tail?: string[];
  /** Set while a compaction switches files: new appends wait in the queue. */
  private paused = false;
  private compacting?: Promise<void>;
  private closing = false;

  private constructor(
    readonly file: string,
    fd: number,
    /** Leases found at start, one per address. */
    readonly initial: LeaseRecord[],
    private readonly syncDelayMs = 0,
    private readonly commitDelayMs = 0,
    private readonly io: LeaseFileIo = realIo,
    private readonly compactRows = 20_000,
    private readonly onWarning: LeaseFileWarn = () => {},
  ) {
    this.fd = fd;
    this.size = fs.fstatSync(fd).size;
    this.rowsAtCompaction = initial.length;
  }

  /** Opens FILE: reads it, rewrites it compacted (atomically, via rename), then appends to it. */
  static open(file: string, opts: LeaseStoreOptions = {}): LeaseStore {
    if (file.trim() === '') throw new LabError('LAB_ERR_INVALID_ARGUMENT', 'the lease file name is empty (give --leases a path, or leave it out for the default)');
    for (const [name, v] of [['syncDelayMs', opts.syncDelayMs], ['commitDelayMs', opts.commitDelayMs], ['compactRows', opts.compactRows]] as const) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new LabError('LAB_ERR_INVALID_ARGUMENT', `lease store ${name} must be a finite number >= 0, got ${v}`);
    }
    const initial = readLeaseFile(file, opts.onWarning);
    const tmp = `${file}.compact-${process.pid}`;
    try {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      const fdTmp = fs.openSync(tmp, 'w', 0o644);
      try {
        fs.writeSync(fdTmp, LEASE_HEADER + '\n' + initial.map(formatLeaseRow).join(''));
        fs.fsyncSync(fdTmp);
      } finally {
        fs.closeSync(fdTmp);
      }
      fs.renameSync(tmp, file);
      syncDir(path.dirname(path.resolve(file)));
      const fd = fs.openSync(file, 'a');
      return new LeaseStore(file, fd, initial, opts.syncDelayMs ?? 0, opts.commitDelayMs ?? 0, opts.io, Math.max(1, opts.compactRows ?? 20_000), opts.onWarning);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw new LabError('LAB_ERR_LEASE_FILE', `cannot write lease file ${file}: ${(err as Error).message}`);
    }
  }

  /** Appends rows; resolves once they are durable (write + fdatasync). */
  append(rows: LeaseRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`lease file ${this.file} is closed`));
    if (this.broken) return Promise.reject(this.broken);
    if (rows.length === 0) return Promise.resolve();
    for (const r of rows) {
      const line = formatLeaseRow(r);
      this.queue.push(line);
      this.tail?.push(line);
    }
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.flushing && !this.paused) {
      // Start the write after this turn of the event loop, so every request read from the socket
      // in the same poll shares one write + fsync (group commit also while one is in flight).
      this.flushing = true;
      if (this.commitDelayMs > 0) setLongTimeout(() => this.flush(), this.commitDelayMs);
      else setImmediate(() => this.flush());
    }
    return p;
  }

  private flush(): void {
    if (this.queue.length === 0 || this.paused) {
      this.flushing = false;
      return;
    }
    this.flushing = true;
    const data = Buffer.from(this.queue.join(''));
    const rows = this.queue.length;
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    const fail = (err: Error): void => {
      // Cut the torn rows off before anything else is appended (rows are appended at the end).
      this.io.ftruncate(this.fd, this.size, (err2) => {
        if (err2) this.broken = new Error(`lease file ${this.file} ends in a torn row that could not be removed (${err2.message}); restart the server`);
        for (const w of waiters) w.reject(err);
        if (this.broken) for (const w of this.waiters.splice(0)) w.reject(this.broken);
        if (this.broken) this.queue = [];
        this.flush();
      });
    };
    writeAll(this.io, this.fd, data, (err) => {
      if (err) return fail(err);
      // fdatasync: the data and the file size are durable, which is all an append needs.
      const sync = (): void =>
        this.io.fdatasync(this.fd, (err2) => {
          if (err2) return fail(err2);
          this.size += data.length;
          this.syncs++;
          this.rowsSinceCompaction += rows;
          for (const w of waiters) w.resolve();
          this.maybeCompact();
          this.flush();
        });
      // syncDelayMs simulates a slow disk (tests make "ACK only after fsync" observable with it).
      if (this.syncDelayMs > 0) setLongTimeout(sync, this.syncDelayMs);
      else sync();
    });
  }

  /**
   * Lets the store compact the file in the background from the current leases (the server's
   * policy): a snapshot is taken synchronously, formatted and written to a new file in slices
   * between requests, and every row appended meanwhile is written after it before the switch.
   */
  setSnapshotSource(source: () => LeaseSnapshot): void {
    this.snapshotSource = source;
  }

  private maybeCompact(): void {
    if (this.compacting || this.closing || this.closed || !this.snapshotSource) return;
    if (this.rowsSinceCompaction < Math.max(this.compactRows, this.rowsAtCompaction)) return;
    this.compacting = this.compact(this.snapshotSource()).finally(() => (this.compacting = undefined));
  }

  /** Compacts now (tests; the server triggers it by appended rows). Resolves when the switch is done or abandoned. */
  compactNow(): Promise<void> {
    if (!this.snapshotSource) return Promise.reject(new Error('no snapshot source set'));
    if (!this.compacting && !this.closing && !this.closed) this.compacting = this.compact(this.snapshotSource()).finally(() => (this.compacting = undefined));
    return this.compacting ?? Promise.resolve();
  }

  private async compact(snap: LeaseSnapshot): Promise<void> {
    this.tail = [];
    this.rowsSinceCompaction = 0;
    const tmp = `${this.file}.compact-${process.pid}`;
    const dir = path.dirname(path.resolve(this.file));
    let fdTmp: number | undefined;
    let rows = 0;
    const p = fs.promises;
    try {
      const handle = await p.open(tmp, 'w', 0o644);
      fdTmp = handle.fd;
      try {
        let pos = 0;
        const put = async (text: string): Promise<void> => {
          const buf = Buffer.from(text);
          await handle.write(buf, 0, buf.length, pos);
          pos += buf.length;
        };
        await put(LEASE_HEADER + '\n');
        for (let i = 0; i < snap.size; i += COMPACT_SLICE) {
          if (this.closing) throw new Error('store closing');
          let text = '';
          for (let k = i; k < Math.min(snap.size, i + COMPACT_SLICE); k++) {
            const r = snap.row(k);
            if (r) {
              text += formatLeaseRow(r);
              rows++;
            }
          }
          await put(text);
          await new Promise((r) => setImmediate(r)); // let requests in between slices
        }
        await handle.sync();
        // The switch: no group commit in flight, none started until the new file is in place.
        this.paused = true;
        while (this.flushing) await new Promise((r) => setImmediate(r));
        if (this.closing || this.broken) throw new Error('store closing');
        const tail = this.tail.join('');
        this.tail = undefined;
        if (tail) await put(tail);
        await handle.sync();
      } finally {
        await handle.close();
        fdTmp = undefined;
      }
      await p.rename(tmp, this.file);
      // The rename must be durable before rows go to the new file: a crash could otherwise bring
      // back the old file without them. On the thread pool: a directory fsync can take tens of ms,
      // and requests keep arriving meanwhile (appends wait in the queue, offers go out).
      await syncDirAsync(dir);
      const fd = fs.openSync(this.file, 'a');
      fs.closeSync(this.fd);
      this.fd = fd;
      this.size = fs.fstatSync(fd).size;
      this.rowsAtCompaction = rows;
      this.compactions++;
    } catch (err) {
      if (fdTmp !== undefined) fs.closeSync(fdTmp);
      fs.rmSync(tmp, { force: true });
      if (!this.closing) this.onWarning(`${this.file}: background compaction failed (${(err as Error).message}); the file keeps growing until the next try`);
    } finally {
      this.tail = undefined;
      this.paused = false;
      if (!this.flushing && this.queue.length > 0 && !this.closed) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    }
  }

  /** Waits for pending rows, then closes the file. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    await this.compacting;
    while (this.flushing) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

function writeAll(io: LeaseFileIo, fd: number, data: Buffer, cb: (err: Error | null) => void, off = 0): void {
  io.write(fd, data, off, data.length - off, null, (err, n) => {
    if (err) return cb(err);
    if (n === 0) return cb(new Error('write wrote 0 bytes'));
    if (off + n < data.length) return writeAll(io, fd, data, cb, off + n);
    cb(null);
  });
}

async function syncDirAsync(dir: string): Promise<void> {
  let h: fs.promises.FileHandle | undefined;
  try {
    h = await fs.promises.open(dir, 'r');
    await h.sync();
  } catch {
    // some filesystems refuse fsync on a directory; the rename is still atomic
  } finally {
    await h?.close().catch(() => undefined);
  }
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

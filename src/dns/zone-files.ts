/**
 * A primary's zone files: loaded before anything binds, reloaded on request (the CLI: SIGHUP) or when a file changes,
 * and the NOTIFY policy (RFC 1996): every zone at start, then only zones whose SOA serial grew.
 */
import { accessSync, constants as fsConstants, statSync, watchFile, unwatchFile } from 'node:fs';
import { invalidArgument, LabError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Endpoint } from '../socket-pair.js';
import { sendNotifies } from './notify.js';
import { loadZone } from './zone-parser.js';
import type { Zone } from './zone.js';

/** Readable, and not a directory: a usage error (exit 2) naming the flag, before any parse. */
export function checkZoneFile(file: string): void {
  try {
    if (statSync(file).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    accessSync(file, fsConstants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw invalidArgument(`--zone ${file}: cannot read zone file: ${why}${code ? ` (${code})` : ''}`, { file });
  }
}

/** Loads a zone file and logs what BIND would only warn about (out-of-zone records, no $TTL, ...). */
export function loadLogged(file: string, log: Logger): Zone {
  const { zone, warnings } = loadZone(file);
  for (const w of warnings) log.warn({ file: w.file, line: w.line, zone: zone.origin }, `${w.file}:${w.line}: ${w.message}`);
  return zone;
}

/** Every file checked and parsed (a broken one stops the start with file:line); one file per origin. */
export function loadZoneFiles(files: string[], log: Logger): Map<string, Zone> {
  for (const f of files) checkZoneFile(f);
  const zonesByFile = new Map<string, Zone>();
  for (const f of files) {
    const z = loadLogged(f, log);
    for (const other of zonesByFile.values()) {
      if (other.origin === z.origin) throw new LabError('LAB_ERR_ZONE_FILE', `${f}: zone ${z.origin}. is already loaded from ${other.source}`);
    }
    zonesByFile.set(f, z);
  }
  return zonesByFile;
}

/**
 * Reloads `files` (their zones in `zonesByFile`, updated in place) on reload() and, with `watch`
 * (default true), when one changes; hands the new set to `setZones`, and NOTIFYs `notify` about
 * every zone now and each changed serial later. A file that no longer parses, or changes its
 * origin, keeps serving its previous version.
 */
export function watchZoneFiles(opts: { files: string[]; zonesByFile: Map<string, Zone>; log: Logger; setZones: (zones: Zone[]) => void; notify?: Endpoint[]; watch?: boolean }): { reload(reason: string): void; close(): void } {
  const { files, zonesByFile, log } = opts;
  const notify = (zones: Iterable<Zone>): void => {
    if (opts.notify?.length) for (const z of zones) void sendNotifies(z, opts.notify, log);
  };
  const reload = (reason: string): void => {
    const changed: Zone[] = [];
    for (const f of files) {
      const old = zonesByFile.get(f)!;
      let z: Zone;
      try {
        z = loadLogged(f, log);
      } catch (err) {
        log.error({ file: f, err: (err as Error).message, reason }, 'zone reload failed; still serving the previous version');
        continue;
      }
      if (z.origin !== old.origin) {
        log.error({ file: f, was: old.origin, now: z.origin }, 'zone reload changed the origin; keeping the previous version');
        continue;
      }
      zonesByFile.set(f, z);
      const serialChanged = z.soa.data.serial !== old.soa.data.serial;
      log.info({ file: f, zone: z.origin, serial: z.soa.data.serial, previousSerial: old.soa.data.serial, records: z.records.length, reason }, 'zone reloaded');
      if (!serialChanged) log.warn({ file: f, zone: z.origin, serial: z.soa.data.serial }, 'zone reloaded with the same serial: secondaries will not transfer it; increase the SOA serial');
      else changed.push(z);
    }
    opts.setZones([...zonesByFile.values()]);
    notify(changed);
  };
  const watched = opts.watch === false ? [] : files;
  for (const f of watched) watchFile(f, { interval: 500, persistent: false }, (cur, prev) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) reload('file changed');
  });
  notify(zonesByFile.values());
  return {
    reload,
    close() {
      for (const f of watched) unwatchFile(f);
    },
  };
}

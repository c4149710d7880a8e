import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { LabError } from '../errors.js';
import type { SegmentTap } from '../hosts/backend.js';
import { PcapReader } from './pcap.js';
import { decodeFrame, type Packet } from './packet.js';

/** One tcpdump on one segment's bridge (the netns switch namespace's, or a Docker network's). */
export interface SegmentCapture {
  segment: string;
  pid: number | undefined;
  /** how many frames it delivered so far */
  count(): number;
  stop(): Promise<void>;
}

/**
 * Starts `tcpdump -i IFNAME -w -` where the segment's tap is (behind its namespace prefix) and
 * resolves once tcpdump says it is listening, so nothing the lab sends afterwards is missed. Every
 * frame is decoded and handed to onPacket; the raw pcap also goes to pcapFile (open it in Wireshark).
 */
export async function captureSegment(opts: { tap: SegmentTap; segment: string; pcapFile?: string; onPacket: (p: Packet) => void }): Promise<SegmentCapture> {
  const { ifname, netns } = opts.tap;
  const where = netns.label ? `${ifname} (${netns.label})` : ifname;
  // -U: write each packet as it comes; --immediate-mode: no kernel buffering delay; -s 0 whole frames
  const argv = [...netns.prefix, 'tcpdump', '-i', ifname, '-w', '-', '-U', '--immediate-mode', '-n', '-s', '0'];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const reader = new PcapReader();
  const file: WriteStream | undefined = opts.pcapFile ? createWriteStream(opts.pcapFile) : undefined;
  let n = 0;
  let stderr = '';
  let failed: Error | undefined;
  child.stdout!.on('data', (chunk: Buffer) => {
    file?.write(chunk);
    if (failed) return;
    try {
      for (const r of reader.push(chunk)) {
        n++;
        opts.onPacket(decodeFrame(r.data, r.t, opts.segment));
      }
    } catch (err) {
      failed = err as Error;
    }
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new LabError('LAB_ERR_LAB_RUN', `tcpdump on ${where} not ready after 10 s: ${stderr.trim() || 'no output'}`)), 10_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (/listening on/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new LabError('LAB_ERR_LAB_RUN', `cannot start tcpdump for segment ${opts.segment}: ${err.message} (install the Debian package tcpdump)`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new LabError('LAB_ERR_LAB_RUN', `tcpdump on ${where} exited (${code}) before listening: ${stderr.trim()}`));
    });
  });
  return {
    segment: opts.segment,
    pid: child.pid,
    count: () => n,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // SIGINT: tcpdump flushes what it holds and exits
        child.kill('SIGINT');
        const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(t);
      }
      await new Promise<void>((r) => (file ? file.end(r) : r()));
    },
  };
}

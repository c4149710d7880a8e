/**
 * A streaming reader of the classic pcap format (what `tcpdump -w -` writes): a 24-octet global
 * header, then per packet a 16-octet record header and the captured bytes. Microsecond and
 * nanosecond magic, either byte order (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html).
 */
export interface PcapRecord {
  /** ms since the epoch, with the sub-ms part as fraction */
  t: number;
  data: Buffer;
  origLen: number;
}

export class PcapReader {
  private buf: Buffer = Buffer.alloc(0);
  private le = true;
  private nano = false;
  linktype?: number;

  /** Feeds bytes; returns the records completed by them. Throws on a stream that is not pcap. */
  push(chunk: Buffer): PcapRecord[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: PcapRecord[] = [];
    let off = 0;
    if (this.linktype === undefined) {
      if (this.buf.length < 24) return out;
      const magic = this.buf.readUInt32LE(0);
      if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) this.le = true;
      else if (this.buf.readUInt32BE(0) === 0xa1b2c3d4 || this.buf.readUInt32BE(0) === 0xa1b23c4d) this.le = false;
      else throw new Error(`not a pcap stream (magic 0x${magic.toString(16)})`);
      const m = this.le ? magic : this.buf.readUInt32BE(0);
      this.nano = m === 0xa1b23c4d;
      this.linktype = this.u32(20) & 0x0fffffff;
      off = 24;
    }
    while (this.buf.length - off >= 16) {
      const incl = this.u32(off + 8);
      if (this.buf.length - off - 16 < incl) break;
      const sec = this.u32(off);
      const frac = this.u32(off + 4);
      out.push({ t: sec * 1000 + (this.nano ? frac / 1e6 : frac / 1e3), origLen: this.u32(off + 12), data: Buffer.from(this.buf.subarray(off + 16, off + 16 + incl)) });
      off += 16 + incl;
    }
    this.buf = this.buf.subarray(off);
    return out;
  }

  private u32(o: number): number {
    return this.le ? this.buf.readUInt32LE(o) : this.buf.readUInt32BE(o);
  }
}

// Type declarations for the parts of node-dhcp 0.2.20 (`dhcp` on npm) that socketlab uses as its
// codec and option table. The package ships no types; its server and client are not used (see
// DEVELOPERS.md for their defects) and so are not declared here.

declare module 'dhcp/lib/protocol.js' {
  /** A BOOTP/DHCP message as node-dhcp parses and formats it (RFC 2131 section 2). */
  export interface RawDhcpPacket {
    op: number;
    htype: number;
    hlen: number;
    hops: number;
    xid: number;
    secs: number;
    flags: number;
    ciaddr: string;
    yiaddr: string;
    siaddr: string;
    giaddr: string;
    /** `AA-BB-CC-DD-EE-FF` when parsed; `aa:bb:..` or `aa-bb-..` accepted when formatted. */
    chaddr: string;
    sname: string;
    file: string;
    magicCookie?: number;
    /** Option code -> decoded value (type per the option table). */
    options: Record<number, unknown>;
  }
  /** The package's sequential writer; `_w` is the number of bytes written. */
  export interface SeqBuffer {
    _data: Buffer;
    _w: number;
    _r: number;
  }
  const Protocol: {
    parse(buf: Buffer): RawDhcpPacket;
    format(data: RawDhcpPacket): SeqBuffer;
  };
  export default Protocol;
}

declare module 'dhcp/lib/options.js' {
  export interface OptionSpec {
    name: string;
    type: string;
    config?: string;
    attr?: string;
    enum?: Record<number, string>;
  }
  const Options: {
    opts: Record<number, OptionSpec>;
    conf: Record<string, number>;
    attr: Record<string, number>;
    addOption(code: number, opt: OptionSpec): void;
  };
  export default Options;
}

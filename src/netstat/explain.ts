import { invalidArgument } from '../errors.js';

/** What one netstat flag letter means on each system, and what to type on Linux for the Windows intent. */
interface FlagInfo {
  windows: string;
  linux: string;
  /** Linux netstat/ss letters that do what the Windows flag does ([] = no socket-table equivalent). */
  linuxForWindows: string[];
  note?: string;
}

/** Flag letters from the course notes (-a -b -f -n -p -l -t, -ano) and their neighbours. Windows: `netstat /?`; Linux: net-tools netstat(8). */
export const FLAGS: Record<string, FlagInfo> = {
  a: { windows: 'all connections and listening ports', linux: 'all sockets, listening ones too (default: connected only)', linuxForWindows: ['a'] },
  b: {
    windows: 'the executable behind each connection/listening port; needs an elevated (Administrator) prompt',
    linux: 'no such flag (netstat: invalid option)',
    linuxForWindows: ['p'],
    note: 'Linux shows the program with -p (PID/Program name); run it as root (sudo) to see other users\' processes.',
  },
  e: { windows: 'Ethernet statistics (bytes and packets per interface)', linux: 'extended: adds the User and Inode columns', linuxForWindows: [], note: 'Interface counters on Linux: ip -s link (or netstat -i).' },
  f: {
    windows: 'fully qualified domain names (FQDN) for foreign addresses',
    linux: 'no such flag (netstat: invalid option)',
    linuxForWindows: [],
    note: 'Linux netstat resolves names by default (leave out -n to get names); there is no FQDN switch.',
  },
  n: { windows: 'addresses and ports as numbers (no DNS or service-name lookups)', linux: 'addresses and ports as numbers (no DNS or /etc/services lookups)', linuxForWindows: ['n'] },
  o: {
    windows: 'owning process ID (PID) column',
    linux: 'timers: retransmit/keepalive/TIME-WAIT countdown per socket (--timers)',
    linuxForWindows: ['p'],
    note: 'The PID on Linux comes from -p, not -o (ss -o also means timers).',
  },
  p: {
    windows: '-p PROTO: only this protocol (TCP, UDP, TCPv6, UDPv6; with -s also IP, ICMP ...)',
    linux: 'PID/Program name owning each socket (root sees every process)',
    linuxForWindows: [],
    note: 'Windows -p picks a protocol, Linux -p shows the program: the same letter, two different questions.',
  },
  l: { windows: 'no such flag (use -a and look for LISTENING)', linux: 'listening sockets only', linuxForWindows: ['l'] },
  t: {
    windows: 'current connection offload state (InHost/Offloaded) — not "time" as the notes say',
    linux: 'TCP sockets only (--tcp) — not "time" either',
    linuxForWindows: [],
    note: 'The course notes call -t "time": no netstat has that. Linux -t = TCP; Windows -t = offload state.',
  },
  u: { windows: 'no such flag (use -p UDP)', linux: 'UDP sockets only (--udp)', linuxForWindows: ['u'] },
  r: { windows: 'routing table (same as "route print")', linux: 'kernel routing table (modern tool: ip route)', linuxForWindows: [], note: 'Routing table on Linux: ip route (netstat -rn still works).' },
  s: { windows: 'per-protocol statistics (IP, ICMP, TCP, UDP counters)', linux: 'per-protocol statistics (modern tools: nstat -a, ss -s)', linuxForWindows: [], note: 'Protocol counters on Linux: nstat -a or netstat -s; ss -s sums sockets per state.' },
  x: { windows: 'NetworkDirect connections and listeners', linux: 'Unix domain sockets', linuxForWindows: [] },
  q: { windows: 'all connections, listening ports and bound non-listening TCP ports', linux: 'no such flag', linuxForWindows: ['a'] },
  c: { windows: 'no such flag (give an interval number instead)', linux: 'continuous: repeat every second', linuxForWindows: ['c'] },
  W: { windows: 'no such flag', linux: 'wide: do not truncate IPv6 addresses', linuxForWindows: ['W'] },
};

const LONG: Record<string, string> = {
  all: 'a', numeric: 'n', program: 'p', programs: 'p', listening: 'l', tcp: 't', udp: 'u', timers: 'o',
  extend: 'e', route: 'r', statistics: 's', unix: 'x', continuous: 'c', wide: 'W',
};

/** Windows `-p PROTO` values and the Linux letters that select the same sockets. */
const PROTOCOLS: Record<string, string[]> = { tcp: ['t'], udp: ['u'], tcpv6: ['t', '6'], udpv6: ['u', '6'], ip: [], ipv6: [], icmp: [], icmpv6: [] };

/** Letters that exist only on Windows (or mean the Windows thing) and only on Linux. */
const WINDOWS_ONLY = new Set(['b', 'f', 'o', 'q']);
const LINUX_ONLY = new Set(['l', 'u', 'c', 'W']);

export interface FlagExplanation {
  /** As typed: `-a`, `/a`, `--tcp`, `-p TCP`. */
  flag: string;
  letter: string;
  windows: string;
  linux: string;
  /** true when the same letter asks the two systems different questions. */
  differs: boolean;
  /** Linux flags that give the Windows meaning, when there are any. */
  linuxForWindows: string[];
  known: boolean;
}

/** The whole explanation; `--explain --json` prints this. */
export interface NetstatExplanation {
  input: string;
  /** How the command line reads: Windows-only flags seen, Linux-only flags seen, both kinds (mixed), or only flags both share. */
  style: 'windows' | 'linux' | 'mixed' | 'either';
  flags: FlagExplanation[];
  /** Windows `-p PROTO` argument, when given. */
  protocol?: string;
  /** Windows trailing interval in seconds (`netstat -an 5`). */
  interval?: number;
  /** What to type on Linux for the same question. */
  linux: { ss: string; netstat: string; socketlab: string };
  notes: string[];
}

const tokenize = (s: string): string[] => s.trim().split(/\s+/).filter(Boolean);

/**
 * Explains a netstat command line from the course notes, flag by flag, for Windows and Linux, and
 * gives the Linux command that asks the same question. Accepts `-ano`, `-a -b`, `/a /n`, `-p tcp`,
 * Linux `-tulpn` and long options, with or without a leading `netstat`.
 */
export function explainNetstat(input: string): NetstatExplanation {
  const tokens = tokenize(input);
  while (tokens[0] && /^(sudo|netstat(\.exe)?)$/i.test(tokens[0])) tokens.shift();
  if (tokens.length === 0) throw invalidArgument(`--explain needs netstat flags, e.g. --explain "netstat -ano" (got "${input}")`);
  const flags: FlagExplanation[] = [];
  let protocol: string | undefined;
  let interval: number | undefined;
  const add = (letter: string, typed: string): void => {
    const info = FLAGS[letter] ?? FLAGS[letter.toLowerCase()];
    const key = FLAGS[letter] ? letter : letter.toLowerCase();
    if (!info) {
      flags.push({ flag: typed, letter, windows: 'not a flag from the notes (see netstat /?)', linux: 'not a flag from the notes (see man netstat)', differs: false, linuxForWindows: [], known: false });
      return;
    }
    flags.push({ flag: typed, letter: key, windows: info.windows, linux: info.linux, differs: info.windows !== info.linux && !(key === 'a' || key === 'n'), linuxForWindows: info.linuxForWindows, known: true });
  };
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (/^\d+$/.test(tok)) {
      interval = Number(tok);
      continue;
    }
    const long = /^--([a-z-]+)$/.exec(tok);
    if (long) {
      const letter = LONG[long[1]!];
      if (letter) add(letter, tok);
      else flags.push({ flag: tok, letter: tok, windows: 'no long options on Windows', linux: 'not an option from the notes (see man netstat)', differs: false, linuxForWindows: [], known: false });
      continue;
    }
    const m = /^[-/]([A-Za-z]+)$/.exec(tok);
    if (!m) throw invalidArgument(`--explain: "${tok}" is not a netstat flag; give flags like -ano, -a -b, /a or -p tcp (input: "${input}")`);
    const letters = [...m[1]!];
    letters.forEach((raw, j) => {
      // Windows accepts /A as /a; Linux's -W is the one upper-case letter we explain as itself.
      const letter = raw === 'W' ? 'W' : raw.toLowerCase();
      const next = tokens[i + 1];
      if (letter === 'p' && j === letters.length - 1 && next && PROTOCOLS[next.toLowerCase()] !== undefined) {
        protocol = next.toUpperCase().replace('V6', 'v6');
        add('p', `${tok[0]}p ${next}`);
        i++;
        return;
      }
      add(letter, `${tok[0]}${raw}`);
    });
  }

  const letters = new Set(flags.map((f) => f.letter));
  const slashStyle = tokens.some((t) => t.startsWith('/'));
  const windowsSigns = slashStyle || protocol !== undefined || interval !== undefined || [...letters].some((l) => WINDOWS_ONLY.has(l));
  const linuxSigns = tokens.some((t) => t.startsWith('--')) || [...letters].some((l) => LINUX_ONLY.has(l)) || (letters.has('p') && protocol === undefined);
  const style: NetstatExplanation['style'] = windowsSigns ? (linuxSigns ? 'mixed' : 'windows') : linuxSigns ? 'linux' : 'either';

  // The Linux flags that ask the same question as the command line (read as Windows when it looks Windows).
  const out = new Set<string>();
  const notes: string[] = [];
  for (const f of flags) {
    if (!f.known) continue;
    if (style === 'windows') {
      if (f.letter === 'p' && protocol) for (const l of PROTOCOLS[protocol.toLowerCase()] ?? []) out.add(l);
      else for (const l of f.linuxForWindows) out.add(l);
    } else if (FLAGS[f.letter]!.linux.startsWith('no such') || (style === 'mixed' && WINDOWS_ONLY.has(f.letter))) {
      for (const l of f.linuxForWindows) out.add(l);
    } else {
      out.add(f.letter);
    }
    const note = FLAGS[f.letter]!.note;
    if (note && f.differs && !notes.includes(note)) notes.push(note);
  }
  if (out.has('a') && out.has('l')) {
    out.delete('l');
    notes.push('-a already includes the listening sockets, so -l adds nothing next to it (alone, -l shows only them).');
  }
  const listing = !letters.has('r') && !letters.has('s') && !letters.has('e');
  if (listing && !out.has('t') && !out.has('u') && !out.has('x')) {
    out.add('t');
    out.add('u');
    notes.push('Windows netstat lists only TCP and UDP; on Linux add -t -u, or you also get Unix domain sockets.');
  }
  if (letters.has('t') && style === 'windows') notes.push('Read as Windows, -t is the offload state, which Linux does not show; read as Linux it is "TCP only".');
  if (interval !== undefined) notes.push(`Windows repeats the listing every ${interval} s; on Linux: watch -n ${interval} ss -${order(out, 'ss')} (netstat -c repeats every second).`);
  if (out.has('p')) notes.push('Without root, Linux shows the program only for your own sockets: sudo ss -p.');
  const ssLetters = order(out, 'ss');
  const netstatLetters = order(out, 'netstat');
  // socketlab shows TCP and UDP by default, so -t -u together say nothing there
  const both = out.has('t') && out.has('u');
  const socketlabFlags = ['a', 'l', 'n', 'p', 't', 'u'].filter((l) => out.has(l) && !(both && (l === 't' || l === 'u'))).map((l) => `-${l}`);
  const linux = {
    ss: letters.has('r') ? 'ip route' : letters.has('s') ? 'ss -s   (counters: nstat -a)' : `ss -${ssLetters}`,
    netstat: `netstat -${netstatLetters || 'tu'}`,
    socketlab: ['socketlab netstat', ...socketlabFlags].join(' '),
  };
  return { input, style, flags, ...(protocol ? { protocol } : {}), ...(interval !== undefined ? { interval } : {}), linux, notes };
}

/** Customary order (`-tulpn`, `-tuanp`) so the suggestion looks like what people type. */
function order(letters: Set<string>, tool: 'ss' | 'netstat'): string {
  const seq = ['t', 'u', 'x', 'l', 'a', 'n', 'p', 'e', 'o', 'r', 's', 'c', 'W', '6'];
  return seq.filter((l) => letters.has(l) && !(tool === 'ss' && (l === 'W' || l === 'c'))).join('');
}

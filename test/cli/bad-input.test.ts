import { describe, expect, it } from 'vitest';
import { AS_NOBODY, runCli } from '../helpers/cli.js';
import { startEcho } from '../../src/echo/server.js';
import { isRoot } from '../helpers/root.js';

// Each case: the arguments, the exit code, and what the one-line message must say.
const cases: [string[], number, RegExp][] = [
  [['ports', '70000'], 2, /out of range.*65535/],
  [['ports', '-1'], 2, /negative/],
  [['ports', '1.5'], 2, /not a whole number/],
  [['ports', 'nosuchservice'], 2, /unknown service "nosuchservice"/],
  [['ports', 'a/b'], 2, /neither a port number/],
  [['echo', '--port', '70000'], 2, /--port 70000 is out of range/],
  [['echo', '--port', 'abc'], 2, /--port "abc" is not a number/],
  [['echo', '--idle-timeout', '-5'], 2, /--idle-timeout/],
  // hosts are IP literals or localhost: never a wildcard by accident, never the system resolver
  [['echo', '--host', '999.1.1.1', '--port', '0'], 2, /--host "999.1.1.1" is not an IP address/],
  [['echo', '--host', '', '--port', '0'], 2, /--host is empty/],
  [['echo', '--host', 'example.invalid', '--port', '0'], 2, /not an IP address.*not looked up/],
  [['echo', '--host', '10.255.255.1', '--port', '0'], 1, /"10.255.255.1" is not an address of this machine/],
  // 2^31 ms and more overflow setTimeout (Node fires at once with a TimeoutOverflowWarning)
  [['echo', '--idle-timeout', '2147484', '--port', '0'], 2, /--idle-timeout "2147484" is too large: at most 2147483/],
  [['connect', 'example.invalid:8920'], 2, /"example.invalid" is not an IP address/],
  [['connect', '999.1.1.1:8920'], 2, /"999.1.1.1" is not an IP address/],
  [['connect', '127.0.0.1'], 2, /has no port/],
  [['connect', '127.0.0.1:0'], 2, /port 0/],
  [['connect', '127.0.0.1:99999'], 2, /out of range/],
  [['connect', '127.0.0.1:1', '--count', '0'], 2, /--count "0" must be a whole number from 1/],
  [['connect', '127.0.0.1:1'], 1, /refused: nothing is listening/],
  [['nosuchcommand'], 2, /unknown command/],
  [['echo', '--nosuchflag'], 2, /unknown option/],
];

describe('CLI bad input', () => {
  it.each(cases)('socketlab %j exits %i with a message', async (args, code, message) => {
    const r = await runCli(args, { timeoutMs: 10_000 });
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('names the port holder when the port is in use', async () => {
    await using srv = await startEcho({ port: 0, udp: false });
    const r = await runCli(['echo', '--tcp', '--port', String(srv.address.port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`tcp/${srv.address.port} on 127.0.0.1: the port is already in use`));
  });

  it('explains that well-known ports need root or CAP_NET_BIND_SERVICE', async () => {
    // As root, drop to nobody so the kernel really refuses the bind; otherwise run as we are.
    const r = isRoot
      ? await runCli(['echo', '--tcp', '--port', '80'], { wrap: AS_NOBODY })
      : await runCli(['echo', '--tcp', '--port', '80']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/well-known.*root or CAP_NET_BIND_SERVICE/);
  });
});

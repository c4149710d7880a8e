// Load generator for the echo benchmark, run as its own process so it never shares a core's event
// loop with the server under test. Bounded: stops after `seconds` or `maxRoundTrips`, whichever first.
// Usage: node echo-load.mjs rtt PORT CONNECTIONS SECONDS | bulk PORT SECONDS | idle PORT CONNECTIONS SECONDS
import net from 'node:net';

const [mode, portText, a, b] = process.argv.slice(2);
const port = Number(portText);
const host = '127.0.0.1';

function connect() {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

async function rtt(connections, seconds) {
  const msg = Buffer.alloc(64, 0x78);
  const maxRoundTrips = 50_000_000;
  const sockets = await Promise.all(Array.from({ length: connections }, connect));
  let count = 0;
  let running = true;
  const start = process.hrtime.bigint();
  await new Promise((done) => {
    setTimeout(() => { running = false; done(); }, seconds * 1000);
    for (const s of sockets) {
      let pending = 0;
      s.on('data', (d) => {
        pending += d.length;
        while (pending >= 64) {
          pending -= 64;
          count++;
          if (running && count < maxRoundTrips) s.write(msg);
        }
      });
      s.write(msg);
    }
  });
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  for (const s of sockets) s.destroy();
  return { roundTrips: count, seconds: secs, perSecond: count / secs };
}

async function bulk(seconds) {
  // Time-bounded (and capped at 16 GiB): send 64 KiB chunks as fast as the echo comes back.
  const s = await connect();
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  const cap = 16 * 1024 ** 3;
  let received = 0;
  let sent = 0;
  let running = true;
  const start = process.hrtime.bigint();
  await new Promise((done) => {
    setTimeout(() => { running = false; done(); }, seconds * 1000);
    s.on('data', (d) => { received += d.length; });
    const pump = () => {
      while (running && sent < cap) {
        sent += chunk.length;
        if (!s.write(chunk)) return s.once('drain', pump);
      }
    };
    pump();
  });
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  s.destroy();
  return { mib: received / 1024 / 1024, seconds: secs, mibPerSecond: received / 1024 / 1024 / secs };
}

async function idle(connections, seconds) {
  // Opens the connections (in batches, so the server's accept queue keeps up), says so on stdout,
  // holds them without sending a byte, and closes them after `seconds` or when stdin closes.
  const sockets = [];
  for (let i = 0; i < connections; i += 500) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(500, connections - i) }, connect))));
  }
  process.stdout.write(JSON.stringify({ open: sockets.length }) + '\n');
  await new Promise((done) => {
    const t = setTimeout(done, seconds * 1000);
    process.stdin.on('end', () => { clearTimeout(t); done(); }).resume();
  });
  for (const s of sockets) s.destroy();
  return { held: sockets.length };
}

const result = mode === 'rtt' ? await rtt(Number(a), Number(b)) : mode === 'idle' ? await idle(Number(a), Number(b)) : await bulk(Number(a));
process.stdout.write(JSON.stringify(result) + '\n');

import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { filterSockets, findPair, listSockets, toolArgs } from './sockets.js';
import { parseSs } from './ss-parse.js';
import { isLabError, type LabError } from '../errors.js';

const rows = parseSs(readFileSync(new URL('./fixtures/ss-a-tu-p.txt', import.meta.url), 'utf8')).records;
const meta = JSON.parse(readFileSync(new URL('./fixtures/meta.json', import.meta.url), 'utf8')) as {
  tcp: { listen4: number; listenMapped: number; estMappedClientPort: number; est4ClientPorts: number[] };
};

async function rejection(p: Promise<unknown>): Promise<LabError> {
  try {
    await p;
  } catch (err) {
    if (isLabError(err)) return err;
    throw err;
  }
  throw new Error('expected a LabError');
}

describe('filterSockets', () => {
  it('default view hides LISTEN/UNCONN, -l shows only them, -a shows all', () => {
    const def = filterSockets(rows, {});
    expect(def.length).toBeGreaterThan(0);
    expect(def.some((r) => r.state === 'LISTEN' || r.state === 'UNCONN')).toBe(false);
    expect(def.some((r) => r.state === 'TIME-WAIT')).toBe(true);
    const l = filterSockets(rows, { listening: true });
    expect(new Set(l.map((r) => r.state))).toEqual(new Set(['LISTEN', 'UNCONN']));
    expect(filterSockets(rows, { all: true })).toHaveLength(rows.length);
  });
  it('transport, port and state filters', () => {
    expect(filterSockets(rows, { all: true, udp: true }).every((r) => r.proto === 'udp')).toBe(true);
    expect(filterSockets(rows, { all: true, tcp: true }).every((r) => r.proto === 'tcp')).toBe(true);
    const port = filterSockets(rows, { all: true, port: meta.tcp.listen4 });
    expect(port.every((r) => r.local.port === meta.tcp.listen4 || r.remote.port === meta.tcp.listen4)).toBe(true);
    expect(port.filter((r) => r.state === 'LISTEN')).toHaveLength(1);
    // --state overrides the listening/connected split, in any spelling
    expect(filterSockets(rows, { state: 'listen', port: meta.tcp.listen4 })).toHaveLength(1);
    expect(filterSockets(rows, { state: 'TIME_WAIT' }).every((r) => r.state === 'TIME-WAIT')).toBe(true);
  });
});

describe('findPair', () => {
  it('finds each side of a connection by its own local/remote order', () => {
    const [c] = meta.tcp.est4ClientPorts;
    const client = { address: '127.0.0.1', port: c! };
    const server = { address: '127.0.0.1', port: meta.tcp.listen4 };
    expect(findPair(rows, client, server)?.local.port).toBe(c);
    expect(findPair(rows, server, client)?.local.port).toBe(meta.tcp.listen4);
    expect(findPair(rows, client, server, 'udp')).toBeUndefined();
    expect(findPair(rows, client, { address: '127.0.0.2', port: meta.tcp.listen4 })).toBeUndefined();
  });
  it('treats ::ffff:127.0.0.1 as 127.0.0.1', () => {
    const found = findPair(rows, { address: '127.0.0.1', port: meta.tcp.estMappedClientPort }, { address: '127.0.0.1', port: meta.tcp.listenMapped }, 'tcp');
    expect(found?.local.address).toBe('::ffff:127.0.0.1');
    expect(found?.state).toBe('ESTABLISHED');
  });
});

describe('listSockets argument checks', () => {
  it('neither tool on the path: LAB_ERR_TOOL_MISSING naming both Debian packages', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sl-nopath-'));
    try {
      const err = await rejection(listSockets({ searchPath: empty }));
      expect(err.code).toBe('LAB_ERR_TOOL_MISSING');
      expect(err.exitCode).toBe(2);
      expect(err.message).toMatch(/ss \(Debian package iproute2\) or netstat \(Debian package net-tools\)/);
      expect(err.message).toMatch(/apt-get install iproute2 net-tools/);
      const only = await rejection(listSockets({ searchPath: empty, tool: 'netstat' }));
      expect(only.message).toMatch(/apt-get install net-tools"$/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
  it.each([
    [{ port: 70000 }, /70000 is out of range/],
    [{ state: 'NOPE' }, /unknown socket state "NOPE"/],
    [{ tool: 'foo' as 'ss' }, /unknown tool "foo"/],
    [{ netns: 'a b' }, /bad network namespace name/],
  ])('%j -> usage error', async (opts, msg) => {
    const err = await rejection(listSockets(opts));
    expect(err.code).toBe('LAB_ERR_INVALID_ARGUMENT');
    expect(err.message).toMatch(msg);
  });
  it('asks the tools for the whole numeric inet table', () => {
    expect(toolArgs('ss', true)).toEqual(['-H', '-n', '-a', '-t', '-u', '-p']);
    expect(toolArgs('netstat', false)).toEqual(['-n', '-a', '-t', '-u', '-W']);
  });
});

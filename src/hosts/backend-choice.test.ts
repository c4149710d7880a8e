import { describe, expect, it } from 'vitest';
import { parseBackend } from './index.js';
import { chooseBackend, topologyFor } from '../lab/runner.js';
import { resolveLab } from '../lab/loader.js';

describe('--backend', () => {
  it('accepts local, netns, docker and auto; anything else is bad input (exit 2)', () => {
    expect(['local', 'netns', 'docker', 'auto'].map(parseBackend)).toEqual(['local', 'netns', 'docker', 'auto']);
    expect(() => parseBackend('vbox')).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/unknown backend "vbox"/) }));
  });

  it('auto follows the lab hosts; local refuses a namespace lab', () => {
    expect(chooseBackend(resolveLab('07-dhcp'))).toBe('netns');
    expect(chooseBackend(resolveLab('02-socket-pairs'))).toBe('local');
    expect(chooseBackend(resolveLab('07-dhcp'), 'docker')).toBe('docker');
    expect(() => chooseBackend(resolveLab('07-dhcp'), 'local')).toThrow(/--backend local runs only localhost labs/);
  });

  it('docker builds every namespace host with its segments, and a localhost lab as one container with no network', () => {
    const ns = topologyFor(resolveLab('08-dhcp-relay'), 'docker', 'x1');
    expect(ns.topo.hosts.map((h) => h.name).sort()).toEqual(resolveLab('08-dhcp-relay').hosts.map((h) => h.name).sort());
    expect(ns.topo.segments.length).toBeGreaterThan(0);
    const local = topologyFor(resolveLab('02-socket-pairs'), 'docker', 'x2');
    expect(local.topo.hosts.map((h) => h.name)).toEqual(['local']);
    expect(local.topo.segments).toEqual([]);
  });
});

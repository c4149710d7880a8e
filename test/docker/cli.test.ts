import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { AS_NOBODY, runCli } from '../helpers/cli.js';
import { cleanDocker } from '../../src/hosts/docker/clean.js';
import { describeDocker, dockerUserChain, ensureImage, labelled } from './helpers.js';

const lab = `test-kill-${randomBytes(3).toString('hex')}`;
const TOPOLOGY = fileURLToPath(new URL('../../dist/hosts/docker/topology.js', import.meta.url));

/** Exactly one line on stderr, nothing on stdout, exit 2. */
function oneLineExit2(r: { code: number | null; stdout: string; stderr: string }): void {
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.code).toBe(2);
}

describe('image build: bad input', () => {
  it('no engine (bogus DOCKER_HOST): one line, exit 2, says what to do', async () => {
    const r = await runCli(['image', 'build'], { env: { DOCKER_HOST: 'tcp://127.0.0.1:1' } });
    oneLineExit2(r);
    expect(r.stderr).toMatch(/no Docker engine at tcp:\/\/127\.0\.0\.1:1 .*docker\.io/);
  });
  it('docker clean without an engine: the same line', async () => {
    const r = await runCli(['docker', 'clean'], { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    oneLineExit2(r);
    expect(r.stderr).toMatch(/no Docker engine at unix:\/\/\/nonexistent\/docker\.sock \(ENOENT\)/);
  });
});

describeDocker('image build and docker clean against the engine', () => {
  const cleanup: string[] = [];
  beforeAll(async () => {
    await ensureImage();
  }, 300_000);
  afterAll(async () => {
    await cleanDocker(lab);
    for (const image of cleanup) execFileSync('docker', ['image', 'rm', '-f', image], { stdio: 'ignore' });
  });

  it('base image missing: one line naming scripts/docker-base.sh, exit 2', async () => {
    const r = await runCli(['image', 'build', '--base', `socketlab-test-missing:${randomBytes(3).toString('hex')}`, '--tag', 'socketlab-test:never']);
    oneLineExit2(r);
    expect(r.stderr).toMatch(/base image socketlab-test-missing:\w+ is not on the Docker engine: .*scripts\/docker-base\.sh/);
  });

  it('base image without node: one line, exit 2', async () => {
    // an image with no files at all
    const base = `socketlab-test-nonode:${randomBytes(3).toString('hex')}`;
    execFileSync('sh', ['-c', `tar -c -T /dev/null | docker import - ${base}`], { stdio: 'ignore' });
    cleanup.push(base);
    const r = await runCli(['image', 'build', '--base', base, '--tag', 'socketlab-test:never']);
    oneLineExit2(r);
    expect(r.stderr).toContain(`base image ${base} has no node`);
  });

  it.runIf(process.getuid?.() === 0)('no permission on the socket: one line, exit 2', async () => {
    const r = await runCli(['image', 'build'], { wrap: AS_NOBODY, env: { DOCKER_HOST: '' } });
    oneLineExit2(r);
    expect(r.stderr).toMatch(/no permission to use the Docker engine at .*docker group/);
  });

  it('kill -9 of a process that built a topology, then docker clean: nothing labelled is left', async () => {
    const script = `
      const { createDockerTopology } = await import(${JSON.stringify(TOPOLOGY)});
      await createDockerTopology({ hosts: [{ name: 'a' }, { name: 'b' }], segments: [{ name: 'lan', members: [{ host: 'a', address: '10.0.63.1/24' }, { host: 'b' }] }] }, { lab: ${JSON.stringify(lab)} });
      console.log('built');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 600 && !out.includes('built') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('built');
    child.kill('SIGKILL');
    await once(child, 'close');
    expect((await labelled(lab)).length).toBe(3); // two containers and one network survive the runner
    // and, on an engine with its iptables rules, the DOCKER-USER rule for the lab's bridge
    const chain = dockerUserChain();
    if (chain !== undefined) expect(chain).toContain(`socketlab.lab=${lab}`);

    const r = await runCli(['docker', 'clean', '--lab', lab]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/removed network sl-\w+-lan/);
    if (chain !== undefined) expect(r.stdout).toMatch(/removed iptables rule DOCKER-USER slb-\w+-0/);
    expect(await labelled(lab)).toEqual([]);
    expect(dockerUserChain() ?? '').not.toContain(`socketlab.lab=${lab}`);
  });
});

import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// the built module (npm run build): a child process cannot load TypeScript
const CLOCK = fileURLToPath(new URL('../../dist/core/pause-clock.js', import.meta.url));

describe('pause clock', () => {
  it('a 1 s sleep on the pause clock does not count 2.5 s spent stopped by SIGTSTP', async () => {
    // a child on the pause clock: prints when it starts and what both clocks say when its sleep ends
    const code = `import { installPauseClock, pauseNow, pauseSleep } from ${JSON.stringify(CLOCK)};
installPauseClock(); const w0 = Date.now(), p0 = pauseNow(); console.log('ready');
await pauseSleep(1000); console.log(JSON.stringify({ wall: Date.now() - w0, lab: pauseNow() - p0 }));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((r) => child.stdout.on('data', () => out.includes('ready') && r()));
    child.kill('SIGTSTP');
    await new Promise((r) => setTimeout(r, 2_500));
    child.kill('SIGCONT');
    await new Promise((r) => child.on('close', r));
    const res = JSON.parse(out.split('\n')[1]!) as { wall: number; lab: number };
    // with Node's own timers the sleep would end on SIGCONT, after 2.5 s of wall and lab time alike
    expect(res.wall - res.lab).toBeGreaterThanOrEqual(2_000);
    expect(res.lab).toBeGreaterThanOrEqual(1_000);
  }, 20_000);
});

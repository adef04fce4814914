import { describe, expect, it } from 'vitest';
import { realClock, unrefClock } from './real-clock.ts';

describe('realClock', () => {
  it('gives epoch milliseconds close to Date.now()', () => {
    expect(Math.abs(realClock.now() - Date.now())).toBeLessThan(1000);
  });

  it('sleep resolves no earlier than asked, and a cleared timer does not fire', async () => {
    let fired = false;
    const h = realClock.setTimeout(() => {
      fired = true;
    }, 1);
    realClock.clearTimeout(h);
    const t0 = realClock.now();
    await realClock.sleep(20);
    expect(realClock.now() - t0).toBeGreaterThanOrEqual(19);
    expect(fired).toBe(false);
  });

  it('runs a zero-delay timer on the next turn of the event loop, not a millisecond later, and can cancel it', async () => {
    const order: string[] = [];
    const cancelled = realClock.setTimeout(() => order.push('cancelled'), 0);
    realClock.setTimeout(() => order.push('zero'), 0);
    realClock.clearTimeout(cancelled);
    // An immediate queued after ours: by the time it runs, the zero timer has fired, which a 1 ms
    // setTimeout would not have (the check phase comes before the next timers phase).
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(order).toEqual(['zero']);
  });

  it('unrefClock keeps real time but its timers do not hold the process open', async () => {
    const { spawnSync } = await import('node:child_process');
    // A child that sets a one-hour timer on each clock: the unref'd one must let it exit at once.
    const script = (name: string) =>
      `import('${new URL('./real-clock.ts', import.meta.url).pathname}').then((m) => { m.${name}.setTimeout(() => {}, 3600000); m.${name}.setTimeout(() => {}, 0); });`;
    const run = (name: string, timeout: number) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', script(name)], { timeout, encoding: 'utf8' });
    const unrefd = run('unrefClock', 15_000);
    expect(unrefd.status).toBe(0);
    const held = run('realClock', 2500);
    expect(held.error?.message ?? '').toMatch(/ETIMEDOUT/);
    expect(Math.abs(unrefClock.now() - realClock.now())).toBeLessThan(50);
    const t0 = unrefClock.now();
    await unrefClock.sleep(10);
    expect(unrefClock.now() - t0).toBeGreaterThanOrEqual(9);
  });
});

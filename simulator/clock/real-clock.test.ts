import { describe, expect, it } from 'vitest';
import { realClock } from './real-clock.ts';

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
});

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
});

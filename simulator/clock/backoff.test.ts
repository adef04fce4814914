import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.ts';

describe('Backoff', () => {
  it('doubles from initialMs up to maxMs and starts again after reset', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('spreads delays by ±jitter and never exceeds maxMs', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.2, random: () => 0 });
    const high = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.2, random: () => 0.999999 });
    expect(low.next()).toBe(80);
    expect(high.next()).toBe(120);
    for (let i = 0; i < 100; i++) high.next();
    expect(high.next()).toBe(1000);
  });

  it('uses 250 ms doubling to 10 s by default', () => {
    const b = new Backoff({ jitter: 0 });
    const delays = Array.from({ length: 8 }, () => b.next());
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('rejects bad options with a TypeError naming them', () => {
    expect(() => new Backoff({ initialMs: -1 })).toThrow(/"initialMs"/);
    expect(() => new Backoff({ initialMs: 100, maxMs: 50 })).toThrow(/"maxMs"/);
    expect(() => new Backoff({ factor: 0.5 })).toThrow(/"factor"/);
    expect(() => new Backoff({ jitter: 2 })).toThrow(/"jitter"/);
  });

  it("keeps the nominal delay as the upper bound with jitterDirection 'down'", () => {
    const low = new Backoff({
      initialMs: 1000,
      maxMs: 16_000,
      jitter: 0.5,
      jitterDirection: 'down',
      random: () => 0,
    });
    const high = new Backoff({
      initialMs: 1000,
      maxMs: 16_000,
      jitter: 0.5,
      jitterDirection: 'down',
      random: () => 0.999999,
    });
    expect([low.next(), low.next(), low.next()]).toEqual([1000, 2000, 4000]);
    expect([high.next(), high.next()]).toEqual([500, 1000]);
    expect(low.delayFor(10)).toBe(16_000);
    expect(low.attempt).toBe(3);
  });
});

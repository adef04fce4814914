import { describe, expect, it } from 'vitest';
import { VirtualClock } from './virtual-clock.ts';

describe('VirtualClock', () => {
  it('fires timers in time order and ends at the target time', () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    clock.setTimeout(() => log.push(`c@${clock.now()}`), 30);
    clock.setTimeout(() => log.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => log.push(`b@${clock.now()}`), 20);
    clock.advance(25);
    expect(log).toEqual(['a@10', 'b@20']);
    expect(clock.now()).toBe(25);
    expect(clock.pending).toBe(1);
    clock.advance(5);
    expect(log).toEqual(['a@10', 'b@20', 'c@30']);
    expect(clock.pending).toBe(0);
  });

  it('fires timers due at the same time in insertion order', () => {
    const clock = new VirtualClock();
    const log: number[] = [];
    for (let i = 0; i < 20; i++) clock.setTimeout(() => log.push(i), 5);
    clock.advance(5);
    expect(log).toEqual([...Array(20).keys()]);
  });

  it('fires timers set by a firing timer when they fall inside the window', () => {
    const clock = new VirtualClock({ start: 1000 });
    const log: string[] = [];
    clock.setTimeout(() => {
      log.push(`outer@${clock.now()}`);
      clock.setTimeout(() => log.push(`inner@${clock.now()}`), 5);
      clock.setTimeout(() => log.push(`late@${clock.now()}`), 50);
      clock.setTimeout(() => log.push(`zero@${clock.now()}`), 0);
    }, 10);
    clock.advance(20);
    expect(log).toEqual(['outer@1010', 'zero@1010', 'inner@1015']);
    expect(clock.pending).toBe(1);
    expect(clock.nextTimerAt()).toBe(1060);
  });

  it('keeps fractional wire times exact', () => {
    const clock = new VirtualClock();
    let at = -1;
    clock.setTimeout(
      () => {
        at = clock.now();
      },
      16 * (11 / 2400) * 1000,
    );
    clock.advance(73.3);
    expect(at).toBe(-1);
    clock.advance(0.1);
    expect(at).toBeCloseTo(73.3333, 3);
  });

  it('clearTimeout cancels, and ignores fired timers and foreign handles', () => {
    const clock = new VirtualClock();
    const other = new VirtualClock();
    let fired = 0;
    const h = clock.setTimeout(() => fired++, 10);
    const foreign = other.setTimeout(() => fired++, 10);
    clock.clearTimeout(foreign);
    expect(other.pending).toBe(1);
    clock.clearTimeout(h);
    clock.clearTimeout(h);
    expect(clock.pending).toBe(0);
    clock.advance(100);
    expect(fired).toBe(0);
    const h2 = clock.setTimeout(() => fired++, 1);
    clock.advance(1);
    clock.clearTimeout(h2);
    expect(fired).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('treats negative and NaN delays as zero', () => {
    const clock = new VirtualClock();
    let fired = 0;
    clock.setTimeout(() => fired++, -5);
    clock.setTimeout(() => fired++, Number.NaN);
    clock.advance(0);
    expect(fired).toBe(2);
  });

  it('advance does not run promise continuations between timers', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const chain = (async () => {
      await clock.sleep(10);
      log.push(`first@${clock.now()}`);
    })();
    clock.advance(30);
    expect(log).toEqual([]);
    await chain;
    // The sleep resolved at 10, but its continuation only ran after advance returned.
    expect(log).toEqual(['first@30']);
  });

  it('advanceAsync runs promise chains between timers at the right times', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const chain = (async () => {
      await clock.sleep(10);
      log.push(`first@${clock.now()}`);
      await clock.sleep(10);
      log.push(`second@${clock.now()}`);
    })();
    await clock.advanceAsync(30);
    expect(log).toEqual(['first@10', 'second@20']);
    expect(clock.now()).toBe(30);
    await chain;
  });

  it('advanceAsync fires zero-delay timers set by continuations at the target time', async () => {
    const clock = new VirtualClock();
    let done = false;
    void clock.sleep(10).then(() => clock.setTimeout(() => (done = true), 0));
    await clock.advanceAsync(10);
    expect(done).toBe(true);
  });

  it('runAll fires everything, nested timers included, and reports the count', () => {
    const clock = new VirtualClock();
    clock.setTimeout(() => clock.setTimeout(() => undefined, 100), 10);
    expect(clock.runAll()).toBe(2);
    expect(clock.now()).toBe(110);
  });

  it('runAll stops a timer that re-arms itself forever with a RangeError', () => {
    const clock = new VirtualClock({ maxTimersPerRun: 50 });
    const rearm = () => {
      clock.setTimeout(rearm, 0);
    };
    rearm();
    expect(() => clock.runAll()).toThrow(/maxTimersPerRun \(50\)/);
  });

  it('propagates an exception from a timer and leaves the rest pending', () => {
    const clock = new VirtualClock();
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 5);
    clock.setTimeout(() => undefined, 8);
    expect(() => clock.advance(10)).toThrow('boom');
    expect(clock.now()).toBe(5);
    expect(clock.pending).toBe(1);
  });

  it('validates its options and arguments', () => {
    expect(() => new VirtualClock({ start: Number.NaN })).toThrow(TypeError);
    expect(() => new VirtualClock({ start: Number.NaN })).toThrow(/"start"/);
    expect(() => new VirtualClock({ maxTimersPerRun: 0 })).toThrow(/"maxTimersPerRun"/);
    expect(() => new VirtualClock().advance(-1)).toThrow(RangeError);
  });

  it('handles many timers in order', () => {
    const clock = new VirtualClock();
    const times: number[] = [];
    for (let i = 0; i < 10_000; i++) clock.setTimeout(() => times.push(clock.now()), (i * 7919) % 10_007);
    clock.runAll();
    expect(times.length).toBe(10_000);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]);
  });
});

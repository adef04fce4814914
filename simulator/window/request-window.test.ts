import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.ts';
import { counterIds, sequenceIds, singleId } from './id-space.ts';
import { RequestWindow, RequestWindowError } from './request-window.ts';

function seqWindow(
  overrides: { window?: number; maxQueued?: number; quarantineMs?: number; size?: number } = {},
) {
  const clock = new VirtualClock();
  const window = new RequestWindow<number, string>({
    ids: sequenceIds(overrides.size ?? 16),
    window: overrides.window ?? 2,
    maxQueued: overrides.maxQueued ?? 1,
    quarantineMs: overrides.quarantineMs ?? 1000,
    clock,
  });
  return { clock, window };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof RequestWindowError ? e.code : String(e);
  }
}

describe('RequestWindow limits', () => {
  it('refuses one request beyond window + maxQueued with WINDOW_FULL at once, sending nothing', async () => {
    const { window } = seqWindow({ window: 2, maxQueued: 1 });
    const sent: number[] = [];
    const a = window.request((id) => void sent.push(id), { timeoutMs: 100 });
    const b = window.request((id) => void sent.push(id), { timeoutMs: 100 });
    const c = window.request((id) => void sent.push(id), { timeoutMs: 100 });
    const d = window.request((id) => void sent.push(id), { timeoutMs: 100 });
    expect(await codeOf(d)).toBe('WINDOW_FULL');
    expect(sent).toEqual([0, 1]);
    expect(window.inFlight).toBe(2);
    expect(window.queued).toBe(1);
    expect(window.settle(0, 'r0')).toBe('settled');
    expect(sent).toEqual([0, 1, 2]);
    expect((await a).reply).toBe('r0');
    window.close();
    expect(await codeOf(b)).toBe('WINDOW_CLOSED');
    expect(await codeOf(c)).toBe('WINDOW_CLOSED');
  });

  it('never has more than `window` requests in flight while many are queued', () => {
    const { window } = seqWindow({ window: 3, maxQueued: 100 });
    let max = 0;
    const live = new Set<number>();
    for (let i = 0; i < 50; i++) {
      void window
        .request(
          (id) => {
            live.add(id);
            max = Math.max(max, live.size);
          },
          { timeoutMs: 100 },
        )
        .catch(() => undefined);
    }
    for (let i = 0; i < 50; i++) {
      const id = [...live][0];
      live.delete(id);
      expect(window.settle(id, 'ok')).toBe('settled');
    }
    expect(max).toBe(3);
    expect(window.inFlight).toBe(0);
  });

  it('does not hand out a timed-out SEQ until its late answer arrives, and the late answer settles nothing', async () => {
    const { clock, window } = seqWindow({ size: 2, window: 1, maxQueued: 5, quarantineMs: 10_000 });
    const sent: number[] = [];
    const first = window.request((id) => void sent.push(id), { timeoutMs: 100 });
    clock.advance(100);
    expect(await codeOf(first)).toBe('WINDOW_TIMEOUT');
    expect(window.isQuarantined(0)).toBe(true);
    const second = window.request((id) => void sent.push(id), { timeoutMs: 100 });
    const third = window.request((id) => void sent.push(id), { timeoutMs: 100 });
    expect(sent).toEqual([0, 1]);
    expect(window.settle(1, 'for second')).toBe('settled');
    expect((await second).reply).toBe('for second');
    // SEQ 1 is free again but 0 is not: the third goes out on 1.
    expect(sent).toEqual([0, 1, 1]);
    expect(window.settle(0, 'stale')).toBe('late');
    expect(window.isQuarantined(0)).toBe(false);
    expect(window.settle(1, 'for third')).toBe('settled');
    expect((await third).reply).toBe('for third');
  });

  it('releases a quarantined id after quarantineMs when no late answer comes', async () => {
    const { clock, window } = seqWindow({ size: 1, window: 1, maxQueued: 1, quarantineMs: 500 });
    const sent: number[] = [];
    const first = window.request((id) => void sent.push(id), { timeoutMs: 100 });
    clock.advance(100);
    expect(await codeOf(first)).toBe('WINDOW_TIMEOUT');
    const second = window.request((id) => void sent.push(id), { timeoutMs: 1000 });
    clock.advance(499);
    expect(sent).toEqual([0]);
    expect(window.queued).toBe(1);
    clock.advance(1);
    expect(sent).toEqual([0, 0]);
    expect(window.settle(0, 'fresh')).toBe('settled');
    expect((await second).latencyMs).toBe(0);
  });

  it('counts queueing time against the deadline when timeoutFrom is "request", quarantining nothing', async () => {
    const { clock, window } = seqWindow({ window: 1, maxQueued: 1 });
    const first = window.request(() => undefined, { timeoutMs: 300 });
    const second = window.request(() => undefined, { timeoutMs: 100, timeoutFrom: 'request' });
    clock.advance(100);
    expect(await codeOf(second)).toBe('WINDOW_TIMEOUT');
    expect(window.quarantined).toBe(0);
    window.settle(0, 'ok');
    expect((await first).latencyMs).toBe(100);
  });

  it('starts the timeout when send resolves with timeoutFrom "sent" (a frame timeout after the bytes are out)', async () => {
    const { clock, window } = seqWindow({ window: 1 });
    const p = codeOf(window.request(() => clock.sleep(70), { timeoutMs: 100, timeoutFrom: 'sent' }));
    await clock.advanceAsync(70);
    await clock.advanceAsync(99);
    expect(window.inFlight).toBe(1);
    await clock.advanceAsync(1);
    expect(await p).toBe('WINDOW_TIMEOUT');
  });

  it('frees the id at once when send throws or rejects, and rejects with that error', async () => {
    const { window } = seqWindow({ size: 1, window: 1 });
    const boom = window.request(
      () => {
        throw new Error('socket gone');
      },
      { timeoutMs: 100 },
    );
    expect(await codeOf(boom)).toBe('Error: socket gone');
    const rejected = window.request(() => Promise.reject(new Error('write failed')), { timeoutMs: 100 });
    expect(await codeOf(rejected)).toBe('Error: write failed');
    expect(window.quarantined).toBe(0);
    const ok = window.request(() => undefined, { timeoutMs: 100 });
    expect(window.settle(0, 'fine')).toBe('settled');
    expect((await ok).reply).toBe('fine');
  });

  it('matches an answer that arrives while send is still running', async () => {
    const { window } = seqWindow();
    const p = window.request((id) => void window.settle(id, 'quick'), { timeoutMs: 100 });
    expect((await p).reply).toBe('quick');
  });

  it('withdraws on abort: queued requests vanish, in-flight ids are quarantined', async () => {
    const { window } = seqWindow({ window: 1, maxQueued: 2 });
    const a = new AbortController();
    const b = new AbortController();
    const first = window.request(() => undefined, { timeoutMs: 100, signal: a.signal });
    const second = window.request(() => undefined, { timeoutMs: 100, signal: b.signal });
    b.abort(new Error('user left'));
    expect(await codeOf(second)).toBe('Error: user left');
    a.abort(new Error('cancelled'));
    expect(await codeOf(first)).toBe('Error: cancelled');
    expect(window.isQuarantined(0)).toBe(true);
    expect(window.settle(0, 'late')).toBe('late');
  });

  it('fails everything on close, with the given error, and refuses later requests', async () => {
    const { clock, window } = seqWindow({ window: 1, maxQueued: 1 });
    const a = window.request(() => undefined, { timeoutMs: 100 });
    const b = window.request(() => undefined, { timeoutMs: 100 });
    window.close(new Error('link closed'));
    expect(await codeOf(a)).toBe('Error: link closed');
    expect(await codeOf(b)).toBe('Error: link closed');
    expect(await codeOf(window.request(() => undefined, { timeoutMs: 100 }))).toBe('Error: link closed');
    expect(window.settle(0, 'x')).toBe('unknown');
    expect(clock.pending).toBe(0);
  });

  it('validates its options, naming the one that is wrong', async () => {
    const clock = new VirtualClock();
    const base = { ids: sequenceIds(16), window: 8, maxQueued: 0, quarantineMs: 0, clock };
    expect(() => new RequestWindow({ ...base, window: 17 })).toThrow(
      /"window" must be an integer 1–16 \(SEQ 0–15\)/,
    );
    expect(() => new RequestWindow({ ...base, window: 0 })).toThrow(TypeError);
    expect(() => new RequestWindow({ ...base, maxQueued: -1 })).toThrow(/"maxQueued"/);
    expect(() => new RequestWindow({ ...base, quarantineMs: Number.NaN })).toThrow(/"quarantineMs"/);
    expect(() => sequenceIds(0)).toThrow(/"size"/);
    const w = new RequestWindow<number, string>(base);
    expect(await codeOf(w.request(() => undefined, { timeoutMs: 0 }))).toMatch(/"timeoutMs"/);
  });
});

describe('id spaces', () => {
  it('sequenceIds cycles 0..size-1 after the last one handed out, skipping busy ids', () => {
    const ids = sequenceIds(4);
    const busy = new Set([1]);
    const got = [0, 1, 2, 3, 4].map(() => ids.take((id) => busy.has(id)));
    expect(got).toEqual([0, 2, 3, 0, 2]);
    expect(ids.take(() => true)).toBeUndefined();
  });

  it('counterIds never repeats and singleId gives one id at a time', async () => {
    const clock = new VirtualClock();
    const w = new RequestWindow<string, number>({
      ids: counterIds(),
      window: 3,
      maxQueued: 0,
      quarantineMs: 0,
      clock,
    });
    const sent: string[] = [];
    for (let i = 0; i < 3; i++)
      void w.request((id) => void sent.push(id), { timeoutMs: 10 }).catch(() => undefined);
    clock.advance(10);
    for (let i = 0; i < 2; i++)
      void w.request((id) => void sent.push(id), { timeoutMs: 10 }).catch(() => undefined);
    expect(sent).toEqual(['1', '2', '3', '4', '5']);
    // quarantineMs 0: a counter id is never reused, so an answer to a timed-out one is simply unknown.
    expect(w.settle('1', 0)).toBe('unknown');

    const bus = new RequestWindow<'only', string>({
      ids: singleId(),
      window: 1,
      maxQueued: 4,
      quarantineMs: 50,
      clock,
    });
    const order: string[] = [];
    const one = bus.request(() => void order.push('one'), { timeoutMs: 100 });
    const two = bus.request(() => void order.push('two'), { timeoutMs: 100 });
    expect(order).toEqual(['one']);
    bus.settle('only', 'A');
    expect(order).toEqual(['one', 'two']);
    bus.settle('only', 'B');
    expect([(await one).reply, (await two).reply]).toEqual(['A', 'B']);
  });
});

import { describe, expect, it } from 'vitest';
import { Rs485Bus } from '../bus/index.ts';
import { VirtualClock } from '../clock/index.ts';
import { Cjt188Meter, ConsumptionModel, Dlt645Meter, MeterOnBus } from '../meter/index.ts';
import { busTransport, MeterPort } from './meter-port.ts';
import { type PollRound, PollSchedule } from './poll-schedule.ts';

const model = new ConsumptionModel({ seed: 11 });
const W = '00000000101001';
const E = '000000101002';
const SILENT = '00000000101003';

describe('PollSchedule', () => {
  it('polls at period boundaries from local midnight and keeps last reading and daily frozen value', async () => {
    // 23:45 at UTC+8.
    const clock = new VirtualClock({ start: Date.parse('2024-03-01T15:45:00Z') });
    const bus = new Rs485Bus({ clock });
    new MeterOnBus(new Cjt188Meter({ address: W, model, clock }), bus);
    new MeterOnBus(new Dlt645Meter({ address: E, model, clock }), bus);
    const ports = new Map([[1, new MeterPort({ port: 1, transport: busTransport(bus, 'c'), clock })]]);
    const rounds: PollRound[] = [];
    const poll = new PollSchedule({
      clock,
      periodMs: 30 * 60_000,
      ports,
      frameTimeoutMs: 500,
      meters: [
        { address: W, protocol: 'cjt188', port: 1 },
        { address: E, protocol: 'dlt645', port: 1 },
        { address: SILENT, protocol: 'cjt188', port: 1 },
      ],
      onRound: (r) => rounds.push(r),
    });
    poll.start();
    await clock.advanceAsync(15 * 60_000 - 1);
    expect(rounds).toHaveLength(0);
    for (let i = 0; i < 300 && rounds.length === 0; i++) await clock.advanceAsync(10);
    const midnight = Date.parse('2024-03-01T16:00:00Z');
    expect(rounds[0].startedAt).toBe(midnight);
    expect(rounds[0]).toMatchObject({ read: 2, failed: 1 });
    const w = poll.record(W);
    expect(w?.value).toBeCloseTo(model.readingAt(W, w?.readAt as number), 2);
    expect(w?.frozen?.day).toBe('2024-03-02');
    expect(
      Math.abs((w?.frozen?.value as number) - model.dailyFrozenAt(W, midnight + 1000)),
    ).toBeLessThanOrEqual(0.011);
    expect(poll.record(E)?.unit).toBe('kWh');
    expect(poll.record(SILENT)).toMatchObject({ failures: 1, lastOutcome: 'silence' });
    // The next round keeps the frozen value of the day and moves the last reading.
    await clock.advanceAsync(30 * 60_000);
    for (let i = 0; i < 300 && rounds.length < 2; i++) await clock.advanceAsync(10);
    expect(rounds[1].startedAt).toBe(midnight + 30 * 60_000);
    expect(poll.record(W)?.frozen?.at).toBe(w?.frozen?.at);
    poll.stop();
  });
});

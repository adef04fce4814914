import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../simulator/clock/index.ts';
import { createMemoryPair, type MemoryPair } from '../../simulator/link/index.ts';
import {
  Cjt188Meter,
  ConsumptionModel,
  Dlt645Meter,
  type FaultRule,
  MeterHost,
  type SimulatedMeter,
} from '../../simulator/meter/index.ts';
import { MeterPoller, type MeterPollerOptions } from './meter-poller.ts';
import { PollError } from './poll-error.ts';

const START = Date.parse('2024-03-15T02:30:00Z');
const model = new ConsumptionModel({ seed: 11 });

let pair: MemoryPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

async function rig(
  meters: (clock: VirtualClock) => SimulatedMeter[],
  options: Partial<MeterPollerOptions> = {},
) {
  const clock = new VirtualClock({ start: START });
  pair = createMemoryPair();
  await pair.open();
  const host = await MeterHost.start({ link: pair.b, meters: meters(clock), clock });
  const poller = new MeterPoller({ link: pair.a, protocol: 'cjt188', clock, timeoutMs: 1000, ...options });
  /** Runs an operation to completion on the virtual clock. */
  const run = async <T>(op: Promise<T>): Promise<T> => {
    let settled = false;
    op.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    for (let i = 0; i < 200 && !settled; i++) await clock.advanceAsync(100);
    return op;
  };
  return { clock, host, poller, run };
}

const cjt =
  (
    address: string,
    faults: FaultRule[] = [],
    extra: Partial<ConstructorParameters<typeof Cjt188Meter>[0]> = {},
  ) =>
  (clock: VirtualClock) => [new Cjt188Meter({ address, model, clock, faults, ...extra })];

async function failure(p: Promise<unknown>): Promise<PollError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof PollError) return error;
    throw error;
  }
  throw new Error('expected a PollError');
}

describe('MeterPoller over a simulated bus (virtual clock)', () => {
  it('reads a CJ/T 188 meter and returns the model reading with status and time', async () => {
    const { poller, run } = await rig(cjt('101001'));
    const result = await run(poller.read('101001'));
    expect(result.address).toBe('00000000101001');
    expect(result.reading.unit).toBe('m3');
    expect(result.reading.status?.valve).toBe('open');
    expect(result.attempts).toBe(1);
    // Request (20 bytes) + turnaround + reply (37 bytes) at 2400 8E1.
    expect(result.elapsedMs).toBeCloseTo(((20 + 37) * 11 * 1000) / 2400 + 20, 6);
    // The meter read its register when the request had crossed the wire: 20 bytes at 2400 8E1.
    expect(result.reading.value).toBe(model.readingAt('00000000101001', START + (20 * 11 * 1000) / 2400));
  });

  it('picks the right meter among several on the port', async () => {
    const { poller, run } = await rig((clock) =>
      ['101001', '101002', '101003'].map((a) => new Cjt188Meter({ address: a, model, clock })),
    );
    for (const a of ['101003', '101001']) {
      const r = await run(poller.read(a));
      expect(r.address).toBe(a.padStart(14, '0'));
    }
  });

  it('closing the valve shows in the next read', async () => {
    const { poller, run } = await rig(cjt('101001'));
    const v = await run(poller.valve('101001', 'close'));
    expect(v.status?.valve).toBe('closed');
    expect((await run(poller.read('101001'))).reading.status?.valve).toBe('closed');
  });

  it('scan finds the address of the only meter', async () => {
    const { poller, run } = await rig(cjt('77123'));
    expect((await run(poller.scan())).address).toBe('00000000077123');
  });

  it('scan with several meters fails on the collision', async () => {
    const { poller, run } = await rig(
      (clock) => ['1', '2'].map((a) => new Cjt188Meter({ address: a, model, clock })),
      {
        retries: 0,
      },
    );
    const error = await failure(run(poller.scan()));
    expect(error.code).toBe('BAD_REPLY');
    expect(error.message).toMatch(/form no frame|bad reply/);
  });

  it('silence: METER_TIMEOUT naming what was sent, after all retries', async () => {
    const { poller, run } = await rig(cjt('101001', [{ kind: 'silence', when: { always: true } }]));
    const error = await failure(run(poller.read('101001')));
    expect(error.code).toBe('METER_TIMEOUT');
    expect(error.attempts).toBe(3);
    expect(error.message).toMatch(
      /no reply from meter 00000000101001 within 1000 ms; sent FE FE FE FE 68 10 01 10 10/,
    );
    expect(error.sent).toMatch(/^FE FE FE FE 68/);
  });

  it('silence every 2nd request: the retry succeeds', async () => {
    const { poller, run } = await rig(cjt('101002', [{ kind: 'silence', when: { every: 2 } }]));
    await run(poller.read('101002'));
    expect((await run(poller.read('101002'))).attempts).toBe(2);
  });

  it('late past the timeout: timeout, and the stale reply is ignored by the retry (SER check)', async () => {
    const { poller, run } = await rig(cjt('101001', [{ kind: 'late', when: { every: 2 }, delayMs: 1500 }]), {
      retries: 1,
    });
    await run(poller.read('101001')); // request 1: on time
    const r = await run(poller.read('101001')); // request 2 late → timeout; request 3 answered
    expect(r.attempts).toBe(2);
  });

  it('bad checksum: BAD_CHECKSUM', async () => {
    const { poller, run } = await rig(cjt('101001', [{ kind: 'bad-checksum', when: { always: true } }]), {
      retries: 0,
    });
    const error = await failure(run(poller.read('101001')));
    expect(error.code).toBe('BAD_CHECKSUM');
    expect(error.received).toMatch(/^FE FE 68/);
  });

  it('truncated: BAD_REPLY with TRUNCATED, and a retry recovers', async () => {
    const { poller, run } = await rig(cjt('101001', [{ kind: 'truncated', when: { every: 2 } }]), {
      retries: 0,
    });
    await run(poller.read('101001'));
    const error = await failure(run(poller.read('101001')));
    expect(error.code).toBe('BAD_REPLY');
    expect(error.protocolCode).toBe('TRUNCATED');
    await pair?.close();
    const retried = await rig(cjt('101002', [{ kind: 'truncated', when: { every: 2 } }]));
    await retried.run(retried.poller.read('101002'));
    expect((await retried.run(retried.poller.read('101002'))).attempts).toBe(2);
  });

  it('noise before the reply is skipped', async () => {
    const { poller, run } = await rig(
      cjt('101001', [{ kind: 'noise', when: { always: true }, noiseBytes: 20 }]),
    );
    const r = await run(poller.read('101001'));
    expect(r.attempts).toBe(1);
  });

  it('wrong address: ADDRESS_MISMATCH', async () => {
    const { poller, run } = await rig(cjt('101001', [{ kind: 'wrong-address', when: { always: true } }]), {
      retries: 0,
    });
    const error = await failure(run(poller.read('101001')));
    expect(error.code).toBe('ADDRESS_MISMATCH');
    expect(error.message).toMatch(/00000000101002/);
    expect(error.detail).toMatchObject({
      reason: 'ADDRESS_MISMATCH',
      protocol: 'cjt188',
      expected: '00000000101001',
      got: '00000000101002',
    });
  });

  it('duplicate: the read succeeds and the copy does not disturb the next read', async () => {
    const { poller, run, host, clock } = await rig(
      cjt('101001', [{ kind: 'duplicate', when: { always: true } }]),
    );
    const a = await run(poller.read('101001'));
    await clock.advanceAsync(1000); // let the copy pass: a request sent over it would collide
    const b = await run(poller.read('101001'));
    expect(a.attempts).toBe(1);
    expect(b.attempts).toBe(1);
    expect(host.meters[0].events.ofKind('reply')).toHaveLength(4);
  });

  it('error reply: ABNORMAL_REPLY with the ST word, not retried', async () => {
    const { poller, run } = await rig(cjt('101001', [{ kind: 'error-reply', when: { always: true } }]));
    const error = await failure(run(poller.read('101001')));
    expect(error.code).toBe('ABNORMAL_REPLY');
    expect(error.attempts).toBe(1);
    expect(error.message).toMatch(/ST 0000/);
    expect(error.detail).toMatchObject({
      reason: 'ABNORMAL_REPLY',
      statusWord: '0000',
      meaning: 'valve open',
    });
  });

  it('reads a DL/T 645 meter, scans it, and refuses valve control', async () => {
    const { poller, run } = await rig((clock) => [new Dlt645Meter({ address: '101001', model, clock })], {
      protocol: 'dlt645',
    });
    const r = await run(poller.read('101001'));
    expect(r.reading).toMatchObject({ unit: 'kWh' });
    expect(typeof r.reading.value).toBe('number');
    expect((await run(poller.scan())).address).toBe('000000101001');
    const abnormal = await failure(run(poller.read('101001', { di: '0001FF00' })));
    expect(abnormal.code).toBe('ABNORMAL_REPLY');
    expect(abnormal.message).toMatch(/no data requested/);
    expect((await failure(poller.valve('101001', 'close'))).code).toBe('UNSUPPORTED');
  });
});

describe('judging replies', () => {
  it("ignores a CJ/T 188 reply whose SER is not the request's (a late or duplicated reply)", async () => {
    const { judgeCjt188 } = await import('./meter-poller.ts');
    const { buildReadRequest, buildWaterReadReply } = await import('../../protocols/cjt188/index.ts');
    const old = buildReadRequest('101001', '901F', { ser: 4 });
    const req = buildReadRequest('101001', '901F', { ser: 5 });
    const staleReply = buildWaterReadReply(old, { current: 1, time: null });
    const freshReply = buildWaterReadReply(req, { current: 1, time: null });
    expect(judgeCjt188(req, staleReply, 5, true, 'm')).toBe('ignore');
    expect(judgeCjt188(req, freshReply, 5, true, 'm')).toBe('accept');
    expect(judgeCjt188(req, staleReply, 5, false, 'm')).toBe('accept');
    expect(judgeCjt188(req, req, 5, true, 'm')).toBe('ignore');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../simulator/scenario/index.ts';
import { type RunningDemo, runDemo } from '../demo/run-demo.ts';

// Whole chain with misbehaving meters: every read through the relay is answered exactly once, with a reading
// or a typed error that says what went wrong in the field.
const ephemeral = { host: '127.0.0.1', port: 0 };
const faulty = (address: string, kind: string, when: object) => ({ address, faults: [{ kind, when }] });

const scenario = parseScenario(
  {
    name: 'faults',
    seed: 7,
    concentrators: [
      {
        a1: '0171',
        a2: 1,
        alias: '201',
        ports: [
          {
            port: 1,
            wireTiming: false,
            turnaroundMs: 0,
            meters: [
              { address: '201001' },
              faulty('201002', 'silence', { always: true }),
              faulty('201003', 'bad-checksum', { always: true }),
              faulty('201004', 'wrong-address', { always: true }),
              faulty('201005', 'error-reply', { always: true }),
              faulty('201006', 'silence', { every: 2 }),
              faulty('201007', 'noise', { always: true }),
              faulty('201008', 'duplicate', { always: true }),
              faulty('201009', 'truncated', { always: true }),
            ],
          },
        ],
      },
    ],
  },
  'faults scenario',
);

describe('the chain under meter faults', () => {
  let demo: RunningDemo;

  beforeAll(async () => {
    demo = await runDemo({
      scenario,
      master: ephemeral,
      api: ephemeral,
      relay: ephemeral,
      masterOptions: { meterFrameTimeoutMs: 1000 },
    });
  }, 120_000);

  afterAll(async () => {
    await demo?.stop();
  });

  it('answers every read exactly once, with the error each fault should cause', () => {
    const byMeter = Object.fromEntries(demo.outcomes.map((o) => [o.target.meter.replace(/^0+/, ''), o]));
    expect(demo.outcomes).toHaveLength(9);
    expect(byMeter['201001'].reading?.unit).toBe('m3');
    expect(byMeter['201002'].error?.code).toBe('METER_TIMEOUT');
    expect(byMeter['201003'].error?.code).toBe('BAD_REPLY');
    expect(byMeter['201004'].error?.code).toBe('BAD_REPLY');
    expect(byMeter['201005'].error?.code).toBe('BAD_REPLY');
    // Silent on every 2nd request only: the first read (request 1) is answered.
    expect(byMeter['201006'].reading).toBeDefined();
    // Noise before the reply and a duplicated reply are survivable: the concentrator frames the real reply.
    expect(byMeter['201007'].reading).toBeDefined();
    expect(byMeter['201008'].reading).toBeDefined();
    expect(byMeter['201009'].error?.code).toMatch(/BAD_REPLY|METER_TIMEOUT/);
    expect(demo.mismatches).toEqual([]);
  });
});

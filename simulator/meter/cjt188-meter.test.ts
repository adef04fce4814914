import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../protocols/bytes.ts';
import {
  buildReadAddressRequest,
  buildReadRequest,
  buildValveRequest,
  buildWriteAddressRequest,
  buildWriteBaseReadingRequest,
  buildWriteTimeRequest,
  type Cjt188Frame,
  decodeCjt188Frame,
  encodeCjt188,
  makeCjt188Frame,
} from '../../protocols/cjt188/index.ts';
import { VirtualClock } from '../clock/index.ts';
import { Cjt188Meter, HEAT_KWH_PER_M3 } from './cjt188-meter.ts';
import { ConsumptionModel } from './consumption.ts';
import type { FaultRule } from './fault-plan.ts';

const START = Date.parse('2024-03-15T02:30:00Z');
const model = new ConsumptionModel({ seed: 42 });

function meter(options: Partial<ConstructorParameters<typeof Cjt188Meter>[0]> = {}) {
  const clock = new VirtualClock({ start: START });
  return new Cjt188Meter({ address: '101001', model, clock, ...options });
}

/** The request as the meter would hear it: encoded, then decoded. */
function wire(frame: Cjt188Frame): Cjt188Frame {
  return decodeCjt188Frame(encodeCjt188(frame));
}

function only(plans: { bytes: Uint8Array }[]): Cjt188Frame {
  expect(plans).toHaveLength(1);
  return decodeCjt188Frame(plans[0].bytes);
}

describe('Cjt188Meter', () => {
  it('pads a short address to 14 digits', () => {
    expect(meter().address).toBe('00000000101001');
  });

  it('answers a 901F read with the consumption model reading, meter time and status', () => {
    const m = meter();
    const reply = only(m.respond(wire(buildReadRequest('101001', '901F', { ser: 7 })), START));
    expect(reply.control).toBe(0x81);
    expect(reply.address).toBe('00000000101001');
    expect(reply.preamble).toBe(2);
    if (reply.body.kind !== 'read-reply' || reply.body.data.type !== 'water') throw new Error('not water');
    expect(reply.body.ser).toBe(7);
    expect(reply.body.diOrder).toBe('low-first');
    expect(reply.body.data.current.value).toBe(model.readingAt('00000000101001', START));
    expect(reply.body.data.settlement.value).toBe(model.settlementReadingAt('00000000101001', START));
    expect(reply.body.data.time).toBe('2024-03-15 10:30:00');
    expect(reply.body.data.status.valve).toBe('open');
  });

  it('replies in its own DI byte order whatever the request used', () => {
    const m = meter({ diOrder: 'high-first' });
    const reply = only(m.respond(wire(buildReadRequest('101001', '901F', { diOrder: 'low-first' })), START));
    if (reply.body.kind !== 'read-reply') throw new Error('not a read reply');
    expect(reply.body.diOrder).toBe('high-first');
  });

  it('ignores requests to other addresses and other meter types, answers the AA wildcard', () => {
    const m = meter();
    expect(m.respond(wire(buildReadRequest('101002', '901F')), START)).toEqual([]);
    expect(m.respond(wire(buildReadRequest('101001', '901F', { meterType: 0x30 })), START)).toEqual([]);
    expect(m.respond(wire(buildReadRequest('AAAAAAAAAAAAAA', '901F')), START)).toHaveLength(1);
    expect(
      m.respond(wire(buildReadRequest('AAAAAAAA101001', '901F', { meterType: 0xaa })), START),
    ).toHaveLength(1);
    const reply = only(m.respond(wire(buildReadAddressRequest()), START));
    expect(reply.control).toBe(0x83);
    expect(reply.address).toBe('00000000101001');
    expect(reply.meterType).toBe(0x10);
  });

  it('closes and opens its valve by command, and the status bits follow', () => {
    const m = meter();
    const closed = only(m.respond(wire(buildValveRequest('101001', 'close')), START));
    expect(closed.control).toBe(0x84);
    if (closed.body.kind !== 'write-reply') throw new Error('not a write reply');
    expect(closed.body.status?.valve).toBe('closed');
    const read = only(m.respond(wire(buildReadRequest('101001', '901F')), START + 1000));
    if (read.body.kind !== 'read-reply' || read.body.data.type !== 'water') throw new Error('not water');
    expect(read.body.data.status.valve).toBe('closed');
    m.respond(wire(buildValveRequest('101001', 'open')), START + 2000);
    expect(m.valve).toBe('open');
    expect(m.events.ofKind('valve').map((e) => e.to)).toEqual(['closed', 'open']);
  });

  it('takes a new address and answers only to it afterwards', () => {
    const m = meter();
    const reply = only(m.respond(wire(buildWriteAddressRequest('101001', '55')), START));
    expect(reply.control).toBe(0x95);
    expect(reply.address).toBe('00000000101001');
    expect(m.address).toBe('00000000000055');
    expect(m.respond(wire(buildReadRequest('101001', '901F')), START)).toEqual([]);
    const read = only(m.respond(wire(buildReadRequest('55', '901F')), START));
    if (read.body.kind !== 'read-reply' || read.body.data.type !== 'water') throw new Error('not water');
    expect(read.body.data.current.value).toBe(model.readingAt('00000000101001', START));
  });

  it('sets its base reading and keeps counting from it', () => {
    const m = meter();
    const reply = only(m.respond(wire(buildWriteBaseReadingRequest('101001', 1234.56)), START));
    expect(reply.control).toBe(0x96);
    expect(m.readingAt(START)).toBe(1234.56);
    const later = START + 6 * 3_600_000;
    const grown = model.readingAt(m.modelKey, later) - model.readingAt(m.modelKey, START);
    expect(m.readingAt(later)).toBeCloseTo(1234.56 + grown, 1);
  });

  it('sets its clock from a time write and reports it in reads', () => {
    const m = meter();
    only(
      m.respond(
        wire(
          buildWriteTimeRequest('101001', { year: 2030, month: 1, day: 2, hour: 3, minute: 4, second: 5 }),
        ),
        START,
      ),
    );
    const read = only(m.respond(wire(buildReadRequest('101001', '901F')), START + 10_000));
    if (read.body.kind !== 'read-reply' || read.body.data.type !== 'water') throw new Error('not water');
    expect(read.body.data.time).toBe('2030-01-02 03:04:15');
  });

  it('answers history months, the settlement day, and refuses DIs it does not serve', () => {
    const m = meter();
    const h2 = only(m.respond(wire(buildReadRequest('101001', 'D121')), START));
    if (h2.body.kind !== 'read-reply' || h2.body.data.type !== 'history') throw new Error('not history');
    expect(h2.body.data.value).toBe(model.readingAt(m.modelKey, Date.parse('2024-01-31T16:00:00Z')));
    const day = only(m.respond(wire(buildReadRequest('101001', '8103')), START));
    if (day.body.kind !== 'read-reply') throw new Error('not a reply');
    expect(day.body.data).toEqual({ type: 'settlement-day', day: 1 });
    expect(only(m.respond(wire(buildReadRequest('101001', '8102')), START)).control).toBe(0xc1);
  });

  it("echoes the request's SER in the abnormal reply to a DI it does not know", () => {
    // DATA of a read is DI(2) SER(1) (docs/cjt188.md §1.6); an unknown DI decodes as opaque, but its SER is
    // still the third byte.
    const request = makeCjt188Frame({
      meterType: 0x10,
      address: '00000000101001',
      control: 0x01,
      body: { kind: 'opaque', data: '341207' },
    });
    const reply = only(meter().respond(wire(request), START));
    expect(reply.control).toBe(0xc1);
    expect(reply.body).toMatchObject({ kind: 'error-reply', ser: 0x07 });
  });

  it('serves heat meters with the heat layout', () => {
    const m = meter({ kind: 'heat' });
    const reply = only(m.respond(wire(buildReadRequest('101001', '901F', { meterType: 0x20 })), START));
    if (reply.body.kind !== 'read-reply' || reply.body.data.type !== 'heat') throw new Error('not heat');
    const flow = model.readingAt(m.modelKey, START);
    expect(reply.body.data.accumulatedFlow.value).toBe(flow);
    expect(reply.body.data.currentHeat.value).toBe(Math.round(flow * HEAT_KWH_PER_M3 * 100) / 100);
  });

  describe('faults', () => {
    const read = () => wire(buildReadRequest('101001', '901F'));
    const faulty = (...faults: FaultRule[]) => meter({ faults });

    it('silence sends nothing and logs the fault', () => {
      const m = faulty({ kind: 'silence', when: { always: true } });
      expect(m.respond(read(), START)).toEqual([]);
      expect(m.events.ofKind('fault').map((e) => e.fault)).toEqual(['silence']);
    });

    it('late delays the reply', () => {
      const m = faulty({ kind: 'late', when: { always: true }, delayMs: 1500 });
      expect(m.respond(read(), START)[0].delayMs).toBe(1500);
    });

    it('bad-checksum spoils only the CS byte', () => {
      const m = faulty({ kind: 'bad-checksum', when: { always: true } });
      const [plan] = m.respond(read(), START);
      expect(() => decodeCjt188Frame(plan.bytes)).toThrow(/checksum/);
      const fixed = plan.bytes.slice();
      fixed[fixed.length - 2] = (fixed[fixed.length - 2] + 255) & 0xff;
      expect(decodeCjt188Frame(fixed).control).toBe(0x81);
    });

    it('truncated sends the first half', () => {
      const m = faulty({ kind: 'truncated', when: { always: true } });
      const [plan] = m.respond(read(), START);
      expect(plan.bytes.length).toBe(Math.floor((2 + 13 + 22) / 2));
    });

    it('noise precedes the reply with bytes that hold no start byte', () => {
      const m = faulty({ kind: 'noise', when: { always: true }, noiseBytes: 12 });
      const [plan] = m.respond(read(), START);
      const noise = plan.bytes.subarray(0, 12);
      expect([...noise].some((b) => b === 0x68 || b === 0xfe)).toBe(false);
      expect(decodeCjt188Frame(plan.bytes.subarray(12)).control).toBe(0x81);
    });

    it('wrong-address, duplicate and error-reply change the reply as named', () => {
      expect(
        only(faulty({ kind: 'wrong-address', when: { always: true } }).respond(read(), START)).address,
      ).toBe('00000000101002');
      const dup = faulty({ kind: 'duplicate', when: { always: true } }).respond(read(), START);
      expect(dup).toHaveLength(2);
      expect(dup[1].bytes).toEqual(dup[0].bytes);
      const err = only(faulty({ kind: 'error-reply', when: { always: true } }).respond(read(), START));
      expect(err.control).toBe(0xc1);
    });

    it('every Nth request', () => {
      const m = faulty({ kind: 'silence', when: { every: 3 } });
      const counts = [1, 2, 3, 4, 5, 6].map((i) => m.respond(read(), START + i).length);
      expect(counts).toEqual([1, 1, 0, 1, 1, 0]);
    });
  });

  it('keeps a bounded event log', () => {
    const m = meter({ maxEvents: 5 });
    for (let i = 0; i < 10; i++) m.respond(wire(buildReadRequest('101001', '901F')), START + i);
    expect(m.events.size).toBe(5);
    expect(m.events.dropped).toBe(15);
  });

  it('with maxEvents 0 keeps no events and builds none, yet a listener hears every one (a fleet meter)', () => {
    const m = meter({ maxEvents: 0 });
    expect(m.events.wanted).toBe(false);
    const [plan] = m.respond(wire(buildReadRequest('101001', '901F')), START);
    expect(plan.bytes.length).toBeGreaterThan(0); // answered as always
    expect(m.events.size).toBe(0);
    expect(m.events.dropped).toBe(0); // nothing was even built
    const heard: string[] = [];
    const stop = m.events.subscribe((e) => heard.push(e.kind));
    expect(m.events.wanted).toBe(true);
    m.respond(wire(buildReadRequest('101001', '901F')), START + 1);
    expect(heard).toEqual(['request', 'reply']);
    expect(m.events.size).toBe(0);
    stop();
    expect(m.events.wanted).toBe(false);
    expect(() => meter({ maxEvents: -1 })).toThrow(/"maxEvents" must be an integer ≥ 0, got -1/);
  });

  it('logs the request and the reply as plain data: hex as on the wire and a one-line summary', () => {
    const m = meter();
    const request = encodeCjt188(buildReadRequest('101001', '901F', { ser: 3 }));
    const [plan] = m.respond(decodeCjt188Frame(request), START);
    const sent = bytesToHex(plan.bytes);
    plan.bytes.fill(0); // what the caller does with its plan does not change the log
    const [req, rep] = m.events.list();
    expect(req).toEqual({
      kind: 'request',
      at: START,
      hex: bytesToHex(request),
      summary: expect.stringMatching(/^cjt188 C=01 A=00000000101001 \{"kind":"read"/),
    });
    expect(rep).toEqual({
      kind: 'reply',
      at: START,
      hex: sent,
      summary: expect.stringMatching(/^cjt188 C=81 A=00000000101001 \{"kind":"read-reply"/),
      delayMs: 0,
    });
    expect(JSON.parse(JSON.stringify(rep))).toEqual({ ...rep });
    expect(Object.keys(rep)).toEqual(['kind', 'at', 'hex', 'summary', 'delayMs']);
  });

  it('rejects bad options by name', () => {
    expect(() => meter({ preamble: 40 })).toThrow(/"preamble"/);
    expect(() => meter({ replyDelayMs: -1 })).toThrow(/"replyDelayMs"/);
    expect(() => meter({ address: 'AAAAAAAAAAAAAA' })).toThrow(/wildcard/);
  });
});

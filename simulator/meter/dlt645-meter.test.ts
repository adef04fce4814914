import { describe, expect, it } from 'vitest';
import {
  buildReadAddressRequest,
  buildReadRequest,
  buildTimeSync,
  type Dlt645Frame,
  decodeDlt645Frame,
  encodeDlt645,
} from '../../protocols/dlt645/index.ts';
import { VirtualClock } from '../clock/index.ts';
import { ConsumptionModel } from './consumption.ts';
import { Dlt645Meter } from './dlt645-meter.ts';

const START = Date.parse('2024-03-15T02:30:00Z');
const model = new ConsumptionModel({ seed: 7 });
const meter = (options: Partial<ConstructorParameters<typeof Dlt645Meter>[0]> = {}) =>
  new Dlt645Meter({ address: '101001', model, clock: new VirtualClock({ start: START }), ...options });
const wire = (frame: Dlt645Frame) => decodeDlt645Frame(encodeDlt645(frame));
function only(plans: { bytes: Uint8Array }[]): Dlt645Frame {
  expect(plans).toHaveLength(1);
  return decodeDlt645Frame(plans[0].bytes);
}

describe('Dlt645Meter', () => {
  it('answers an energy read with the model reading', () => {
    const m = meter();
    expect(m.address).toBe('000000101001');
    const reply = only(m.respond(wire(buildReadRequest('101001', '00010000')), START));
    expect(reply.control).toBe(0x91);
    expect(reply.body).toMatchObject({
      kind: 'read-reply',
      di: '00010000',
      value: model.readingAt(m.modelKey, START),
    });
  });

  it('answers 1997 reads, settlement registers and the clock DIs', () => {
    const m = meter();
    expect(only(m.respond(wire(buildReadRequest('101001', '9010')), START)).body).toMatchObject({
      value: model.readingAt(m.modelKey, START),
    });
    expect(only(m.respond(wire(buildReadRequest('101001', '00010001')), START)).body).toMatchObject({
      value: model.settlementReadingAt(m.modelKey, START),
    });
    expect(only(m.respond(wire(buildReadRequest('101001', '04000101')), START)).body).toMatchObject({
      value: '2024-03-15',
    });
    expect(only(m.respond(wire(buildReadRequest('101001', '04000102')), START)).body).toMatchObject({
      value: '10:30:00',
    });
  });

  it('refuses unknown DIs with "no data requested"', () => {
    const reply = only(meter().respond(wire(buildReadRequest('101001', '0001FF00')), START));
    expect(reply.control).toBe(0xd1);
    expect(reply.body).toMatchObject({ kind: 'abnormal-reply', error: 0x02 });
  });

  it('answers the wildcard and the read-address request, ignores other addresses', () => {
    const m = meter();
    expect(m.respond(wire(buildReadRequest('101002', '00010000')), START)).toEqual([]);
    expect(m.respond(wire(buildReadRequest('AAAAAAAAAAAA', '00010000')), START)).toHaveLength(1);
    const reply = only(m.respond(wire(buildReadAddressRequest()), START));
    expect(reply.body).toEqual({ kind: 'read-address-reply', address: '000000101001' });
  });

  it('sets its clock from a broadcast time sync without replying', () => {
    const m = meter();
    const sync = buildTimeSync({ year: 2030, month: 6, day: 1, hour: 12, minute: 0, second: 0 });
    expect(m.respond(wire(sync), START)).toEqual([]);
    expect(m.events.ofKind('clock')).toHaveLength(1);
    expect(only(m.respond(wire(buildReadRequest('101001', '04000102')), START + 5000)).body).toMatchObject({
      value: '12:00:05',
    });
  });

  it('sends an abnormal reply for the error-reply fault', () => {
    const m = meter({ faults: [{ kind: 'error-reply', when: { always: true } }] });
    const reply = only(m.respond(wire(buildReadRequest('101001', '00010000')), START));
    expect(reply.abnormal).toBe(true);
    expect(m.events.ofKind('fault')[0].fault).toBe('error-reply');
  });
});

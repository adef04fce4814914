import { describe, expect, it, vi } from 'vitest';
import {
  buildReadAddressRequest,
  buildReadRequest,
  decodeCjt188Frame,
  encodeCjt188,
} from '../../protocols/cjt188/index.ts';
import {
  buildReadRequest as buildDlt645Read,
  buildTimeSync,
  encodeDlt645,
} from '../../protocols/dlt645/index.ts';
import { Rs485Bus } from '../bus/index.ts';
import { VirtualClock } from '../clock/index.ts';
import { Cjt188Meter } from './cjt188-meter.ts';
import { ConsumptionModel } from './consumption.ts';
import { Dlt645Meter } from './dlt645-meter.ts';
import { MeterOnBus } from './meter-on-bus.ts';

const START = Date.parse('2024-03-15T02:30:00Z');

function setup(addresses: string[], turnaroundMs = 20, replyDelayMs = 0) {
  const clock = new VirtualClock({ start: START });
  const bus = new Rs485Bus({ clock, turnaroundMs });
  const model = new ConsumptionModel({ seed: 3 });
  const heard: { bytes: Uint8Array; at: number }[] = [];
  const master = bus.attach({ name: 'master', onReceive: (bytes, at) => heard.push({ bytes, at }) });
  const meters = addresses.map((address) => new Cjt188Meter({ address, model, clock, replyDelayMs }));
  for (const m of meters) new MeterOnBus(m, bus);
  return { clock, bus, master, heard, meters, model };
}

describe('MeterOnBus', () => {
  it('a read/reply exchange takes exactly the wire time of both frames plus the turnaround', async () => {
    const { clock, bus, master, heard, model } = setup(['101001', '101002']);
    const request = encodeCjt188(buildReadRequest('101002', '901F'));
    void master.transmit(request);
    await clock.advanceAsync(2000);
    expect(heard).toHaveLength(1);
    const reply = heard[0].bytes;
    expect(reply.length).toBe(2 + 13 + 22);
    const expected = bus.wireTimeMs(request.length) + 20 + bus.wireTimeMs(reply.length);
    expect(heard[0].at - START).toBeCloseTo(expected, 3);
    // 17 + 37 bytes at 2400 8E1 (11 bits) + 20 ms
    expect(expected).toBeCloseTo(((request.length + 37) * 11 * 1000) / 2400 + 20, 3);
    const frame = decodeCjt188Frame(reply);
    if (frame.body.kind !== 'read-reply' || frame.body.data.type !== 'water') throw new Error('not water');
    // The reading is the model's at the instant the request's last byte arrived.
    expect(frame.body.data.current.value).toBe(
      model.readingAt('00000000101002', START + bus.wireTimeMs(request.length)),
    );
  });

  it('adds the reply-delay quirk to the turnaround', async () => {
    const { clock, bus, master, heard } = setup(['101001'], 10, 150);
    const request = encodeCjt188(buildReadRequest('101001', '901F'));
    void master.transmit(request);
    await clock.advanceAsync(2000);
    expect(heard[0].at - START).toBeCloseTo(bus.wireTimeMs(request.length + heard[0].bytes.length) + 160, 3);
  });

  it('overlapping replies to a wildcard request collide', async () => {
    const { clock, bus, master, heard, meters } = setup(['101001', '101002', '101003']);
    const collisions: string[][] = [];
    bus.on('collision', (c) => collisions.push([...c.parties]));
    void master.transmit(encodeCjt188(buildReadAddressRequest()));
    await clock.advanceAsync(2000);
    expect(collisions.length).toBeGreaterThan(0);
    expect(collisions[0]).toHaveLength(2);
    expect(heard).toHaveLength(3);
    // What the master heard is garbled: none of the three replies decodes intact.
    for (const h of heard) expect(() => decodeCjt188Frame(h.bytes)).toThrow();
    for (const m of meters) expect(m.events.ofKind('reply')).toHaveLength(1);
  });

  it('drops a partial frame after an idle gap so the next request is answered', async () => {
    const { clock, master, heard, meters } = setup(['101001']);
    const request = encodeCjt188(buildReadRequest('101001', '901F'));
    void master.transmit(request.subarray(0, 10));
    await clock.advanceAsync(1000);
    void master.transmit(request);
    await clock.advanceAsync(1000);
    expect(heard).toHaveLength(1);
    expect(meters[0].events.ofKind('dropped')[0].reason).toMatch(/TRUNCATED/);
  });

  describe('decodes only what may be for it', () => {
    it('skips a request for another meter and every reply on their envelope, and decodes its own once', async () => {
      const { clock, master, heard, meters } = setup(['101001', '101002', '101003']);
      const decodes = meters.map((m) => vi.spyOn(m, 'decode'));
      void master.transmit(encodeCjt188(buildReadRequest('101002', '901F')));
      await clock.advanceAsync(2000);
      expect(heard).toHaveLength(1);
      expect(decodes.map((d) => d.mock.calls.length)).toEqual([0, 1, 0]);
      expect(meters.map((m) => m.events.ofKind('request').length)).toEqual([0, 1, 0]);
      expect(meters.map((m) => m.events.ofKind('dropped').length)).toEqual([0, 0, 0]);
    });

    it('answers the all-AA wildcard and a partial wildcard whose other digits are its own', async () => {
      const { clock, master, meters } = setup(['101001', '101002', '102001']);
      void master.transmit(encodeCjt188(buildReadAddressRequest()));
      await clock.advanceAsync(2000);
      expect(meters.map((m) => m.events.ofKind('request').length)).toEqual([1, 1, 1]);
      void master.transmit(encodeCjt188(buildReadRequest('AAAAAAAAAAAA01', '901F')));
      await clock.advanceAsync(2000);
      expect(meters.map((m) => m.events.ofKind('request').length)).toEqual([2, 1, 2]);
    });

    it('still logs a request for another meter with a bad checksum as dropped', async () => {
      const { clock, master, meters } = setup(['101001', '101002']);
      const request = encodeCjt188(buildReadRequest('101002', '901F'));
      request[request.length - 2] ^= 0xff;
      void master.transmit(request);
      await clock.advanceAsync(2000);
      for (const m of meters) expect(m.events.ofKind('dropped')[0].reason).toMatch(/CHECKSUM/);
    });

    it('DL/T 645: skips another address, takes the broadcast time sync', async () => {
      const clock = new VirtualClock({ start: START });
      const bus = new Rs485Bus({ clock });
      const model = new ConsumptionModel({ seed: 3 });
      const master = bus.attach({ name: 'master', onReceive: () => undefined });
      const meters = ['101001', '101002'].map((address) => new Dlt645Meter({ address, model, clock }));
      for (const m of meters) new MeterOnBus(m, bus);
      const decodes = meters.map((m) => vi.spyOn(m, 'decode'));
      void master.transmit(encodeDlt645(buildDlt645Read('101002', '00010000')));
      await clock.advanceAsync(2000);
      expect(decodes.map((d) => d.mock.calls.length)).toEqual([0, 1]);
      void master.transmit(encodeDlt645(buildTimeSync(new Date(START + 3_600_000))));
      await clock.advanceAsync(2000);
      expect(meters.map((m) => m.events.ofKind('clock').length)).toEqual([1, 1]);
      for (const m of meters) expect(m.clockOffsetMs).not.toBe(0);
    });
  });

  it('a CJ/T 188 meter on a mixed bus answers a request that follows DL/T 645 traffic at once', async () => {
    // A DL/T 645 frame can read as the start of a long CJ/T 188 frame (its L byte is a DL/T 645 data byte): a
    // CJ/T 188 meter that held it as a partial frame would swallow the next request sent within its idle gap.
    const clock = new VirtualClock({ start: START });
    const bus = new Rs485Bus({ clock, turnaroundMs: 0 });
    const model = new ConsumptionModel({ seed: 3 });
    const heard: Uint8Array[] = [];
    const master = bus.attach({ name: 'master', onReceive: (bytes) => heard.push(bytes) });
    const water = new Cjt188Meter({ address: '401001', model, clock });
    const power = new Dlt645Meter({ address: '401005', model, clock });
    new MeterOnBus(water, bus);
    new MeterOnBus(power, bus);
    void master.transmit(encodeDlt645(buildDlt645Read('401005', '00010000')));
    for (let ms = 0; ms < 1000 && heard.length === 0; ms++) await clock.advanceAsync(1);
    expect(heard).toHaveLength(1);
    // The next request starts right after the reply, well within the meter's 100 ms idle reset.
    void master.transmit(encodeCjt188(buildReadRequest('401001', '901F')));
    await clock.advanceAsync(400);
    expect(heard).toHaveLength(2);
    expect(decodeCjt188Frame(heard[1]).address).toBe('00000000401001');
    expect(water.events.ofKind('dropped')).toEqual([]);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/virtual-clock.ts';
import { createMemoryPair, type MemoryPair } from '../link/memory-pair.ts';
import { DEFAULT_METER_SERIAL, wireTimeMs } from '../link/serial-settings.ts';
import { collect } from '../link/testing.ts';
import { type BusPort, type Collision, Rs485Bus, type Transmission } from './rs485-bus.ts';

const wire = (n: number) => wireTimeMs(n, DEFAULT_METER_SERIAL);

/** A device that records what it hears. */
function listener(name: string) {
  const heard: { bytes: Uint8Array; at: number }[] = [];
  return { name, heard, onReceive: (bytes: Uint8Array, at: number) => heard.push({ bytes, at }) };
}

describe('Rs485Bus on the virtual clock', () => {
  it('a request/reply exchange takes request wire time + turnaround + reply wire time exactly', () => {
    const clock = new VirtualClock();
    const bus = new Rs485Bus({ clock, turnaroundMs: 25 });
    const master = listener('master');
    const masterPort = bus.attach(master);
    const request = new Uint8Array(16).fill(0x68);
    const reply = new Uint8Array(30).fill(0x16);
    let meterPort: BusPort | undefined;
    meterPort = bus.attach({
      name: 'meter-1',
      onReceive: () => void meterPort!.reply(reply),
    });
    void masterPort.transmit(request);
    clock.runAll();
    expect(master.heard).toHaveLength(1);
    expect(master.heard[0].bytes).toEqual(reply);
    expect(master.heard[0].at).toBe(wire(16) + 25 + wire(30));
    expect(wire(16)).toBeCloseTo(73.333, 3);
    expect(bus.stats).toEqual({ transmissions: 2, collisions: 0 });
  });

  it('delivers a transmission to every device except the sender, when its last byte has left', () => {
    const clock = new VirtualClock({ start: 1000 });
    const bus = new Rs485Bus({ clock });
    const a = listener('a');
    const b = listener('b');
    const c = listener('c');
    const portA = bus.attach(a);
    bus.attach(b);
    bus.attach(c);
    let resolved = false;
    void portA.transmit(Uint8Array.of(1, 2, 3)).then(() => (resolved = true));
    expect(bus.busy).toBe(true);
    clock.advance(wire(3) - 0.001);
    expect(b.heard).toEqual([]);
    clock.advance(0.001);
    expect(b.heard).toEqual([{ bytes: Uint8Array.of(1, 2, 3), at: 1000 + wire(3) }]);
    expect(c.heard).toEqual(b.heard);
    expect(a.heard).toEqual([]);
    expect(bus.busy).toBe(false);
    return Promise.resolve().then(() => expect(resolved).toBe(true));
  });

  it('queues a device’s own transmissions back to back like a UART', () => {
    const clock = new VirtualClock();
    const bus = new Rs485Bus({ clock });
    const port = bus.attach(listener('a'));
    const b = listener('b');
    bus.attach(b);
    const collisions: Collision[] = [];
    bus.on('collision', (c) => collisions.push(c));
    void port.transmit(Uint8Array.of(1));
    void port.transmit(Uint8Array.of(2, 3));
    clock.runAll();
    expect(b.heard.map((h) => h.at)).toEqual([wire(1), wire(3)]);
    expect(collisions).toEqual([]);
  });

  it('two overlapping transmissions collide and listeners hear bytes that differ from both', () => {
    const clock = new VirtualClock();
    const bus = new Rs485Bus({ clock, seed: 7 });
    const m1 = bus.attach(listener('meter-1'));
    const m2 = bus.attach(listener('meter-2'));
    const master = listener('master');
    bus.attach(master);
    const collisions: Collision[] = [];
    const done: Transmission[] = [];
    bus.on('collision', (c) => collisions.push(c));
    bus.on('transmission', (t) => done.push(t));
    const one = Uint8Array.from({ length: 10 }, (_, i) => 0x10 + i);
    const two = Uint8Array.from({ length: 10 }, (_, i) => 0x80 + i);
    void m1.transmit(one);
    clock.advance(wire(4));
    void m2.transmit(two);
    clock.runAll();
    expect(collisions).toHaveLength(1);
    expect(collisions[0].parties).toEqual(['meter-2', 'meter-1']);
    expect(collisions[0].at).toBe(wire(4));
    expect(master.heard).toHaveLength(2);
    for (const { bytes } of master.heard) {
      expect(bytes).not.toEqual(one);
      expect(bytes).not.toEqual(two);
    }
    // Bytes of meter-1 sent before meter-2 started arrive intact; the overlapped ones are all garbled.
    const first = master.heard[0].bytes;
    expect(first.subarray(0, 4)).toEqual(one.subarray(0, 4));
    for (let i = 4; i < 10; i++) expect(first[i]).not.toBe(one[i]);
    expect(done.every((t) => t.collided)).toBe(true);
    expect(done[0].bytes).toEqual(one);
    expect(bus.stats.collisions).toBe(1);
  });

  it('garbles collisions the same way for the same seed', () => {
    const run = () => {
      const clock = new VirtualClock();
      const bus = new Rs485Bus({ clock, seed: 'fleet-1' });
      const a = bus.attach(listener('a'));
      const b = bus.attach(listener('b'));
      const c = listener('c');
      bus.attach(c);
      void a.transmit(new Uint8Array(8).fill(0x55));
      void b.transmit(new Uint8Array(8).fill(0xaa));
      clock.runAll();
      return c.heard.map((h) => Array.from(h.bytes));
    };
    expect(run()).toEqual(run());
  });

  it('back-to-back transmissions that touch but do not overlap do not collide', () => {
    const clock = new VirtualClock();
    const bus = new Rs485Bus({ clock });
    const a = bus.attach(listener('a'));
    const b = bus.attach(listener('b'));
    const c = listener('c');
    bus.attach(c);
    let collisions = 0;
    bus.on('collision', () => collisions++);
    void a.transmit(Uint8Array.of(1, 2));
    clock.setTimeout(() => void b.transmit(Uint8Array.of(3, 4)), wire(2));
    clock.advance(100);
    void a.transmit(Uint8Array.of(5));
    clock.runAll();
    expect(collisions).toBe(0);
    expect(c.heard.map((h) => Array.from(h.bytes))).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('reply honours a changed turnaround and a per-reply override', () => {
    const clock = new VirtualClock();
    const bus = new Rs485Bus({ clock });
    const port = bus.attach(listener('meter'));
    const m = listener('master');
    bus.attach(m);
    bus.turnaroundMs = 100;
    void port.reply(Uint8Array.of(1));
    clock.runAll();
    expect(m.heard[0].at).toBe(100 + wire(1));
    void port.reply(Uint8Array.of(2), 0);
    clock.runAll();
    expect(m.heard[1].at).toBe(100 + wire(1) + wire(1));
    expect(() => {
      bus.turnaroundMs = -1;
    }).toThrow(/"turnaroundMs"/);
  });

  it('enforces its limits with coded errors', async () => {
    const clock = new VirtualClock();
    const bus = new Rs485Bus({ clock, maxDevices: 2, maxTransmissionBytes: 4, maxQueuedTransmissions: 1 });
    const a = bus.attach(listener('a'));
    bus.attach(listener('b'));
    expect(() => bus.attach(listener('c'))).toThrow(expect.objectContaining({ code: 'BUS_FULL' }));
    expect(() => bus.attach(listener('a'))).toThrow(/already on the bus/);
    await expect(a.transmit(new Uint8Array(5))).rejects.toMatchObject({ code: 'FRAME_TOO_LONG' });
    const onWire = a.transmit(new Uint8Array(1));
    const queued = a.transmit(new Uint8Array(1));
    await expect(a.transmit(new Uint8Array(1))).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    a.detach();
    await expect(queued).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    await expect(a.transmit(new Uint8Array(1))).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    // What was already on the wire finishes.
    clock.runAll();
    await onWire;
    expect(() => new Rs485Bus({ maxDevices: 0 })).toThrow(/"maxDevices"/);
    expect(() => new Rs485Bus({ settings: { baudRate: 0 } })).toThrow(/"settings.baudRate"/);
  });

  it('delivers each transmission to the devices attached when it ended, even if one joins or leaves meanwhile', () => {
    const clock = new VirtualClock();
    const bus = new Rs485Bus({ clock });
    const a = bus.attach(listener('a'));
    const late = listener('late');
    const leaving = listener('leaving');
    let leavingPort: BusPort | undefined;
    bus.attach({
      name: 'first',
      onReceive: () => {
        if (!bus.devices.includes('late')) bus.attach(late);
        leavingPort?.detach();
      },
    });
    leavingPort = bus.attach(leaving);
    void a.transmit(Uint8Array.of(1));
    clock.runAll();
    expect(leaving.heard).toHaveLength(1);
    expect(late.heard).toHaveLength(0);
    void a.transmit(Uint8Array.of(2));
    clock.runAll();
    expect(leaving.heard).toHaveLength(1);
    expect(late.heard.map((h) => [...h.bytes])).toEqual([[2]]);
    expect(bus.devices).toEqual(['a', 'first', 'late']);
  });

  it('gives every listener its own copy, and a reply the bytes as they were when it was asked for', () => {
    const clock = new VirtualClock();
    const bus = new Rs485Bus({ clock, turnaroundMs: 10 });
    const a = bus.attach(listener('a'));
    bus.attach({ name: 'vandal', onReceive: (bytes) => bytes.fill(0) });
    const b = listener('b');
    bus.attach(b);
    const sent = Uint8Array.of(1, 2, 3);
    void a.reply(sent);
    sent.fill(9);
    clock.runAll();
    expect([...b.heard[0].bytes]).toEqual([1, 2, 3]);
  });

  it('a device that throws does not stop the others hearing the transmission', () => {
    const clock = new VirtualClock();
    const bus = new Rs485Bus({ clock });
    const a = bus.attach(listener('a'));
    bus.attach({
      name: 'buggy',
      onReceive: () => {
        throw new Error('bug in device');
      },
    });
    const c = listener('c');
    bus.attach(c);
    void a.transmit(Uint8Array.of(1));
    expect(() => clock.runAll()).toThrow('bug in device');
    expect(c.heard).toHaveLength(1);
  });
});

describe('Rs485Bus bridged to a link', () => {
  let pair: MemoryPair | undefined;
  afterEach(async () => {
    await pair?.close();
    pair = undefined;
  });

  it('upstream bytes become bus transmissions, and device transmissions go out the link', async () => {
    const clock = new VirtualClock();
    pair = createMemoryPair();
    await pair.open();
    const bus = new Rs485Bus({ clock });
    const meter = listener('meter');
    const meterPort = bus.attach(meter);
    bus.bridge(pair.a);
    const fromBus = collect(pair.b);
    await pair.b.write(Uint8Array.of(0x68, 0x01, 0x16));
    await Promise.resolve();
    clock.advance(wire(3));
    expect(meter.heard).toEqual([{ bytes: Uint8Array.of(0x68, 0x01, 0x16), at: wire(3) }]);
    void meterPort.transmit(Uint8Array.of(0x68, 0x81, 0x16));
    clock.advance(wire(3));
    expect(await fromBus.waitFor(3)).toEqual(Uint8Array.of(0x68, 0x81, 0x16));
  });

  it("with wire 'physical', takes link bytes as already on the wire and forwards device bytes as they start", async () => {
    const clock = new VirtualClock({ start: 500 });
    pair = createMemoryPair();
    await pair.open();
    const bus = new Rs485Bus({ clock });
    const meter = listener('meter');
    const meterPort = bus.attach(meter);
    bus.bridge(pair.a, { wire: 'physical', name: 'adapter' });
    const fromBus = collect(pair.b);
    await pair.b.write(Uint8Array.of(1, 2));
    await Promise.resolve();
    clock.advance(0);
    expect(meter.heard).toEqual([{ bytes: Uint8Array.of(1, 2), at: 500 }]);
    void meterPort.transmit(Uint8Array.of(3, 4));
    expect(await fromBus.waitFor(2)).toEqual(Uint8Array.of(3, 4));
    expect(bus.devices).toEqual(['meter', 'adapter']);
  });
});

import { existsSync } from 'node:fs';
import { SerialPortMock } from 'serialport';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../clock/virtual-clock.ts';
import { LinkError } from './errors.ts';
import { createPtyPair, type PtyPair } from './pty-pair.ts';
import { SerialLink, type SerialPortFactory } from './serial-link.ts';
import { DEFAULT_METER_SERIAL, wireTimeMs } from './serial-settings.ts';
import { collect, once } from './testing.ts';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('SerialLink on a socat pty pair', () => {
  let pair: PtyPair | undefined;
  const links: SerialLink[] = [];
  beforeEach(async () => {
    pair = await createPtyPair();
  });
  afterEach(async () => {
    for (const link of links.splice(0)) await link.close();
    await pair?.close();
    pair = undefined;
  });

  function link(path: string, options: Partial<ConstructorParameters<typeof SerialLink>[0]> = {}) {
    const l = new SerialLink({ path, settings: DEFAULT_METER_SERIAL, ...options });
    links.push(l);
    return l;
  }

  it('carries bytes both ways at 2400 8E1', async () => {
    const [pa, pb] = pair!.paths;
    const a = link(pa);
    const b = link(pb);
    await a.open();
    await b.open();
    const atB = collect(b);
    const atA = collect(a);
    const frame = bytes(0xfe, 0xfe, 0x68, 0x10, 0xaa, 0xaa, 0x16);
    await a.write(frame);
    expect(await atB.waitFor(frame.length)).toEqual(frame);
    await b.write(bytes(0x68, 0x16));
    expect(await atA.waitFor(2)).toEqual(bytes(0x68, 0x16));
    expect(a.description).toBe(pa);
    expect(a.settings).toEqual(DEFAULT_METER_SERIAL);
  });

  it('says its 2400 8E1 is not enforced, since a pty passes bytes at any speed (issue 14 item 15)', async () => {
    const a = link(pair!.paths[0]);
    await a.open();
    expect(a.pseudoTerminal).toBe(true);
    expect(a.describeSettings()).toMatch(/^2400 8E1 not enforced: .* is a pseudo-terminal/);
  });

  it('gives LINK_BUSY naming the path when the device is already open (locked)', async () => {
    const [pa] = pair!.paths;
    await link(pa).open();
    const second = link(pa);
    const error = await second.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LinkError);
    expect(error).toMatchObject({ code: 'LINK_BUSY' });
    expect((error as Error).message).toContain(pa);
    expect(second.isOpen).toBe(false);
  });

  it('reports LINK_UNSUPPORTED with rtsDirection on a pty, which cannot drive RTS', async () => {
    const [pa] = pair!.paths;
    const l = link(pa, { rtsDirection: true });
    const error = await l.open().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'LINK_UNSUPPORTED' });
    expect((error as Error).message).toContain(pa);
    expect(l.isOpen).toBe(false);
    // The failed open released the device.
    await link(pa).open();
  });

  it("emits 'error' LINK_DISCONNECTED and 'close' when the device goes away", async () => {
    const [pa] = pair!.paths;
    const l = link(pa);
    await l.open();
    const errored = once<LinkError>(l, 'error', 10_000);
    const closed = once(l, 'close', 10_000);
    await pair!.close();
    expect(await errored).toMatchObject({ code: 'LINK_DISCONNECTED' });
    await closed;
    expect(l.isOpen).toBe(false);
  });

  it('closes cleanly: the pair can be removed and its links are gone', async () => {
    const [pa, pb] = pair!.paths;
    const a = link(pa);
    await a.open();
    await a.close();
    expect(a.isOpen).toBe(false);
    await pair!.close();
    expect(existsSync(pa)).toBe(false);
    expect(existsSync(pb)).toBe(false);
  });
});

describe('SerialLink errors', () => {
  it('gives LINK_NOT_FOUND naming the path for a device that does not exist', async () => {
    const l = new SerialLink({ path: '/dev/ttyMETERLAB-NOPE' });
    const error = await l.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LinkError);
    expect(error).toMatchObject({ code: 'LINK_NOT_FOUND' });
    expect((error as Error).message).toContain('/dev/ttyMETERLAB-NOPE');
  });

  it('validates options with TypeErrors naming them', () => {
    expect(() => new SerialLink({ path: '' })).toThrow(/"path"/);
    expect(() => new SerialLink({ path: '/dev/x', settings: { parity: 'E' as 'even' } })).toThrow(
      /"settings.parity"/,
    );
    expect(() => new SerialLink({ path: '/dev/x', echoTimeoutMs: -1 })).toThrow(/"echoTimeoutMs"/);
    expect(() => new SerialLink({ path: '/dev/x', rtsDirection: 'yes' as unknown as boolean })).toThrow(
      /"rtsDirection"/,
    );
  });
});

describe('SerialLink with the serialport mock binding', () => {
  const binding = SerialPortMock.binding;
  let mock: SerialPortMock | undefined;
  const rtsLog: { rts: boolean; at: number }[] = [];
  let clock: VirtualClock;

  beforeEach(() => {
    binding.reset();
    rtsLog.length = 0;
    clock = new VirtualClock();
  });
  afterEach(() => binding.reset());

  const factory =
    (record = false): SerialPortFactory =>
    (options) => {
      mock = new SerialPortMock(options);
      if (record) {
        const set = mock.set.bind(mock);
        mock.set = (flags, cb) => {
          rtsLog.push({ rts: flags.rts ?? true, at: clock.now() });
          set(flags, cb);
        };
      }
      return mock;
    };

  it('prints plain line settings for a device that is not a pty', async () => {
    binding.createPort('/dev/ttyMOCK0');
    const l = new SerialLink({ path: '/dev/ttyMOCK0', clock, portFactory: factory() });
    await l.open();
    expect(l.pseudoTerminal).toBe(false);
    expect(l.describeSettings()).toBe('2400 8E1');
    await l.close();
  });

  it('drops exactly the adapter echo and passes the reply that follows it', async () => {
    binding.createPort('/dev/ttyMOCK0', { echo: true });
    const l = new SerialLink({ path: '/dev/ttyMOCK0', echoDiscard: true, clock, portFactory: factory() });
    await l.open();
    const got = collect(l);
    const warnings: LinkError[] = [];
    l.on('warning', (w) => warnings.push(w));
    const request = bytes(0xfe, 0x68, 0x10, 0x16);
    await l.write(request);
    // Wait until the echo came back and was consumed, then the meter replies.
    await vi.waitFor(() => expect(mock!.port!.lastWrite).not.toBeNull());
    await new Promise((r) => setImmediate(r));
    mock!.port!.emitData(Buffer.from([0x68, 0x90, 0x16]));
    expect(await got.waitFor(3)).toEqual(bytes(0x68, 0x90, 0x16));
    expect(got.bytes().length).toBe(3);
    expect(warnings).toEqual([]);
    await l.close();
  });

  it('warns ECHO_MISSING when an echo never comes back, then passes later bytes untouched', async () => {
    binding.createPort('/dev/ttyMOCK1', { echo: false });
    const l = new SerialLink({
      path: '/dev/ttyMOCK1',
      echoDiscard: true,
      echoTimeoutMs: 50,
      clock,
      portFactory: factory(),
    });
    await l.open();
    const got = collect(l);
    const warned = once<LinkError>(l, 'warning');
    await l.write(bytes(1, 2, 3));
    clock.advance(wireTimeMs(3, DEFAULT_METER_SERIAL) + 50);
    expect(await warned).toMatchObject({ code: 'ECHO_MISSING' });
    mock!.port!.emitData(Buffer.from([1, 2, 3]));
    expect(await got.waitFor(3)).toEqual(bytes(1, 2, 3));
    await l.close();
  });

  it('warns ECHO_MISMATCH and passes the bytes when what comes back is not our echo', async () => {
    binding.createPort('/dev/ttyMOCK2', { echo: false });
    const l = new SerialLink({ path: '/dev/ttyMOCK2', echoDiscard: true, clock, portFactory: factory() });
    await l.open();
    const got = collect(l);
    const warned = once<LinkError>(l, 'warning');
    await l.write(bytes(1, 2, 3));
    mock!.port!.emitData(Buffer.from([1, 9, 9]));
    expect(await warned).toMatchObject({ code: 'ECHO_MISMATCH' });
    expect(await got.waitFor(2)).toEqual(bytes(9, 9));
    await l.close();
  });

  it('holds RTS from before the write until drain plus the wire time, measured on the clock', async () => {
    binding.createPort('/dev/ttyMOCK3');
    const l = new SerialLink({
      path: '/dev/ttyMOCK3',
      rtsDirection: true,
      clock,
      portFactory: factory(true),
    });
    await l.open();
    expect(rtsLog).toEqual([{ rts: false, at: 0 }]);
    const frame = new Uint8Array(16);
    let done = false;
    const written = l.write(frame).then(() => (done = true));
    // The write waits for the remaining wire time on the virtual clock once the OS has drained.
    await vi.waitFor(() => expect(clock.pending).toBe(1));
    expect(rtsLog.at(-1)).toEqual({ rts: true, at: 0 });
    expect(mock!.port!.lastWrite).toEqual(Buffer.from(frame));
    const wire = wireTimeMs(16, DEFAULT_METER_SERIAL);
    clock.advance(wire - 0.01);
    await new Promise((r) => setImmediate(r));
    expect(rtsLog.at(-1)!.rts).toBe(true);
    expect(done).toBe(false);
    clock.advance(0.01);
    await written;
    expect(rtsLog.at(-1)).toEqual({ rts: false, at: wire });
    await l.close();
  });
});

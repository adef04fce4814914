import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/virtual-clock.ts';
import { LinkError } from './errors.ts';
import { createMemoryPair, type MemoryPair } from './memory-pair.ts';
import { DEFAULT_METER_SERIAL, wireTimeMs } from './serial-settings.ts';
import { collect } from './testing.ts';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('createMemoryPair', () => {
  let pair: MemoryPair | undefined;
  afterEach(async () => {
    await pair?.close();
    pair = undefined;
  });

  it('delivers what one end writes to the other, both ways', async () => {
    pair = createMemoryPair();
    await pair.open();
    const atB = collect(pair.b);
    const atA = collect(pair.a);
    await pair.a.write(bytes(0xfe, 0x68, 0x10));
    await pair.b.write(bytes(0x16));
    expect(await atB.waitFor(3)).toEqual(bytes(0xfe, 0x68, 0x10));
    expect(await atA.waitFor(1)).toEqual(bytes(0x16));
    expect(pair.a.description).toBe('memory:a');
    expect(pair.a.settings).toEqual(DEFAULT_METER_SERIAL);
  });

  it('copies written bytes, so later changes to the caller buffer do not leak', async () => {
    pair = createMemoryPair();
    await pair.open();
    const atB = collect(pair.b);
    const buf = bytes(1, 2, 3);
    const written = pair.a.write(buf);
    buf[0] = 99;
    await written;
    expect(await atB.waitFor(3)).toEqual(bytes(1, 2, 3));
  });

  it('rejects writes on a closed end with LINK_CLOSED and re-opening with LINK_ALREADY_OPEN', async () => {
    pair = createMemoryPair();
    await expect(pair.a.write(bytes(1))).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    await pair.a.open();
    await expect(pair.a.open()).rejects.toBeInstanceOf(LinkError);
    await expect(pair.a.open()).rejects.toMatchObject({ code: 'LINK_ALREADY_OPEN' });
  });

  it('emits close once and counts bytes sent to a closed end as dropped', async () => {
    pair = createMemoryPair();
    await pair.open();
    let closes = 0;
    pair.b.on('close', () => closes++);
    await pair.b.close();
    await pair.b.close();
    expect(closes).toBe(1);
    await pair.a.write(bytes(1, 2, 3));
    await Promise.resolve();
    expect(pair.b.droppedBytes).toBe(3);
    expect(pair.a.isOpen).toBe(true);
  });

  it('paces delivery by wire time on the clock and resolves write when the last byte has arrived', async () => {
    const clock = new VirtualClock();
    pair = createMemoryPair({ pace: true, clock });
    await pair.open();
    const atB = collect(pair.b);
    let written = false;
    void pair.a.write(new Uint8Array(16)).then(() => (written = true));
    void pair.a.write(new Uint8Array(8));
    const t16 = wireTimeMs(16, DEFAULT_METER_SERIAL);
    clock.advance(t16 - 0.01);
    expect(atB.bytes().length).toBe(0);
    clock.advance(0.01);
    expect(atB.bytes().length).toBe(16);
    await Promise.resolve();
    expect(written).toBe(true);
    // The second write queued behind the first on the same wire.
    clock.advance(wireTimeMs(8, DEFAULT_METER_SERIAL) - 0.01);
    expect(atB.bytes().length).toBe(16);
    clock.advance(0.01);
    expect(atB.bytes().length).toBe(24);
  });

  it('splits writes into seeded random chunks that concatenate to the original', async () => {
    const data = Uint8Array.from({ length: 200 }, (_, i) => i);
    const run = async (seed: number) => {
      const p = createMemoryPair({ chunking: { maxChunkBytes: 7, seed } });
      await p.open();
      const got = collect(p.b);
      await p.a.write(data);
      await got.waitFor(200);
      await p.close();
      return got;
    };
    const first = await run(42);
    const again = await run(42);
    expect(first.bytes()).toEqual(data);
    expect(first.chunks.length).toBeGreaterThan(200 / 7);
    expect(first.chunks.every((c) => c.length >= 1 && c.length <= 7)).toBe(true);
    expect(again.chunks.map((c) => c.length)).toEqual(first.chunks.map((c) => c.length));
  });

  it('validates options with TypeErrors naming them', () => {
    expect(() => createMemoryPair({ chunking: { maxChunkBytes: 0, seed: 1 } })).toThrow(
      /"chunking.maxChunkBytes"/,
    );
    expect(() => createMemoryPair({ names: ['x', ''] })).toThrow(/"names"/);
    expect(() => createMemoryPair({ settings: { baudRate: -1 } })).toThrow(/"settings.baudRate"/);
  });
});

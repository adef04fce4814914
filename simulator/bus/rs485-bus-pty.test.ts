import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPtyPair, type PtyPair } from '../link/pty-pair.ts';
import { SerialLink } from '../link/serial-link.ts';
import { collect } from '../link/testing.ts';
import { type BusPort, Rs485Bus } from './rs485-bus.ts';

/** Resolves when `check` passes; rejects after `timeoutMs` (real time). */
function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`condition not met within ${timeoutMs} ms`));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

describe('Rs485Bus bridged to a socat pty pair (real clock)', () => {
  let pair: PtyPair | undefined;
  let busSide: SerialLink | undefined;
  let masterSide: SerialLink | undefined;
  beforeEach(async () => {
    pair = await createPtyPair({ names: ['bus', 'master'] });
    busSide = new SerialLink({ path: pair.paths[0] });
    masterSide = new SerialLink({ path: pair.paths[1] });
    await busSide.open();
    await masterSide.open();
  });
  afterEach(async () => {
    await masterSide?.close();
    await busSide?.close();
    await pair?.close();
  });

  it('a write from the other end reaches a device, and a device reply comes out there', async () => {
    const bus = new Rs485Bus({ turnaroundMs: 5 });
    const heard: Uint8Array[] = [];
    let port: BusPort | undefined;
    port = bus.attach({
      name: 'meter-1',
      onReceive: (bytes) => {
        heard.push(bytes);
        if (heard.reduce((n, b) => n + b.length, 0) === 4)
          void port!.reply(Uint8Array.of(0x68, 0x81, 0x00, 0x16));
      },
    });
    bus.bridge(busSide!);
    const atMaster = collect(masterSide!);
    await masterSide!.write(Uint8Array.of(0x68, 0x01, 0x00, 0x16));
    await eventually(() => heard.reduce((n, b) => n + b.length, 0) >= 4);
    expect(Uint8Array.from(heard.flatMap((b) => [...b]))).toEqual(Uint8Array.of(0x68, 0x01, 0x00, 0x16));
    expect(await atMaster.waitFor(4)).toEqual(Uint8Array.of(0x68, 0x81, 0x00, 0x16));
  });

  it('a device transmission unprompted comes out the other end', async () => {
    const bus = new Rs485Bus();
    const port = bus.attach({ name: 'meter-2', onReceive: () => undefined });
    bus.bridge(busSide!);
    const atMaster = collect(masterSide!);
    await port.transmit(Uint8Array.of(0xfe, 0xfe, 0x68));
    expect(await atMaster.waitFor(3)).toEqual(Uint8Array.of(0xfe, 0xfe, 0x68));
  });
});

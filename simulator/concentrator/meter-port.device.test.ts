import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPtyPair, type PtyPair, SerialLink } from '../link/index.ts';
import { Cjt188Meter, ConsumptionModel, MeterHost } from '../meter/index.ts';
import { ConcentratorError } from './errors.ts';
import { type LinkTransportStatus, linkTransport, MeterPort } from './meter-port.ts';
import { readRequest } from './poll-schedule.ts';

// Issue 14 item 16 over a real socat pty pair: the port's serial device goes away (socat stops, as a USB adapter
// is unplugged) and comes back at the same path. The forward in between names the device (PORT_DOWN) instead of
// ending as the meter's silence, and the port works again once the device is back.

const A = '00000000101001';
const model = new ConsumptionModel({ seed: 16 });
const release: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of release.splice(0).reverse()) await fn();
});

async function device(dir: string): Promise<{ pair: PtyPair; host: MeterHost }> {
  const pair = await createPtyPair({ dir });
  const host = await MeterHost.start({
    link: new SerialLink({ path: pair.paths[1] }),
    meters: [new Cjt188Meter({ address: A, model })],
  });
  return { pair, host };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within 10 s: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('MeterPort on a serial device that goes away and comes back', () => {
  it('denies forwards with PORT_DOWN naming the device while it is gone, and reads again once it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meterlab-port-down-'));
    release.push(() => rmSync(dir, { recursive: true, force: true }));
    let first: { pair: PtyPair; host: MeterHost } | undefined = await device(dir);
    release.push(async () => {
      await first?.host.close();
      await first?.pair.close();
    });
    const link = new SerialLink({ path: first.pair.paths[0], presenceCheckMs: 20 });
    await link.open();
    const statuses: LinkTransportStatus[] = [];
    const port = new MeterPort({
      port: 1,
      transport: linkTransport(link, { reopenEveryMs: 20, onStatus: (s) => statuses.push(s) }),
    });
    release.push(() => port.close());
    const request = readRequest({ address: A, protocol: 'cjt188' });
    expect((await port.forward(request, { frameTimeoutMs: 2000 })).reply.length).toBeGreaterThan(0);

    await first.host.close();
    await first.pair.close();
    first = undefined;
    await until(() => statuses.some((s) => s.kind === 'lost'), 'the port hears its device went away');
    const down = await port.forward(request, { frameTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(ConcentratorError);
    expect(down).toMatchObject({ code: 'PORT_DOWN' });
    expect((down as Error).message).toContain(link.path);

    const second = await device(dir);
    release.push(async () => {
      await second.host.close();
      await second.pair.close();
    });
    await until(() => statuses.at(-1)?.kind === 'back', 'the port reopens its device');
    expect((await port.forward(request, { frameTimeoutMs: 2000 })).reply.length).toBeGreaterThan(0);
  });
});

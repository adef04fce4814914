import { afterEach, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../protocols/bytes.ts';
import { decodeCjt188Frame } from '../../protocols/cjt188/index.ts';
import { Fleet } from '../../simulator/fleet/index.ts';
import { fleetSummary, generateFleet } from '../../simulator/scenario/index.ts';
import { archiveFromJson, MasterStation } from '../master/index.ts';
import { Relay, type RelayOptions } from '../relay/index.ts';
import { WsProbe } from '../relay/testing/ws-probe.ts';
import { eventually } from './chain.ts';

// Issue 13 item 5 through the relay, on real sockets: browsers (WebSocket clients) → relay (one client-API
// connection for all of them) → master station → a simulated concentrator with one RS-485 port. The master
// tells the browsers apart by the `origin` the relay puts on each read, and the relay withdraws (`cancel`) the
// reads of a browser that left. Forwards are counted where they arrive: at the concentrator.

const LOOPBACK = '127.0.0.1';
/** The AFN 10 F1 frame-wait the master sends: a read of an absent meter holds the port this long (ms). */
const FRAME_WAIT_MS = 100;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** One concentrator, one port, two meters; addresses do not depend on the master's port. */
const fleetFor = (port: number) =>
  generateFleet({ concentrators: 1, metersPerPort: 2, master: { host: LOOPBACK, port }, wireTiming: false });

async function chain(relayOptions: Partial<RelayOptions> = {}) {
  const planned = fleetFor(0);
  const master = new MasterStation({
    listen: { host: LOOPBACK, port: 0 },
    api: { host: LOOPBACK, port: 0 },
    archive: archiveFromJson(fleetSummary(planned), planned.name),
    meterFrameTimeoutMs: FRAME_WAIT_MS,
  });
  const { listen, api } = await master.start();
  cleanups.push(() => master.stop());
  const scenario = fleetFor(listen.port);
  const fleet = new Fleet({ scenario });
  cleanups.push(() => fleet.stop());
  await fleet.start();
  const concentrator = fleet.concentrators[0];
  /** Meter address of every forward the concentrator received, in order. */
  const forwards: string[] = [];
  concentrator.on('frame', ({ frame }) => {
    const body = frame.afn === 0x10 ? frame.units[0]?.body : undefined;
    if (body?.kind === 'forward-request') forwards.push(decodeCjt188Frame(hexToBytes(body.content)).address);
  });
  const relay = new Relay({
    host: LOOPBACK,
    port: 0,
    master: { host: LOOPBACK, port: api!.port },
    console: false,
    ...relayOptions,
  });
  const { url } = await relay.start();
  cleanups.push(() => relay.stop());
  await eventually(() => relay.masterConnected, 'the relay is connected to the master');
  await eventually(
    () => master.sessions().some((s) => s.state === 'online'),
    'the concentrator is logged in',
  );
  const summary = fleetSummary(scenario).concentrators[0];
  const present = summary.ports[0].meters[0].address;
  const browser = async () => {
    const p = new WsProbe(url);
    cleanups.push(() => p.close());
    await p.opened();
    return p;
  };
  return { master, forwards, id: summary.id, alias: summary.alias ?? summary.id, present, browser };
}

/** `n` reads of absent meters on port 1, explicit protocol and port (the master cannot refuse them). */
function floodAbsent(p: WsProbe, concentrator: string, n: number): void {
  for (let i = 0; i < n; i++) {
    p.send({
      type: 'read',
      id: `absent-${i}`,
      concentrator,
      meter: String(900_001 + i),
      protocol: 'cjt188',
      port: 1,
    });
  }
}

const absent = (address: string) => address.startsWith('000000009');

describe('per-browser fairness and cancellation through the relay (issue 13 item 5)', () => {
  it("answers browser B's read of a present meter after at most one more of browser A's absent reads", async () => {
    const { master, forwards, id, alias, present, browser } = await chain();
    const a = await browser();
    const b = await browser();
    floodAbsent(a, alias, 30);
    await eventually(() => master.queuedReads(id) >= 29, "A's reads are all at the master");
    const before = forwards.length;
    const answer = b.read('b1', alias, present);
    expect(await answer).toMatchObject({ id: 'b1', type: 'reading' });
    // Forwards the port served from B's request to B's answer: A's read already at the port, at most one turn of
    // A's queued before B's came, and B's own. Without per-browser turns B waits behind all 29 of A's.
    const served = forwards.slice(before);
    expect(served.filter(absent).length).toBeLessThanOrEqual(2);
    expect(served.filter((m) => !absent(m))).toHaveLength(1);
  }, 20_000);

  it('does not send the reads of a browser that disconnected to the field', async () => {
    const { master, forwards, id, alias, present, browser } = await chain();
    const a = await browser();
    floodAbsent(a, alias, 20);
    await eventually(() => master.queuedReads(id) >= 19, "A's reads are all at the master");
    const sentBeforeLeaving = forwards.length;
    expect(sentBeforeLeaving).toBeLessThanOrEqual(1);
    a.close();
    // The relay cancels A's reads upstream; the master drops them before they reach the concentrator.
    await eventually(() => master.queuedReads(id) === 0, "A's queued reads are withdrawn");
    const b = await browser();
    expect(await b.read('b1', alias, present)).toMatchObject({ id: 'b1', type: 'reading' });
    expect(forwards.filter(absent)).toHaveLength(sentBeforeLeaving);
    expect(forwards.filter((m) => !absent(m))).toHaveLength(1);
  }, 20_000);

  it("answers a browser's cancel at once and never sends the cancelled reads still queued to the field (issue 13)", async () => {
    // Two reads may be at the master at once: the rest wait in the relay's own queue, so both places where a read
    // can still wait (the relay, the master's port queue) are crossed by a cancel.
    const { master, forwards, id, alias, present, browser } = await chain({ maxInFlightUpstream: 2 });
    const a = await browser();
    floodAbsent(a, alias, 12);
    await eventually(() => master.queuedReads(id) >= 1, "A's first reads are at the master");
    // Cancel all but the first two: absent-2 may be at the master, the others are still in the relay.
    const cancelled = Array.from({ length: 10 }, (_, i) => `absent-${i + 2}`);
    for (const c of cancelled) a.send({ type: 'cancel', id: c });
    for (const c of cancelled) {
      const answer = await a.answer(c);
      expect(answer).toMatchObject({ type: 'error', id: c, code: 'CANCELLED' });
      expect(String(answer.message)).toContain('the client cancelled the read');
    }
    // The two not cancelled are read (each an absent meter: METER_TIMEOUT after the frame wait).
    for (const kept of ['absent-0', 'absent-1']) {
      expect(await a.answer(kept)).toMatchObject({ type: 'error', id: kept, code: 'METER_TIMEOUT' });
    }
    // A cancel of a read already answered: one BAD_REQUEST naming it, not a second answer under its id.
    a.send({ type: 'cancel', id: 'absent-0' });
    const refused = await a.waitFor((m) => m.code === 'BAD_REQUEST');
    expect(refused.id).toBeUndefined();
    expect(String(refused.message)).toContain('"absent-0"');
    expect(await a.read('p1', alias, present)).toMatchObject({ id: 'p1', type: 'reading' });
    await eventually(() => master.queuedReads(id) === 0, 'nothing waits at the master');
    // Only the two reads not cancelled reached the concentrator; every read had exactly one answer.
    expect(forwards.filter(absent)).toEqual(['00000000900001', '00000000900002']);
    for (let i = 0; i < 12; i++) expect(a.messages.filter((m) => m.id === `absent-${i}`)).toHaveLength(1);
  }, 20_000);
});

import { afterEach, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../protocols/bytes.ts';
import { decodeCjt188Frame } from '../../protocols/cjt188/index.ts';
import type { Gdw376Frame } from '../../protocols/gdw376/index.ts';
import type { ArchiveData } from './archive.ts';
import { type LoginEvent, MasterStation, type MasterStationOptions } from './master-station.ts';
import { FakeConcentrator } from './testing/fake-concentrator.ts';
import { LineClient } from './testing/line-client.ts';
import { waitForEvent } from './testing/wait.ts';

// Issue 13 item 5 over real TCP: two client-API connections and one concentrator. The test plays the RS-485 port:
// the fake concentrator holds every forward's reply, and the test releases them one at a time in the order the
// forwards came, as a port that serves one meter at a time does (reads of absent meters answer empty).

const ARCHIVE: ArchiveData = {
  concentrators: [
    {
      id: '017102082',
      alias: '101',
      a1: '0171',
      a2: 2082,
      ports: [{ port: 1, meters: [{ address: '101001', protocol: 'cjt188' }] }],
    },
  ],
};

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setUp(options: MasterStationOptions = {}) {
  const master = new MasterStation({ listen: { port: 0 }, api: { port: 0 }, archive: ARCHIVE, ...options });
  const { listen, api } = await master.start();
  cleanup.push(() => master.stop());
  const fake = await FakeConcentrator.connect(listen.port, '0171', 2082);
  cleanup.push(() => fake.close());
  const login = waitForEvent<LoginEvent>(master, 'login');
  await fake.exchange(() => fake.login());
  await login;
  fake.holdReplies = true;
  fake.meters.set('00000000101001', { value: 42.5 });
  const client = async () => {
    const c = await LineClient.connect(api!.port);
    cleanup.push(() => c.close());
    return c;
  };
  return { master, fake, a: await client(), b: await client() };
}

/** The meter address a forward asks for. */
function meterOf(forward: Gdw376Frame): string {
  const body = forward.units[0]?.body;
  if (body?.kind !== 'forward-request') throw new Error('not a forward request');
  return decodeCjt188Frame(hexToBytes(body.content)).address;
}

/** Waits until the fake has received `count` forwards. */
async function forwardsReceived(fake: FakeConcentrator, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (fake.forwards.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${fake.forwards.length} of ${count} forwards came`);
    await waitForEvent(fake, 'frame', () => true, Math.max(1, deadline - Date.now())).catch(() => {});
  }
}

const flood = (c: LineClient, n: number) => {
  const lines = Array.from(
    { length: n },
    (_, i) =>
      `${JSON.stringify({ type: 'read', id: `a${i}`, concentrator: '101', meter: String(900001 + i), protocol: 'cjt188', port: 1 })}\n`,
  );
  c.send(Buffer.from(lines.join('')));
};

describe('fair queueing per concentrator port (issue 13 item 5)', () => {
  it("answers client B's read of a present meter after at most one turn of client A's flood of absent meters", async () => {
    const { fake, a, b } = await setUp();
    flood(a, 100);
    await forwardsReceived(fake, 1);
    b.send({ type: 'read', id: 'b', concentrator: '101', meter: '101001' });
    // Serve the port one forward at a time, in order, until B's forward has come and been answered.
    let bAt = -1;
    for (let served = 0; bAt < 0 && served <= 100; served++) {
      await forwardsReceived(fake, served + 1);
      if (meterOf(fake.forwards[served]) === '00000000101001') bAt = served;
      fake.releaseHeld([served]);
    }
    expect((await b.waitFor(1))[0]).toMatchObject({ id: 'b', type: 'reading', value: 42.5 });
    // A's first read was already at the port and A's turn was queued before B came: B's is at most the third.
    expect(bAt).toBeGreaterThanOrEqual(1);
    expect(bAt).toBeLessThanOrEqual(2);
  });

  it('cancels the queued reads of a client that closed its socket: they never reach the concentrator', async () => {
    const { master, fake, a, b } = await setUp();
    flood(a, 20);
    await forwardsReceived(fake, 1);
    // All 20 reads are in at the master: 1 sent, 19 waiting for port 1.
    const deadline = Date.now() + 5000;
    while (masterQueued(master) < 19 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(masterQueued(master)).toBe(19);
    // The client goes away abruptly (RST). A client that only half-closes (FIN) still gets its answers, as the
    // client API allows; it counts as gone once an answer cannot be delivered.
    a.socket.resetAndDestroy();
    while (masterQueued(master) > 0) {
      if (Date.now() > deadline) throw new Error('the departed client’s reads are still queued');
      await new Promise((r) => setImmediate(r));
    }
    b.send({ type: 'read', id: 'b', concentrator: '101', meter: '101001' });
    fake.releaseHeld([0]); // A's read already at the port is answered (to nobody)
    await forwardsReceived(fake, 2);
    fake.releaseHeld([1]);
    expect((await b.waitFor(1))[0]).toMatchObject({ id: 'b', type: 'reading' });
    expect(fake.forwards.map(meterOf)).toEqual(['00000000900001', '00000000101001']);
  });

  it('answers BUSY at once beyond maxQueuedPerClientPort, saying which bound', async () => {
    const { fake, a } = await setUp({ maxQueuedPerClientPort: 3 });
    flood(a, 5);
    await forwardsReceived(fake, 1);
    const [busy] = (await a.waitFor(1)) as Record<string, unknown>[];
    expect(busy).toMatchObject({ id: 'a4', code: 'BUSY', message: /maxQueuedPerClientPort/ });
  });
});

describe('origin and cancel on one client-API connection (issue 13 item 5)', () => {
  it('takes turns per origin: a relay that floods for one browser does not hold the port for another', async () => {
    const { fake, a } = await setUp();
    const lines = Array.from(
      { length: 30 },
      (_, i) =>
        `${JSON.stringify({ type: 'read', id: `x${i}`, concentrator: '101', meter: String(900001 + i), protocol: 'cjt188', port: 1, origin: 'ws-1' })}\n`,
    );
    a.send(Buffer.from(lines.join('')));
    await forwardsReceived(fake, 1);
    a.send({ type: 'read', id: 'y', concentrator: '101', meter: '101001', origin: 'ws-2' });
    let yAt = -1;
    for (let served = 0; yAt < 0 && served <= 30; served++) {
      await forwardsReceived(fake, served + 1);
      if (meterOf(fake.forwards[served]) === '00000000101001') yAt = served;
      fake.releaseHeld([served]);
    }
    // As between two connections: ws-1's read at the port, at most one more turn of ws-1, then ws-2's.
    expect(yAt).toBeGreaterThanOrEqual(1);
    expect(yAt).toBeLessThanOrEqual(2);
  });

  it('answers a cancelled read still waiting CANCELLED and never sends it; a cancel of a sent or unknown read changes nothing', async () => {
    const { master, fake, a } = await setUp();
    flood(a, 3); // a0 goes to the port, a1 and a2 wait
    await forwardsReceived(fake, 1);
    const deadline = Date.now() + 5000;
    while (masterQueued(master) < 2 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    a.send({ type: 'cancel', id: 'a1' });
    a.send({ type: 'cancel', id: 'a0' }); // already at the concentrator: it keeps its one answer
    a.send({ type: 'cancel', id: 'nobody' }); // unknown: not answered
    const [first] = (await a.waitFor(1)) as Record<string, unknown>[];
    expect(first).toMatchObject({ type: 'error', id: 'a1', code: 'CANCELLED', meter: '900002' });
    expect(masterQueued(master)).toBe(1);
    fake.releaseHeld([0]);
    await forwardsReceived(fake, 2);
    fake.releaseHeld([1]);
    const answers = (await a.waitFor(3)) as Record<string, unknown>[];
    expect(answers.map((m) => [m.id, m.code])).toEqual([
      ['a1', 'CANCELLED'],
      ['a0', 'METER_TIMEOUT'],
      ['a2', 'METER_TIMEOUT'],
    ]);
    expect(fake.forwards.map(meterOf)).toEqual(['00000000900001', '00000000900003']);
    // Neither the cancel of a0 nor that of an unknown id is answered: the next line is the next read's answer.
    a.send({ type: 'read', id: 'last', concentrator: '101', meter: '101001' });
    await forwardsReceived(fake, 3);
    fake.releaseHeld([2]);
    const all = (await a.waitFor(4)) as Record<string, unknown>[];
    expect(all[3]).toMatchObject({ id: 'last', type: 'reading' });
    expect(all).toHaveLength(4);
  });
});

function masterQueued(master: MasterStation): number {
  return master.queuedReads('017102082');
}

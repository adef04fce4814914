import { afterEach, describe, expect, it } from 'vitest';
import type { Reading } from '../../protocols/point-read/index.ts';
import { realClock } from '../../simulator/clock/index.ts';
import { ConsumptionModel } from '../../simulator/meter/consumption.ts';
import { parseScenario } from '../../simulator/scenario/index.ts';
import { PointReadClient, PointReadError } from '../client/index.ts';
import { socatAvailable, withoutPty } from '../demo/run-demo.ts';
import { WsProbe } from '../relay/testing/ws-probe.ts';
import { Chain, eventually, FAST_BACKOFF } from './chain.ts';

// The whole chain through a restart of one of its parts, on real sockets and (when socat is installed) a real
// pty pair: WebSocket client → relay → master station → concentrators → RS-485 → meters.

const meters = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    address: `${prefix}${String(from + i).padStart(3, '0')}`,
  }));

// Small on purpose (a shared 2-core machine). The memory ports keep wire timing at 2400 8E1, so a field read
// takes a few hundred ms and a port reads one meter at a time: reads queued there are still in flight when a
// part is stopped.
const fullScenario = parseScenario(
  {
    name: 'restart',
    seed: 11,
    concentrators: [
      {
        a1: '0172',
        a2: 1,
        alias: '301',
        ports: [
          { port: 1, link: { kind: 'pty' }, meters: meters('301', 1, 4) },
          { port: 2, meters: meters('301', 5, 8) },
        ],
      },
      { a1: '0172', a2: 2, alias: '302', ports: [{ port: 1, meters: meters('302', 1, 4) }] },
    ],
  },
  'restart scenario',
);
const scenario = socatAvailable() ? fullScenario : withoutPty(fullScenario);
const model = new ConsumptionModel({ seed: scenario.seed });
const metersOf = (alias: string) =>
  scenario.concentrators.find((c) => c.alias === alias)!.ports.flatMap((p) => p.meters.map((m) => m.address));

/**
 * The meter answers with its consumption model's value at the moment it builds its reply, which lies between
 * the read being sent and its answer arriving (the meters run on the same real clock as this test).
 */
function expectModelValue(meter: string, value: number, sentAt: number, answeredAt: number): void {
  expect(value, `meter ${meter}`).toBeGreaterThanOrEqual(model.readingAt(meter, sentAt));
  expect(value, `meter ${meter}`).toBeLessThanOrEqual(model.readingAt(meter, answeredAt));
}

async function readAndCheck(client: PointReadClient, concentrator: string, meter: string): Promise<Reading> {
  const sentAt = realClock.now();
  const reading = await client.read(concentrator, meter);
  expectModelValue(meter, reading.value, sentAt, realClock.now());
  expect(reading.unit).toBe('m3');
  return reading;
}

async function rejection(promise: Promise<unknown>): Promise<PointReadError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PointReadError);
    return error as PointReadError;
  }
  throw new Error('expected the read to be rejected');
}

/** One read through the client, and how it settled. */
interface TrackedRead {
  meter: string;
  sentAt: number;
  settled: Promise<void>;
  reading?: Reading;
  error?: PointReadError;
  answeredAt?: number;
}

function track(client: PointReadClient, concentrator: string, meter: string): TrackedRead {
  const read: TrackedRead = { meter, sentAt: realClock.now(), settled: Promise.resolve() };
  read.settled = client.read(concentrator, meter).then(
    (reading) => {
      read.reading = reading;
      read.answeredAt = realClock.now();
    },
    (error: unknown) => {
      read.error = error as PointReadError;
      read.answeredAt = realClock.now();
    },
  );
  return read;
}

let chain: Chain | undefined;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await chain?.stop();
  chain = undefined;
});

async function connectedClient(url: string, timeoutMs = 30_000): Promise<PointReadClient> {
  const client = new PointReadClient({ url, backoff: FAST_BACKOFF, timeoutMs });
  cleanups.push(() => client.close());
  await client.connect();
  return client;
}

describe('the chain through a restart', () => {
  it('relay restart: reads in flight are rejected DISCONNECTED, the client reconnects by itself and reads recover', async () => {
    chain = await Chain.start({ scenario });
    const c = chain;
    const client = await connectedClient(c.relayUrl);
    let reconnectAttempts = 0;
    client.on('reconnecting', () => reconnectAttempts++);
    await readAndCheck(client, '301', metersOf('301')[0]);

    // Four reads queued on one wire-timed port: when the first is answered the other three are still in the
    // field, and the relay stops under them.
    const portTwo = metersOf('301').slice(4);
    const reads = portTwo.map((m) => track(client, '301', m));
    const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
    await Promise.race(reads.map((r) => r.settled));
    await c.stopRelay();
    expect(await closed).toBe(1001); // "going away": the relay is stopping (harness/relay/README.md)
    await Promise.all(reads.map((r) => r.settled));
    for (const r of reads) {
      if (r.reading) expectModelValue(r.meter, r.reading.value, r.sentAt, r.answeredAt!);
      else expect(r.error).toMatchObject({ code: 'DISCONNECTED', source: 'local' });
    }
    expect(reads.filter((r) => r.reading).length).toBeGreaterThanOrEqual(1);
    expect(reads.filter((r) => r.error?.code === 'DISCONNECTED').length).toBeGreaterThanOrEqual(1);

    // Documented: reads never wait for a reconnection; while disconnected they are rejected at once.
    const started = performance.now();
    expect(await rejection(client.read('301', metersOf('301')[0]))).toMatchObject({
      code: 'DISCONNECTED',
      source: 'local',
    });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(client.connected).toBe(false);

    await c.startRelay(); // same port as before
    await eventually(() => client.connected, 'the client has reconnected to the restarted relay by itself');
    expect(reconnectAttempts).toBeGreaterThanOrEqual(1);
    for (const m of metersOf('301')) await readAndCheck(client, '301', m);
  }, 90_000);

  it('master restart: MASTER_UNAVAILABLE at once while it is down; relay and concentrators reconnect; reads recover', async () => {
    // The relay's own read limit is far above the "at once" bound below, so an answer that came from a
    // timeout could not pass for an immediate MASTER_UNAVAILABLE.
    chain = await Chain.start({ scenario, relayOptions: { readTimeoutMs: 20_000 } });
    const c = chain;
    const client = await connectedClient(c.relayUrl);
    await readAndCheck(client, '302', metersOf('302')[0]);
    const before = c.fleet.status();
    expect(before.online).toBe(2);

    await c.stopMaster();
    await eventually(() => !c.relay!.masterConnected, 'the relay has seen the master station go');
    await eventually(() => c.fleet.status().online === 0, 'every concentrator has seen its link drop');
    const started = performance.now();
    const unavailable = await rejection(client.read('301', metersOf('301')[0]));
    expect(unavailable).toMatchObject({ code: 'MASTER_UNAVAILABLE', source: 'remote' });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(client.connected).toBe(true); // the relay keeps its clients while the master is away

    await c.startMaster(); // same concentrator and client-API ports as before
    await eventually(() => c.relay!.masterConnected, 'the relay has reconnected to the restarted master');
    await c.allLoggedIn();
    const after = c.fleet.status();
    expect(after.offline - before.offline).toBe(2);
    expect(after.logins - before.logins).toBeGreaterThanOrEqual(2);
    for (const m of metersOf('301')) await readAndCheck(client, '301', m);
  }, 90_000);

  it('answers every read exactly once when the master stops with reads in flight, and reads again after its restart', async () => {
    chain = await Chain.start({ scenario, relayOptions: { readTimeoutMs: 20_000 } });
    const c = chain;
    const probe = new WsProbe(c.relayUrl);
    cleanups.push(() => probe.close());
    await probe.opened();

    // Every meter twice: the second read of a meter shares the first one's field read in the relay, and each
    // requester must still get its own single answer.
    const all = [...metersOf('301').map((m) => ['301', m]), ...metersOf('302').map((m) => ['302', m])];
    const reads = [...all, ...all].map(([concentrator, meter], i) => ({ id: `r${i}`, concentrator, meter }));
    const sentAt = realClock.now();
    for (const r of reads) probe.send({ type: 'read', ...r });
    const answered = () => new Set(probe.messages.map((m) => m.id));

    await eventually(() => answered().size >= 3, 'the first reads are answered');
    await c.stopMaster();
    // Well inside the relay's 20 s read limit: nothing is left to a timeout.
    await eventually(
      () => reads.every((r) => answered().has(r.id)),
      'every read in flight has its answer',
      10_000,
    );
    const stoppedAt = realClock.now();

    // The relay's code for a master link that dropped under a read; a master's own answer for a read its
    // concentrator link lost could in principle leave before its client socket closes.
    const masterGone = ['MASTER_UNAVAILABLE', 'CONCENTRATOR_OFFLINE', 'STOPPED'];
    const answerOf = (id: string) => probe.messages.find((m) => m.id === id)!;
    for (const r of reads) {
      const answer = answerOf(r.id);
      if (answer.type === 'reading') {
        expectModelValue(r.meter, answer.value as number, sentAt, stoppedAt);
      } else {
        expect(answer.type, `read ${r.id}`).toBe('error');
        expect(masterGone, `read ${r.id}: ${String(answer.message)}`).toContain(answer.code);
      }
    }
    const outcomes = reads.map((r) => answerOf(r.id));
    expect(outcomes.filter((a) => a.type === 'reading').length).toBeGreaterThanOrEqual(1);
    expect(outcomes.filter((a) => a.code === 'MASTER_UNAVAILABLE').length).toBeGreaterThanOrEqual(1);
    // A shared field read gives both its requesters the same outcome.
    for (let i = 0; i < all.length; i++) {
      const [first, second] = [outcomes[i], outcomes[i + all.length]];
      expect(second.type === 'reading' ? second.value : second.code).toEqual(
        first.type === 'reading' ? first.value : first.code,
      );
    }

    await c.startMaster();
    await eventually(() => c.relay!.masterConnected, 'the relay has reconnected to the restarted master');
    await c.allLoggedIn();
    const again = [
      { id: 'after-301', concentrator: '301', meter: metersOf('301')[7] },
      { id: 'after-302', concentrator: '302', meter: metersOf('302')[3] },
    ];
    const againSentAt = realClock.now();
    const answers = await Promise.all(again.map((r) => probe.read(r.id, r.concentrator, r.meter)));
    for (const [i, answer] of answers.entries()) {
      expect(answer).toMatchObject({ type: 'reading', unit: 'm3' });
      expectModelValue(again[i].meter, answer.value as number, againSentAt, realClock.now());
    }

    // Exactly once on the wire, over the whole run: no id twice, none missing, nothing unasked for.
    const ids = probe.messages.map((m) => m.id);
    expect([...ids].sort()).toEqual([...reads.map((r) => r.id), ...again.map((r) => r.id)].sort());
    expect(probe.closed).toBeUndefined();
  }, 90_000);
});

import { afterEach, describe, expect, it } from 'vitest';
import { concatBytes, hexToBytes } from '../../protocols/bytes.ts';
import {
  buildDataRequest,
  buildForwardReply,
  buildForwardRequest,
  encodeGdw376,
  type Gdw376Frame,
} from '../../protocols/gdw376/index.ts';
import { Rs485Bus } from '../bus/index.ts';
import { realClock } from '../clock/index.ts';
import { Cjt188Meter, ConsumptionModel, MeterOnBus } from '../meter/index.ts';
import type { ConcentratorSpec } from '../scenario/index.ts';
import { Concentrator, rejectedHeader } from './concentrator.ts';
import type { ForwardRecord } from './forwarding.ts';
import { busTransport, MeterPort } from './meter-port.ts';
import { readingOf, readRequest } from './poll-schedule.ts';
import { FakeMaster, once } from './testing/fake-master.ts';

const model = new ConsumptionModel({ seed: 3 });
const A1 = '0171';
const A2 = 2082;
const M1 = '00000000101001';
const M2 = '00000000101002';
const M3 = '00000000102001';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function setup() {
  const master = new FakeMaster();
  const masterPort = await master.listen();
  const spec: ConcentratorSpec = {
    id: '017102082',
    a1: A1,
    a2: A2,
    upstream: { mode: 'client', host: '127.0.0.1', port: masterPort },
    heartbeatSeconds: 60,
    pollMinutes: 0,
    ports: [],
  };
  const ports = [
    [1, [M1, M2]],
    [2, [M3]],
  ].map(([no, addresses]) => {
    const bus = new Rs485Bus({ clock: realClock, turnaroundMs: 5 });
    for (const address of addresses as string[]) new MeterOnBus(new Cjt188Meter({ address, model }), bus);
    return new MeterPort({ port: no as number, transport: busTransport(bus, `port ${no}`) });
  });
  const concentrator = new Concentrator({ spec, ports });
  cleanup.push(
    () => concentrator.stop(),
    () => master.close(),
  );
  const online = once(concentrator, 'online');
  await concentrator.start();
  await online;
  return { master, concentrator };
}

function forward(seq: number, port: number, meter: string, frameTimeoutMs = 800): Gdw376Frame {
  return buildForwardRequest({
    a1: A1,
    a2: A2,
    seq,
    port,
    frameTimeout:
      frameTimeoutMs <= 127
        ? { value: frameTimeoutMs, unit: 'ms' }
        : { value: Math.ceil(frameTimeoutMs / 1000), unit: 's' },
    content: readRequest({ address: meter, protocol: 'cjt188' }),
  });
}

const replyTo = (seq: number) => (f: Gdw376Frame) => f.afn === 0x10 && f.seq.seq === seq;
const denyTo = (seq: number) => (f: Gdw376Frame) =>
  f.afn === 0x00 && f.seq.seq === seq && f.units[0].body.kind === 'deny-all';

function contentOf(f: Gdw376Frame): Uint8Array {
  const body = f.units[0].body;
  if (body.kind !== 'forward-reply') throw new Error(`not a forward reply: ${body.kind}`);
  return hexToBytes(body.content);
}

describe('Concentrator', () => {
  it("answers AFN 10 F1 with the meter's reply under the request's SEQ", async () => {
    const { master } = await setup();
    master.send(
      buildForwardRequest({
        a1: A1,
        a2: A2,
        seq: 9,
        port: 1,
        content: readRequest({ address: M2, protocol: 'cjt188' }),
      }),
    );
    const reply = await master.next(replyTo(9));
    expect(reply.control.raw).toBe(0x88);
    const reading = readingOf(contentOf(reply));
    expect(reading?.value).toBeCloseTo(model.readingAt(M2, Date.now()), 1);
  });

  it('answers a silent meter with empty content', async () => {
    const { master } = await setup();
    master.send(forward(4, 1, '00000000999999', 100));
    const reply = await master.next(replyTo(4));
    expect(contentOf(reply)).toHaveLength(0);
  });

  it('denies a forward to a port it does not have (AFN 00 F2, same SEQ)', async () => {
    const { master, concentrator } = await setup();
    const denied = once<{ reason: string }>(concentrator, 'denied');
    master.send(forward(5, 7, M1));
    const deny = await master.next(denyTo(5));
    expect(deny.control.dir).toBe('up');
    expect((await denied).reason).toMatch(/no port 7/);
  });

  it('denies AFN 0C and 0D requests with AFN 00 F2', async () => {
    const { master } = await setup();
    master.send(buildDataRequest({ a1: A1, a2: A2, seq: 1, afn: 0x0c, units: [{ pn: [1], fn: [129] }] }));
    master.send(
      buildDataRequest({
        a1: A1,
        a2: A2,
        seq: 2,
        afn: 0x0d,
        units: [{ pn: [1], fn: [161], data: '01 03 24' }],
      }),
    );
    await master.next(denyTo(1));
    await master.next(denyTo(2));
  });

  it('survives garbage and half frames and keeps answering on the same connection', async () => {
    const { master, concentrator } = await setup();
    const dropped: unknown[] = [];
    concentrator.on('dropped', (d) => dropped.push(d));
    const ignored: string[] = [];
    concentrator.on('ignored', (i) => ignored.push(i.reason));
    const good = encodeGdw376(forward(11, 2, M3));
    const sockets = [...master.sockets];
    master.send(Uint8Array.from([0xde, 0xad, 0x68, 0x68, 0x16, 0xff]));
    // Half a frame, a pause, then the rest.
    master.send(good.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 30));
    master.send(good.subarray(10));
    // An uplink frame and one for another terminal are ignored.
    master.send(buildForwardReply(forward(12, 1, M1), { content: '' }));
    master.send({ ...forward(13, 1, M1), a2: 999 });
    const reply = await master.next(replyTo(11));
    expect(readingOf(contentOf(reply))).toBeDefined();
    expect(dropped.length).toBeGreaterThan(0);
    expect(ignored).toHaveLength(2);
    expect([...master.sockets]).toEqual(sockets);
    expect(concentrator.online).toBe(true);
  });

  it('denies a well-summed frame whose AFN 10 body is malformed', async () => {
    const { master, concentrator } = await setup();
    const bytes = encodeGdw376(forward(6, 1, M1));
    // The content length claims 200 bytes; the checksum is made right again.
    const bad = Uint8Array.from(bytes);
    bad[22] = 200;
    let sum = 0;
    for (let i = 6; i < bad.length - 2; i++) sum = (sum + bad[i]) & 0xff;
    bad[bad.length - 2] = sum;
    expect(rejectedHeader(bad)?.seq.seq).toBe(6);
    const denied = once<{ reason: string }>(concentrator, 'denied');
    master.send(bad);
    await master.next(denyTo(6));
    expect((await denied).reason).toMatch(/undecodable/);
    // The same frame in two writes, with garbage before it: its header is found in the earlier chunk.
    bad[13] = (bad[13] & 0xf0) | 7;
    bad[bad.length - 2] = (bad[bad.length - 2] + 1) & 0xff;
    master.send(Uint8Array.from([0xde, 0xad, ...bad.subarray(0, 9)]));
    await new Promise((r) => setTimeout(r, 30));
    master.send(bad.subarray(9));
    await master.next(denyTo(7));
  });

  it('never sends the answer to a forward on a later connection than the one it came on', async () => {
    const { master, concentrator } = await setup();
    const records: ForwardRecord[] = [];
    concentrator.on('forward', (r) => records.push(r));
    // A silent meter: the answer (empty content) comes after the 3 s frame timeout, by which time the link has
    // dropped and the concentrator has logged in again on a new connection.
    master.send(forward(5, 1, '00000000109999', 3000));
    await once<{ frame: Gdw376Frame }>(concentrator, 'frame', (e) => e.frame.afn === 0x10);
    const reconnected = once(concentrator, 'online');
    master.dropAll();
    await reconnected;
    const from = master.frames.length;
    await once<ForwardRecord>(concentrator, 'forward', (r) => r.seq === 5, 6000);
    master.send(forward(6, 1, M1));
    await master.next(replyTo(6), 5000, from);
    expect(master.frames.slice(from).filter(replyTo(5))).toEqual([]);
    expect(records.find((r) => r.seq === 5)?.outcome).toBe('silence');
  });

  it('serialises forwards to one port and overlaps forwards to two ports', async () => {
    const { master, concentrator } = await setup();
    const records: ForwardRecord[] = [];
    concentrator.on('forward', (r) => records.push(r));
    // Three requests in one write: two for port 1, one for port 2.
    master.send(
      concatBytes([
        encodeGdw376(forward(1, 1, M1)),
        encodeGdw376(forward(2, 1, M2)),
        encodeGdw376(forward(3, 2, M3)),
      ]),
    );
    await Promise.all([1, 2, 3].map((s) => master.next(replyTo(s))));
    const bySeq = new Map(records.map((r) => [r.seq, r]));
    const [r1, r2, r3] = [1, 2, 3].map((s) => bySeq.get(s) as ForwardRecord);
    expect([r1.outcome, r2.outcome, r3.outcome]).toEqual(['frame', 'frame', 'frame']);
    expect(r2.startedAt).toBeGreaterThanOrEqual(r1.endedAt);
    expect(r3.startedAt).toBeLessThan(r1.endedAt);
    expect(r1.startedAt).toBeLessThan(r3.endedAt);
  });
});

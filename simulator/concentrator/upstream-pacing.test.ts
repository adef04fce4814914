import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildConfirm,
  buildForwardRequest,
  decodeGdw376,
  encodeGdw376,
  type Gdw376Frame,
} from '../../protocols/gdw376/index.ts';
import { Rs485Bus } from '../bus/index.ts';
import { realClock } from '../clock/index.ts';
import { Cjt188Meter, ConsumptionModel, MeterOnBus } from '../meter/index.ts';
import type { ConcentratorSpec } from '../scenario/index.ts';
import { Concentrator } from './concentrator.ts';
import { busTransport, MeterPort } from './meter-port.ts';
import { readRequest } from './poll-schedule.ts';

// The field defect of issue 9: some master stations take each TCP read as exactly one frame and close the
// connection when a read holds more (a heartbeat written right after a forward reply). This master does just
// that, while it keeps four ports busy with forwards and confirms a heartbeat every 250 ms — real clock, real
// sockets, about two seconds.

const A1 = '0171';
const A2 = 2082;
const PORTS = [1, 2, 3, 4];
const RUN_MS = 2000;
const model = new ConsumptionModel({ seed: 9 });

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

interface StrictMasterResult {
  /** Reads that held anything but exactly one whole frame (the master closed the connection for each). */
  merged: number;
  replies: number;
  heartbeats: number;
  offline: string[];
}

/** Decodes one read as exactly one frame, or says why not. */
function oneFrame(chunk: Uint8Array): Gdw376Frame | undefined {
  const result = decodeGdw376(chunk);
  return result.kind === 'frame' && result.consumed === chunk.length ? result.frame : undefined;
}

async function runAgainstStrictMaster(minFrameGapMs: number | undefined): Promise<StrictMasterResult> {
  const result: StrictMasterResult = { merged: 0, replies: 0, heartbeats: 0, offline: [] };
  let seq = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let awaiting = 0;
    const burst = () => {
      // One forward per port, all in one write: the four ports answer at about the same time.
      const frames = PORTS.map((port) => {
        seq = (seq + 1) & 0x0f;
        return encodeGdw376(
          buildForwardRequest({
            a1: A1,
            a2: A2,
            seq,
            port,
            frameTimeout: { value: 2, unit: 's' },
            content: readRequest({ address: `0000000010100${port}`, protocol: 'cjt188' }),
          }),
        );
      });
      awaiting = frames.length;
      socket.write(Buffer.concat(frames));
    };
    socket.on('data', (chunk: Buffer) => {
      const frame = oneFrame(chunk);
      if (!frame) {
        result.merged += 1;
        socket.destroy();
        return;
      }
      if (frame.afn === 0x02) {
        socket.write(encodeGdw376(buildConfirm({ a1: frame.a1, a2: frame.a2, seq: frame.seq.seq })));
        if (frame.units[0].fn[0] === 1) burst();
        else result.heartbeats += 1;
      } else if (frame.afn === 0x10) {
        result.replies += 1;
        awaiting -= 1;
        if (awaiting === 0) burst();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(
    () => new Promise<void>((r) => server.close(() => r())),
    () => {
      for (const s of sockets) s.destroy();
    },
  );
  const spec: ConcentratorSpec = {
    id: '017102082',
    a1: A1,
    a2: A2,
    upstream: { mode: 'client', host: '127.0.0.1', port: (server.address() as net.AddressInfo).port },
    heartbeatSeconds: 0.25,
    pollMinutes: 0,
    ports: [],
  };
  const ports = PORTS.map((no) => {
    const bus = new Rs485Bus({ clock: realClock, settings: { baudRate: 9600 }, turnaroundMs: 5 });
    new MeterOnBus(new Cjt188Meter({ address: `0000000010100${no}`, model }), bus);
    return new MeterPort({ port: no, transport: busTransport(bus, `port ${no}`) });
  });
  const concentrator = new Concentrator({
    spec,
    ports,
    session: {
      backoff: { initialMs: 50, maxMs: 100 },
      ...(minFrameGapMs === undefined ? {} : { minFrameGapMs }),
    },
  });
  cleanup.push(() => concentrator.stop());
  concentrator.on('offline', (reason) => result.offline.push(reason));
  await concentrator.start();
  const end = Date.now() + RUN_MS;
  // Without pacing the first merged read is enough to show the defect; with it, run the whole time.
  while (Date.now() < end && (minFrameGapMs !== 0 || result.merged === 0)) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await concentrator.stop();
  return result;
}

describe('Concentrator uplink frame pacing', () => {
  it('keeps its link to a master that takes each TCP read as one frame, under forwards and 250 ms heartbeats', async () => {
    const r = await runAgainstStrictMaster(undefined);
    expect(r.merged).toBe(0);
    expect(r.offline.filter((reason) => reason !== 'stopped')).toEqual([]);
    expect(r.replies).toBeGreaterThan(20);
    expect(r.heartbeats).toBeGreaterThanOrEqual(4);
  });

  it('loses that link without pacing: replies written back to back reach the master in one read', async () => {
    const r = await runAgainstStrictMaster(0);
    expect(r.merged).toBeGreaterThan(0);
  });
});

import { describe, expect, it } from 'vitest';
import { Rs485Bus } from '../bus/index.ts';
import { VirtualClock } from '../clock/index.ts';
import { createMemoryPair } from '../link/index.ts';
import { Cjt188Meter, ConsumptionModel, MeterOnBus } from '../meter/index.ts';
import {
  busTransport,
  linkTransport,
  MeterPort,
  type MeterPortTransport,
  type PortForwardResult,
} from './meter-port.ts';
import { readingOf, readRequest } from './poll-schedule.ts';

const START = Date.parse('2024-03-01T08:00:00Z');
const model = new ConsumptionModel({ seed: 7 });

function portWithMeters(clock: VirtualClock, port: number, addresses: string[], faults = {}) {
  const bus = new Rs485Bus({ clock, turnaroundMs: 20 });
  for (const address of addresses) {
    new MeterOnBus(new Cjt188Meter({ address, model, clock, ...faults }), bus);
  }
  return new MeterPort({ port, transport: busTransport(bus, `concentrator port ${port}`), clock });
}

/** Advances the virtual clock in steps until `promise` settles. */
async function settle<T>(clock: VirtualClock, promise: Promise<T>, stepMs = 10, maxMs = 120_000): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  for (let t = 0; !done && t < maxMs; t += stepMs) await clock.advanceAsync(stepMs);
  return tracked;
}

const A = '00000000101001';
const B = '00000000101002';

describe('MeterPort', () => {
  it("returns the addressed meter's reply frame, whose reading is the model's", async () => {
    const clock = new VirtualClock({ start: START });
    const port = portWithMeters(clock, 1, [A, B]);
    const result = await settle(clock, port.forward(readRequest({ address: A, protocol: 'cjt188' })));
    expect(result.outcome).toBe('frame');
    const reading = readingOf(result.reply);
    expect(reading?.value).toBeCloseTo(model.readingAt(A, result.endedAt), 2);
  });

  it('gives an empty reply after exactly the frame timeout when no meter answers', async () => {
    const clock = new VirtualClock({ start: START });
    const port = portWithMeters(clock, 1, [A]);
    const request = readRequest({ address: '00000000999999', protocol: 'cjt188' });
    const result = await settle(clock, port.forward(request, { frameTimeoutMs: 1500 }), 1);
    expect(result.outcome).toBe('silence');
    expect(result.reply).toHaveLength(0);
    const wire = (request.length * 11 * 1000) / 2400;
    expect(result.endedAt - result.startedAt).toBeCloseTo(wire + 1500, 3);
  });

  it('runs two forwards to one port one after the other', async () => {
    const clock = new VirtualClock({ start: START });
    const port = portWithMeters(clock, 1, [A, B]);
    const both = Promise.all([
      port.forward(readRequest({ address: A, protocol: 'cjt188' })),
      port.forward(readRequest({ address: B, protocol: 'cjt188' })),
    ]);
    expect(port.queued).toBe(1);
    const [first, second] = await settle(clock, both);
    expect(first.outcome).toBe('frame');
    expect(second.outcome).toBe('frame');
    expect(second.startedAt).toBeGreaterThanOrEqual(first.endedAt);
  });

  it('overlaps forwards to two ports', async () => {
    const clock = new VirtualClock({ start: START });
    const p1 = portWithMeters(clock, 1, [A]);
    const p2 = portWithMeters(clock, 2, [B]);
    const [r1, r2] = await settle(
      clock,
      Promise.all([
        p1.forward(readRequest({ address: A, protocol: 'cjt188' })),
        p2.forward(readRequest({ address: B, protocol: 'cjt188' })),
      ]),
    );
    expect(r1.startedAt).toBe(r2.startedAt);
    expect(r2.startedAt).toBeLessThan(r1.endedAt);
  });

  it('rejects with PORT_QUEUE_FULL beyond maxQueued', async () => {
    const clock = new VirtualClock({ start: START });
    const bus = new Rs485Bus({ clock });
    const port = new MeterPort({ port: 3, transport: busTransport(bus, 'c'), clock, maxQueued: 1 });
    const req = readRequest({ address: A, protocol: 'cjt188' });
    const running = port.forward(req, { frameTimeoutMs: 100 });
    const waiting = port.forward(req, { frameTimeoutMs: 100 });
    await expect(port.forward(req)).rejects.toMatchObject({ code: 'PORT_QUEUE_FULL' });
    await settle(clock, Promise.all([running, waiting]));
  });

  it('returns the bytes of a truncated reply as partial, after the byte timeout', async () => {
    const clock = new VirtualClock({ start: START });
    const port = portWithMeters(clock, 1, [A], { faults: [{ kind: 'truncated', when: { always: true } }] });
    const result = await settle(
      clock,
      port.forward(readRequest({ address: A, protocol: 'cjt188' }), {
        frameTimeoutMs: 5000,
        byteTimeoutMs: 100,
      }),
    );
    expect(result.outcome).toBe('partial');
    expect(result.reply.length).toBeGreaterThan(0);
    expect(result.endedAt - result.startedAt).toBeLessThan(1000);
  });

  it('finds the reply behind line noise from the meter side', async () => {
    const clock = new VirtualClock({ start: START });
    const port = portWithMeters(clock, 1, [A], {
      faults: [{ kind: 'noise', when: { always: true }, noiseBytes: 12 }],
    });
    const result = await settle(clock, port.forward(readRequest({ address: A, protocol: 'cjt188' })));
    expect(result.outcome).toBe('frame');
    expect(readingOf(result.reply)?.value).toBeCloseTo(model.readingAt(A, result.endedAt), 2);
  });

  it('stays silent when the request asks for other line settings than the port runs at', async () => {
    const clock = new VirtualClock({ start: START });
    const port = portWithMeters(clock, 1, [A]);
    const result: PortForwardResult = await settle(
      clock,
      port.forward(readRequest({ address: A, protocol: 'cjt188' }), {
        serial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
        frameTimeoutMs: 300,
      }),
    );
    expect(result.outcome).toBe('serial-mismatch');
    expect(result.note).toMatch(/9600 8N1.*2400 8E1/);
  });

  describe('takes the first whole frame however the reply bytes arrive', () => {
    /** A port whose transport hands back `chunks(request, reply)` when the request is sent. */
    async function forwardWith(chunks: (request: Uint8Array, reply: Uint8Array) => Uint8Array[]) {
      const clock = new VirtualClock({ start: START });
      const meter = new Cjt188Meter({ address: A, model, clock });
      let receive: (bytes: Uint8Array) => void = () => undefined;
      const heard: Uint8Array[] = [];
      const transport: MeterPortTransport = {
        description: 'scripted',
        send: async (request) => {
          const decoded = meter.decode(request);
          if (decoded.kind !== 'frame') throw new Error('request does not decode');
          for (const chunk of chunks(request, meter.respond(decoded.frame)[0].bytes)) {
            heard.push(chunk);
            receive(chunk);
          }
        },
        onReceive: (fn) => {
          receive = fn;
        },
        close: async () => undefined,
      };
      const port = new MeterPort({ port: 1, transport, clock });
      const result = await settle(clock, port.forward(readRequest({ address: A, protocol: 'cjt188' })));
      for (const chunk of heard) chunk.fill(0); // the result does not share the transport's buffers
      return result;
    }
    const join = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

    it('in one chunk', async () => {
      let sent: Uint8Array | undefined;
      const result = await forwardWith((_, reply) => {
        sent = reply.slice();
        return [reply];
      });
      expect(result.outcome).toBe('frame');
      expect(result.reply).toEqual(sent);
    });

    it('split over three chunks', async () => {
      let sent: Uint8Array | undefined;
      const result = await forwardWith((_, reply) => {
        sent = reply.slice();
        return [reply.slice(0, 5), reply.slice(5, 20), reply.slice(20)];
      });
      expect(result.outcome).toBe('frame');
      expect(result.reply).toEqual(sent);
    });

    it('behind an echo of the request in the same chunk, or followed by junk', async () => {
      let sent: Uint8Array | undefined;
      const echoed = await forwardWith((request, reply) => {
        sent = reply.slice();
        return [join(request, reply)];
      });
      expect(echoed.outcome).toBe('frame');
      expect(echoed.reply).toEqual(sent);
      const trailed = await forwardWith((_, reply) => [join(reply, Uint8Array.of(0x00, 0x11))]);
      expect(trailed.outcome).toBe('frame');
      expect(trailed.reply).toEqual(sent);
    });
  });

  it('works over a link and skips an adapter echo of its own request', async () => {
    const clock = new VirtualClock({ start: START });
    const pair = createMemoryPair();
    await pair.open();
    const port = new MeterPort({ port: 1, transport: linkTransport(pair.a), clock });
    const meter = new Cjt188Meter({ address: A, model, clock });
    pair.b.on('data', (bytes) => {
      // Echo the request (as some adapters do), then the meter's reply.
      void pair.b.write(bytes);
      const decoded = meter.decode(bytes.subarray(4));
      if (decoded.kind === 'frame')
        for (const plan of meter.respond(decoded.frame)) void pair.b.write(plan.bytes);
    });
    const result = await settle(clock, port.forward(readRequest({ address: A, protocol: 'cjt188' })));
    expect(result.outcome).toBe('frame');
    expect(readingOf(result.reply)?.value).toBeCloseTo(model.readingAt(A, START), 2);
    await port.close();
  });
});

/**
 * The relay driving a clientserver of the original kind (issue 14 item 3): `masterProtocol: 'legacy'`.
 * The peer below is written from the original's documented behaviour (README "Master protocol"), not from
 * meterlab's codec: it reads GB2312 JSON objects written back to back with no delimiter, and answers each with the
 * same flat ClickToCopyModel filled in, also back to back.
 */
import net from 'node:net';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayLogEntry } from './log.ts';
import { MasterLink } from './master-link.ts';
import { Relay } from './relay.ts';
import { WsProbe } from './testing/ws-probe.ts';

type Model = Record<string, unknown>;

/** The original clientserver, as documented: concatenated GB2312 JSON in, flat objects out. */
class OriginalClientServer {
  readonly requests: Model[] = [];
  readonly raw: Buffer[] = [];
  readonly #sockets = new Set<net.Socket>();
  readonly #server = net.createServer((socket) => {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    this.#serve(socket);
  });
  /** Decides the filled-in object for a request; `undefined` holds the answer back (see `release`). */
  answer: (req: Model) => Model | undefined = (req) => ({ ...req, AccumVal: 123.45, IsDownCommand: true });
  /** Write answers this many bytes at a time (splitting GB2312 characters across writes). */
  chunkSize = 0;
  #held: { socket: net.Socket; model: Model }[] = [];
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.#server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Sends the held answers in the given order of hold. */
  release(order: number[]): void {
    const held = this.#held;
    this.#held = [];
    for (const i of order) this.#write(held[i].socket, held[i].model);
  }

  get heldCount(): number {
    return this.#held.length;
  }

  #serve(socket: net.Socket): void {
    // The original read what was there and deserialised it; here: decode everything received so far and cut
    // off each prefix that parses as one JSON object.
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      this.raw.push(chunk);
      text += iconv.decode(chunk, 'gb2312');
      for (let end = text.indexOf('}'); end >= 0; end = text.indexOf('}', end + 1)) {
        let model: Model;
        try {
          model = JSON.parse(text.slice(0, end + 1)) as Model;
        } catch {
          continue;
        }
        text = text.slice(end + 1);
        end = -1;
        this.requests.push(model);
        const filled = this.answer(model);
        if (filled === undefined)
          this.#held.push({ socket, model: { ...model, AccumVal: 1, IsDownCommand: true } });
        else this.#write(socket, filled);
      }
    });
    socket.on('error', () => {});
  }

  #write(socket: net.Socket, model: Model): void {
    const bytes = iconv.encode(JSON.stringify(model), 'gb2312');
    if (this.chunkSize <= 0) {
      socket.write(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i += this.chunkSize)
      socket.write(bytes.subarray(i, i + this.chunkSize));
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function peer(): Promise<OriginalClientServer> {
  const p = new OriginalClientServer();
  await p.start();
  cleanups.push(() => p.stop());
  return p;
}

async function linkTo(p: OriginalClientServer, log?: (e: RelayLogEntry) => void): Promise<MasterLink> {
  const link = new MasterLink({ host: '127.0.0.1', port: p.port, protocol: 'legacy', log });
  cleanups.push(() => link.stop());
  const up = new Promise<void>((resolve) => link.once('up', () => resolve()));
  link.start();
  await up;
  return link;
}

describe('MasterLink with the legacy protocol', () => {
  it('writes flat GB2312 objects back to back and reads the filled-in answers, split anywhere', async () => {
    const p = await peer();
    p.chunkSize = 3;
    p.answer = (req) =>
      req.WaterMtrAddress === '101002'
        ? { ...req, AccumVal: null, IsDownCommand: true, ErrorCode: 'METER_TIMEOUT', ErrorMsg: '表计无应答' }
        : { ...req, AccumVal: 17.5, IsDownCommand: true };
    const link = await linkTo(p);
    const [one, two] = await Promise.all([
      link.read({ concentrator: '101', meter: '101001', protocol: 'cjt188', port: 2 }),
      link.read({ concentrator: '101', meter: '101002' }),
    ]);
    expect(one).toMatchObject({
      type: 'reading',
      concentrator: '101',
      meter: '101001',
      value: 17.5,
      unit: 'm3',
    });
    expect(two).toMatchObject({
      type: 'error',
      code: 'METER_TIMEOUT',
      message: '表计无应答',
      meter: '101002',
    });
    expect(p.requests).toEqual([
      { ConcentratorNo: '101', WaterMtrAddress: '101001', IsDownCommand: false },
      { ConcentratorNo: '101', WaterMtrAddress: '101002', IsDownCommand: false },
    ]);
    const wire = Buffer.concat(p.raw);
    expect(wire.includes(0x0a)).toBe(false);
    expect(wire.toString('latin1')).toBe(
      '{"ConcentratorNo":"101","WaterMtrAddress":"101001","IsDownCommand":false}{"ConcentratorNo":"101","WaterMtrAddress":"101002","IsDownCommand":false}',
    );
  });

  it('pairs answers that come back in another order by concentrator and meter', async () => {
    const p = await peer();
    p.answer = () => undefined;
    const link = await linkTo(p);
    const reads = ['1', '2', '3'].map((meter) => link.read({ concentrator: '101', meter: `10100${meter}` }));
    while (p.heldCount < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    p.release([2, 0, 1]);
    const answers = await Promise.all(reads);
    expect(answers.map((a) => a.meter)).toEqual(['101001', '101002', '101003']);
    expect(answers.every((a) => a.type === 'reading')).toBe(true);
    expect(link.pending).toBe(0);
  });

  it('has no cancel: a withdrawn read sends neither origin nor cancel, and its late answer is expected', async () => {
    const p = await peer();
    p.answer = () => undefined;
    const logs: RelayLogEntry[] = [];
    const link = await linkTo(p, (e) => logs.push(e));
    const withdraw = new AbortController();
    const read = link.read(
      { concentrator: '101', meter: '101001' },
      { origin: 'ws-1', signal: withdraw.signal },
    );
    while (p.heldCount < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    withdraw.abort();
    expect(await read).toMatchObject({ type: 'error', code: 'CANCELLED' });
    p.answer = (req) => ({ ...req, AccumVal: 2, IsDownCommand: true });
    p.release([0]); // the clientserver answers it all the same
    expect(await link.read({ concentrator: '101', meter: '101002' })).toMatchObject({ type: 'reading' });
    expect(Buffer.concat(p.raw).toString('latin1')).not.toMatch(/origin|cancel/);
    expect(logs.filter((e) => e.event === 'master-stray-answer')).toEqual([]);
  });

  it('answers a read BAD_REPLY when its answer is not a valid model, and keeps the connection', async () => {
    const p = await peer();
    p.answer = (req) =>
      req.WaterMtrAddress === '9'
        ? { ...req, AccumVal: 'lots', IsDownCommand: true }
        : { ...req, AccumVal: 2, IsDownCommand: true };
    const link = await linkTo(p);
    expect(await link.read({ concentrator: '101', meter: '9' })).toMatchObject({
      type: 'error',
      code: 'BAD_REPLY',
      message: expect.stringContaining('AccumVal'),
    });
    expect(await link.read({ concentrator: '101', meter: '8' })).toMatchObject({ type: 'reading', value: 2 });
    expect(link.connected).toBe(true);
  });
});

describe('Relay --master-protocol legacy', () => {
  it('serves v1 and legacy browser requests from an original clientserver', async () => {
    const p = await peer();
    p.answer = (req) => ({ ...req, AccumVal: 42.1, IsDownCommand: true });
    const relay = new Relay({
      host: '127.0.0.1',
      port: 0,
      master: { host: '127.0.0.1', port: p.port },
      masterProtocol: 'legacy',
      console: false,
    });
    const up = new Promise<void>((resolve) => relay.once('master-up', () => resolve()));
    const { url } = await relay.start();
    cleanups.push(() => relay.stop());
    await up;
    const client = new WsProbe(url);
    cleanups.push(() => client.close());
    await client.opened();
    expect(await client.read('v1', '101', '101001')).toMatchObject({
      type: 'reading',
      id: 'v1',
      value: 42.1,
    });
    client.send({ ModuleName: 'ClickToCopy', Content: { ConcentratorNo: '101', WaterMtrAddress: '101002' } });
    const legacy = await client.waitFor((m) => m.id === undefined);
    expect(JSON.stringify(legacy)).toContain('42.1');
    expect(p.requests).toHaveLength(2);
  });
});

import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../simulator/clock/index.ts';
import type { ArchiveData } from './archive.ts';
import { ClientApiServer } from './client-api.ts';
import { MasterError } from './master-error.ts';
import { type LoginEvent, MasterStation } from './master-station.ts';
import { FakeConcentrator } from './testing/fake-concentrator.ts';
import { waitForEvent } from './testing/wait.ts';

// Issue 14 item 3, master side: the seed system's webserver drives meterlab's master. The peer below is written
// from the documented behaviour of the original webserver (README, "The master's client API: limits and the seed
// system's framing"): it writes flat ClickToCopyModel objects as Json.NET serialises them, back to back without
// newlines, in GB2312 (Encoding.Default on a Chinese Windows), and reads JSON objects back the same way. It shares
// no code with the master's splitter: it decodes all it received and cuts the text at each top-level closing brace.

const ARCHIVE: ArchiveData = {
  concentrators: [
    {
      id: '017102082',
      alias: '101',
      a1: '0171',
      a2: 2082,
      ports: [
        {
          port: 1,
          meters: [
            { address: '101001', protocol: 'cjt188' },
            { address: '101002', protocol: 'cjt188' },
          ],
        },
      ],
    },
  ],
};

/** The original webserver's side of the clientserver link. */
class OriginalWebserver {
  readonly socket: Socket;
  #bytes = Buffer.alloc(0);

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#bytes = Buffer.concat([this.#bytes, chunk]);
    });
  }

  static async connect(port: number): Promise<OriginalWebserver> {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    return new OriginalWebserver(socket);
  }

  /** `JsonConvert.SerializeObject(model)` then `Encoding.Default.GetBytes`: GB2312, no delimiter. */
  static encode(model: string): Buffer {
    return iconv.encode(model, 'gb2312');
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The objects received so far: the text cut after each top-level `}` outside strings. */
  objects(): Record<string, unknown>[] {
    const text = iconv.decode(this.#bytes, 'gb2312');
    const out: Record<string, unknown>[] = [];
    let depth = 0;
    let inString = false;
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') {
        if (depth === 0) from = i;
        depth++;
      } else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(from, i + 1)));
    }
    return out;
  }

  /** Waits until `count` objects have come, polling each turn of the event loop, at most `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 5000): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const objects = this.objects();
      if (objects.length >= count) return objects;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${count} objects; got ${JSON.stringify(objects)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** The raw bytes received, for checks on the framing itself. */
  get raw(): Buffer {
    return this.#bytes;
  }
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setUp() {
  const master = new MasterStation({ listen: { port: 0 }, api: { port: 0 }, archive: ARCHIVE });
  const { listen, api } = await master.start();
  cleanup.push(() => master.stop());
  const fake = await FakeConcentrator.connect(listen.port, '0171', 2082);
  cleanup.push(() => fake.close());
  const login = waitForEvent<LoginEvent>(master, 'login');
  await fake.exchange(() => fake.login());
  await login;
  fake.meters.set('00000000101001', { value: 123.45 });
  fake.meters.set('00000000101002', { value: 7 });
  const web = await OriginalWebserver.connect(api!.port);
  cleanup.push(() => web.socket.destroy());
  return { master, fake, web };
}

const model = (concentrator: string, meter: string, extra = '') =>
  `{"ConcentratorNo":"${concentrator}","WaterMtrAddress":"${meter}","AccumVal":0.0,"IsDownCommand":false${extra}}`;

describe('master client API, seed clientserver framing (issue 14 item 3)', () => {
  it('answers flat GB2312 objects written back to back with flat objects back to back', async () => {
    const { web } = await setUp();
    web.write(
      Buffer.concat([
        OriginalWebserver.encode(model('101', '101001')),
        OriginalWebserver.encode(model('101', '101002', ',"Remark":"一号楼 点抄"')),
        OriginalWebserver.encode(model('一号楼', '101003')),
      ]),
    );
    const answers = await web.waitFor(3);
    const byMeter = new Map(answers.map((a) => [a.WaterMtrAddress, a]));
    expect(byMeter.get('101001')).toEqual({
      ConcentratorNo: '101',
      WaterMtrAddress: '101001',
      AccumVal: 123.45,
      IsDownCommand: true,
    });
    expect(byMeter.get('101002')).toMatchObject({ AccumVal: 7, IsDownCommand: true });
    // A failure is the same flat object, with AccumVal null and the error; Chinese text survives GB2312 both ways.
    expect(byMeter.get('101003')).toMatchObject({
      ConcentratorNo: '一号楼',
      WaterMtrAddress: '101003',
      AccumVal: null,
      IsDownCommand: true,
      ErrorCode: 'BAD_REQUEST',
      ErrorMsg: expect.stringContaining('一号楼'),
    });
    // No newline framing on the way back either: the objects follow each other directly.
    expect(web.raw.includes(0x0a)).toBe(false);
    expect(iconv.decode(web.raw, 'gb2312')).toMatch(/^\{.*\}\{.*\}\{.*\}$/);
  });

  it('reads a request split across writes, even inside a Chinese character', async () => {
    const { web } = await setUp();
    const bytes = OriginalWebserver.encode(model('101', '101001', ',"Remark":"抄表"'));
    const cut = bytes.indexOf(iconv.encode('抄', 'gb2312')) + 1;
    web.write(bytes.subarray(0, cut));
    await new Promise((r) => setTimeout(r, 20));
    web.write(bytes.subarray(cut));
    expect((await web.waitFor(1))[0]).toMatchObject({ WaterMtrAddress: '101001', AccumVal: 123.45 });
  });

  it('answers an object that is not a request with a flat error and goes on', async () => {
    const { web } = await setUp();
    web.write(
      OriginalWebserver.encode(
        '{"ConcentratorNo":"101","WaterMtrAddress":"101001","AccumVal":1,"IsDownCommand":true}',
      ),
    );
    web.write(OriginalWebserver.encode(model('101', '101001')));
    const [bad, good] = await web.waitFor(2);
    expect(bad).toMatchObject({
      ConcentratorNo: '101',
      AccumVal: null,
      ErrorCode: 'BAD_REQUEST',
      ErrorMsg: /answer/,
    });
    expect(good).toMatchObject({ WaterMtrAddress: '101001', AccumVal: 123.45, IsDownCommand: true });
  });
});

describe('ClientApiServer, seed framing', () => {
  it('answers in GB2312 with the error text as the master wrote it, and closes an idle connection with a flat last object', async () => {
    const clock = new VirtualClock();
    const server = new ClientApiServer(
      async () => {
        throw new MasterError('METER_TIMEOUT', '表 101001 无应答');
      },
      { port: 0, clock, idleTimeoutMs: 10_000 },
    );
    const { port } = await server.listen();
    cleanup.push(() => server.close());
    const web = await OriginalWebserver.connect(port);
    cleanup.push(() => web.socket.destroy());
    web.write(OriginalWebserver.encode(model('101', '101001')));
    expect((await web.waitFor(1))[0]).toEqual({
      ConcentratorNo: '101',
      WaterMtrAddress: '101001',
      AccumVal: null,
      IsDownCommand: true,
      ErrorCode: 'METER_TIMEOUT',
      ErrorMsg: '表 101001 无应答',
    });
    clock.advance(10_000);
    expect((await web.waitFor(2))[1]).toMatchObject({
      ConcentratorNo: '',
      AccumVal: null,
      IsDownCommand: true,
      ErrorCode: 'IDLE_TIMEOUT',
    });
  });
});

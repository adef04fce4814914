import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../../protocols/bytes.ts';
import { SerialLink, TcpClientLink, TcpServerLink } from '../../../simulator/link/index.ts';
import { parseRecording } from '../reader.ts';
import { memorySink } from '../writer.ts';
import { readImport, writeImported } from './index.ts';
import { importPcap } from './pcap.ts';

const REQUEST = hexToBytes('FE FE FE FE 68 10 01 10 10 00 00 00 00 01 03 1F 90 00 4C 16');
const REPLY = hexToBytes(
  'FE FE 68 10 01 10 10 00 00 00 00 81 16 1F 90 00 08 22 27 00 2C 95 18 27 00 2C 17 14 17 05 12 26 20 00 00 FB 16',
);
const SAMPLE = fileURLToPath(
  new URL('../../../fixtures/recordings/samples/loopback-376.pcap', import.meta.url),
);
let dir: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meterlab-import-'));
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function frames(session: ReturnType<typeof readImport>) {
  const sink = memorySink();
  writeImported(session, sink);
  const recording = parseRecording(sink.text(), 'imported.jsonl');
  return recording.records.flatMap((r) => (r.type === 'frame' || r.type === 'drop' ? [r] : []));
}

describe('import --from socat', () => {
  it('reads the dump a real `socat -x -v` wrote between a pty pair, with directions and chunks', async () => {
    const dump = join(dir, 'socat.dump');
    const [x1, x2] = [join(dir, 'x1'), join(dir, 'x2')];
    const socat = spawn('socat', ['-x', '-v', `pty,raw,echo=0,link=${x1}`, `pty,raw,echo=0,link=${x2}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(socat);
    const err: Buffer[] = [];
    socat.stderr?.on('data', (b: Buffer) => err.push(b));
    await until(() => existsSync(x1) && existsSync(x2), 'socat made both ptys');
    const one = new SerialLink({ path: x1 });
    const two = new SerialLink({ path: x2 });
    await one.open();
    await two.open();
    try {
      const atTwo: Uint8Array[] = [];
      const atOne: Uint8Array[] = [];
      two.on('data', (b) => atTwo.push(b));
      one.on('data', (b) => atOne.push(b));
      await one.write(REQUEST);
      await until(() => Buffer.concat(atTwo).length === REQUEST.length, 'the request crossed');
      await two.write(REPLY.subarray(0, 10));
      await until(() => Buffer.concat(atOne).length === 10, 'the first part of the reply crossed');
      await two.write(REPLY.subarray(10));
      await until(() => Buffer.concat(atOne).length === REPLY.length, 'the reply crossed');
    } finally {
      await one.close();
      await two.close();
    }
    await until(() => Buffer.concat(err).toString().split('\n--').length >= 4, 'socat wrote three transfers');
    socat.kill('SIGTERM');
    writeFileSync(dump, Buffer.concat(err));
    const session = readImport('socat', dump);
    expect(session.chunks.map((c) => `${c.dir} ${c.bytes.length}`)).toEqual(['ab 20', 'ba 10', 'ba 27']);
    expect(session.chunks[1].t).toBeGreaterThanOrEqual(session.chunks[0].t);
    const found = frames(session);
    expect(found.map((f) => `${f.dir} ${f.type} ${f.hex.length / 2}`)).toEqual([
      'ab frame 20',
      'ba frame 37',
    ]);
  });

  it('refuses a dump made with -v alone, naming the file and line', () => {
    const file = join(dir, 'v.dump');
    writeFileSync(file, '> 2026/12/05 10:28:57.000237971  length=3 from=0 to=2\nh\\x10\\x01--\n');
    expect(() => readImport('socat', file)).toThrow(
      expect.objectContaining({ code: 'BAD_IMPORT', message: `${file}:2: expected a hex line or "--"` }),
    );
  });
});

describe('import --from sscom and hex', () => {
  it('reads a serial-assistant log saved in GB2312, 发 as ab and 收 as ba, times of day kept', async () => {
    const { encodeText } = await import('../../../protocols/point-read/text-encoding.ts');
    const file = join(dir, 'sscom.txt');
    const text =
      '[14:22:01.123]发→◇FE FE FE FE 68 10 01 10 10 00 00 00 00 01 03 1F 90 00 4C 16 □\r\n' +
      '\r\n' +
      `[14:22:01.456]收←◆${Buffer.from(REPLY).toString('hex').replace(/(..)/g, '$1 ').toUpperCase()}□\r\n`;
    writeFileSync(file, encodeText(text, 'gb2312'));
    const session = readImport('sscom', file);
    expect(session.chunks.map((c) => [c.t, c.dir, c.bytes.length])).toEqual([
      [0, 'ab', 20],
      [333, 'ba', 37],
    ]);
    expect(frames(session).map((f) => f.type)).toEqual(['frame', 'frame']);
  });

  it('refuses a garbled serial-assistant line with its file and line', () => {
    const file = join(dir, 'bad.txt');
    writeFileSync(file, '[14:22:01.123]发→◇68 10 □\n[14:22:01.4收←◆68 □\n');
    expect(() => readImport('sscom', file)).toThrow(
      expect.objectContaining({ code: 'BAD_IMPORT', message: expect.stringMatching(/bad\.txt:2: /) }),
    );
  });

  it('reads plain hex lines with optional times and directions', () => {
    const file = join(dir, 'h.txt');
    writeFileSync(
      file,
      `# a poll\n12:00:01.250 > ${Buffer.from(REQUEST).toString('hex')}\n12:00:01.500 < ${Buffer.from(REPLY).toString('hex')}\n`,
    );
    const session = readImport('hex', file);
    expect(session.chunks.map((c) => [c.t, c.dir])).toEqual([
      [0, 'ab'],
      [250, 'ba'],
    ]);
    writeFileSync(file, '68 10 zz\n');
    expect(() => readImport('hex', file)).toThrow(
      expect.objectContaining({
        code: 'BAD_IMPORT',
        message: `${file}:1: expected hex bytes, optionally after a time (12:00:01.250) and a direction (> or <)`,
      }),
    );
  });
});

/** A classic pcap of Ethernet/IPv4/TCP packets, built the way tcpdump lays them out. */
function pcapOf(
  packets: { t: number; from: number; to: number; seq: number; flags: number; payload?: Uint8Array }[],
  linkType = 1,
): Uint8Array {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(linkType, 20);
  parts.push(header);
  for (const p of packets) {
    const payload = Buffer.from(p.payload ?? []);
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 20 + payload.length, 2);
    ip[9] = 6;
    Buffer.from([127, 0, 0, 1]).copy(ip, 12);
    Buffer.from([127, 0, 0, 1]).copy(ip, 16);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(p.from, 0);
    tcp.writeUInt16BE(p.to, 2);
    tcp.writeUInt32BE(p.seq >>> 0, 4);
    tcp[12] = 5 << 4;
    tcp[13] = p.flags;
    const data = Buffer.concat([eth, ip, tcp, payload]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(p.t / 1000), 0);
    rec.writeUInt32LE((p.t % 1000) * 1000, 4);
    rec.writeUInt32LE(data.length, 8);
    rec.writeUInt32LE(data.length, 12);
    parts.push(rec, data);
  }
  return Buffer.concat(parts);
}

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;

describe('import --from pcap', () => {
  it('puts a TCP stream back in order and does not duplicate retransmissions', () => {
    const login = hexToBytes('68 32 00 32 00 68 C9 71 01 22 08 00 02 70 00 00 01 00 D8 16');
    const base = 0xfffffff0; // the sequence numbers wrap inside the stream
    const pcap = pcapOf([
      { t: 1000, from: 40000, to: 9093, seq: base - 1, flags: SYN },
      { t: 1001, from: 9093, to: 40000, seq: 500, flags: SYN | ACK },
      { t: 1002, from: 40000, to: 9093, seq: base + 12, flags: ACK | PSH, payload: login.subarray(12) }, // arrives early
      { t: 1003, from: 40000, to: 9093, seq: base, flags: ACK | PSH, payload: login.subarray(0, 12) },
      { t: 1004, from: 40000, to: 9093, seq: base, flags: ACK | PSH, payload: login.subarray(0, 12) }, // retransmitted
      { t: 1005, from: 40000, to: 9093, seq: base + 6, flags: ACK | PSH, payload: login.subarray(6) }, // overlaps
    ]);
    const session = importPcap(pcap, 'x.pcap');
    expect(session.links).toEqual([
      expect.objectContaining({ name: 'tcp1', a: '127.0.0.1:40000', b: '127.0.0.1:9093' }),
    ]);
    expect(Buffer.concat(session.chunks.map((c) => c.bytes)).toString('hex')).toBe(
      Buffer.from(login).toString('hex'),
    );
    expect(frames(session).map((f) => f.type === 'frame' && f.summary)).toEqual([
      expect.stringMatching(/^gdw376 up prm AFN 02H login/),
    ]);
  });

  it('refuses a capture whose link type carries no TCP/IP, and one cut short, naming the file', () => {
    expect(() => importPcap(pcapOf([], 105), 'wifi.pcap')).toThrow(
      expect.objectContaining({
        code: 'BAD_PCAP',
        message: expect.stringMatching(/^wifi\.pcap: link type 105 /),
      }),
    );
    const cut = pcapOf([{ t: 1, from: 1, to: 2, seq: 0, flags: ACK, payload: REQUEST }]).subarray(0, 60);
    expect(() => importPcap(cut, 'cut.pcap')).toThrow(
      expect.objectContaining({
        code: 'BAD_PCAP',
        message: 'cut.pcap: packet 1 is cut short (74 bytes announced)',
      }),
    );
  });

  it('reads the checked-in loopback capture (tcpdump -i lo, a concentrator logging in to the master)', () => {
    const session = importPcap(readFileSync(SAMPLE), SAMPLE);
    const summaries = frames(session).map((f) => (f.type === 'frame' ? `${f.dir} ${f.summary}` : f.code));
    expect(summaries[0]).toMatch(/^ab gdw376 up prm AFN 02H login F1/);
    expect(summaries[1]).toMatch(/^ba gdw376 down resp AFN 00H confirm-all/);
  });

  it('reads a capture tcpdump makes on the loopback interface while two links talk', async () => {
    const tcpdump = '/usr/bin/tcpdump';
    if (!existsSync(tcpdump) || process.getuid?.() !== 0) {
      console.warn('skipping the live tcpdump capture: needs /usr/bin/tcpdump and root');
      return;
    }
    const server = new TcpServerLink({ port: 0 });
    await server.open();
    const port = server.address()!.port;
    const file = join(dir, 'live.pcap');
    const capture = spawn(tcpdump, ['-i', 'lo', '-U', '-n', '-w', file, `tcp port ${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(capture);
    let said = '';
    capture.stderr?.on('data', (b: Buffer) => {
      said += b.toString();
    });
    await until(() => said.includes('listening on'), 'tcpdump is capturing');
    const client = new TcpClientLink({ host: '127.0.0.1', port });
    const atServer: Uint8Array[] = [];
    const atClient: Uint8Array[] = [];
    server.on('data', (b) => atServer.push(b));
    client.on('data', (b) => atClient.push(b));
    await client.open();
    await client.write(REQUEST);
    await until(() => Buffer.concat(atServer).length === REQUEST.length, 'the request arrived');
    await server.write(REPLY);
    await until(() => Buffer.concat(atClient).length === REPLY.length, 'the reply arrived');
    await client.close();
    await server.close();
    await until(() => existsSync(file) && readFileSync(file).length > 24 * 4, 'tcpdump wrote packets');
    const exited = new Promise((r) => capture.once('close', r));
    capture.kill('SIGINT');
    await exited;
    const session = importPcap(readFileSync(file), file);
    expect(session.links).toHaveLength(1);
    const found = frames(session);
    expect(found.map((f) => `${f.dir} ${f.type} ${f.hex.length / 2}`)).toEqual([
      'ab frame 20',
      'ba frame 37',
    ]);
  });
});

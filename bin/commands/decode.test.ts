import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../protocols/bytes.ts';
import { DecodeSession, decodeStream } from './decode.ts';
import { HexTextDecoder } from './hex-text.ts';

const bin = new URL('../meterlab.mjs', import.meta.url).pathname;

/** Runs `meterlab` with `input` on stdin; resolves with the exit status, stdout line count and stderr. */
function run(
  args: string[],
  input: Uint8Array | string = '',
): Promise<{ code: number; lines: string[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, lines: out.split('\n').filter(Boolean), stderr }),
    );
    child.stdin.end(input);
  });
}

/** Seeded bytes (xorshift32): the same "random" input on every run. */
function noise(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

// C8: AIXI `encode_cjt188` self-test (fixtures/vectors/cjt188.json).
const C8 = '68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3D 16';
const C8_BAD = '68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3E 16';

describe('meterlab decode exit status (issue 14, item 7)', () => {
  it('exits 0 when frames are found and only junk around them is dropped, and reports the junk', async () => {
    const { code, lines } = await run(['decode', `00 11 ${C8} 22`]);
    expect(code).toBe(0);
    expect(lines.map((l) => JSON.parse(l).error?.code ?? 'frame')).toEqual(['NO_START', 'frame', 'NO_START']);
  });

  it('exits 1 when a candidate frame is corrupt, or when no frame is found at all', async () => {
    expect((await run(['decode', `${C8} ${C8_BAD}`])).code).toBe(1);
    expect((await run(['decode', '00 11 22'])).code).toBe(1);
    expect((await run(['decode'], '')).code).toBe(1);
  });

  it('exits 2 on usage errors, and says that input that is not hex is not hex', async () => {
    const hello = await run(['decode', 'hello']);
    expect(hello.code).toBe(2);
    expect(hello.stderr).toMatch(/not hex: "h" at character 1/);
    expect(hello.stderr).not.toMatch(/odd number/);
    expect((await run(['decode', '--protocol', 'nope', '00'])).code).toBe(2);
    expect((await run(['decode'], 'zz')).code).toBe(2);
  });
});

describe('meterlab decode on large input (issue 13, item 6)', () => {
  it('streams 30 MB of random bytes with --binary and prints every dropped byte', async () => {
    const input = noise(30 * 1024 * 1024);
    const { code, lines, stderr } = await run(['decode', '--binary'], input);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    let bytes = 0;
    for (const line of lines) bytes += (JSON.parse(line).hex.length + 1) / 3;
    expect(bytes).toBe(input.length);
  }, 60_000);

  it('holds at most one frame plus one bounded drop run, whatever the input size', () => {
    const session = new DecodeSession('auto');
    let longest = 0;
    for (let i = 0; i < 64; i++) {
      for (const line of session.push(noise(65536, i + 1))) longest = Math.max(longest, line.hex.length);
    }
    // 16391 bytes (the longest 376.1 frame) as "XX " text.
    expect(longest).toBeLessThanOrEqual(16391 * 3);
  });

  it('reads hex text split anywhere, 0x prefixes and separators included', () => {
    const text = `0x68,0x10:${C8.slice(6)}`;
    for (let cut = 0; cut <= text.length; cut++) {
      const hex = new HexTextDecoder();
      const bytes = [...hex.push(text.slice(0, cut)), ...hex.push(text.slice(cut))];
      hex.end();
      expect(Uint8Array.from(bytes)).toEqual(hexToBytes(C8));
    }
    expect(decodeStream(hexToBytes(C8), 'cjt188')).toHaveLength(1);
  });
});

describe('meterlab decode shows frames whose body does not fit (issue 14, item 4)', () => {
  it('prints a 376.1 frame with a sound envelope but bad data units as its header, data and a warning', () => {
    // Q2 (KSY `heartBeat.3761`) with 5 data bytes after its F3 unit (L and checksum fixed): a heartbeat carries
    // none or a 6-byte clock, so the units do not fit; the address, control, AFN and SEQ are still shown.
    const lines = decodeStream(
      hexToBytes('68 46 00 46 00 68 C9 71 01 22 08 00 02 79 00 00 04 00 01 02 03 04 05 F3 16 00'),
      'auto',
    );
    expect(lines[0]).toMatchObject({
      protocol: 'gdw376',
      a1: '0171',
      a2: 2082,
      afn: 2,
      seq: { seq: 9 },
      data: '00 00 04 00 01 02 03 04 05',
      warnings: [expect.stringMatching(/heartbeat data must be empty or a 6-byte A.1 clock/)],
    });
    expect(lines[1]).toMatchObject({ error: { code: 'NO_START', offset: 25 }, hex: '00' });
    const session = new DecodeSession('auto');
    session.push(hexToBytes('68 46 00 46 00 68 C9 71 01 22 08 00 02 79 00 00 04 00 01 02 03 04 05 F3 16'));
    session.end();
    expect(session.exitCode).toBe(0);
  });

  it('prints the JY heat reply (BLOG-JY) as the unit-first variant', () => {
    const [line] = decodeStream(
      hexToBytes(
        'FE FE FE FE 68 20 32 41 31 40 00 00 00 81 2E 90 1F 01 08 02 00 00 00 08 02 00 00 00 17 00 00 00 00 35 00 00 00 00 2C 34 10 00 00 35 25 00 66 25 00 00 00 00 53 00 12 10 07 15 20 00 00 31 16',
      ),
      'auto',
    );
    expect(line).toMatchObject({
      protocol: 'cjt188',
      body: { data: { type: 'heat', variant: 'unit-first' } },
    });
  });
});

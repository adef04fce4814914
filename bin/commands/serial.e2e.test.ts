import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PollError } from '../../harness/poller/index.ts';
import { createPtyPair, type PtyPair } from '../../simulator/link/index.ts';
import { ConsumptionModel, type MeterHost } from '../../simulator/meter/index.ts';
import { METERS_DEFAULTS, type MetersFlags, registerMeters, startMeters } from './meters.ts';
import { POLL_DEFAULTS, type PollFlags, registerPoll, runPoll } from './poll.ts';
import { registerVport, runVport } from './vport.ts';

// End to end over a real socat pty pair opened with serialport at 2400 8E1: simulated meters on one end
// (as `meterlab meters` serves them), `meterlab poll`'s code on the other.

let pair: PtyPair | undefined;
let host: MeterHost | undefined;
const log: string[] = [];

beforeEach(async () => {
  pair = await createPtyPair();
  log.length = 0;
});

afterEach(async () => {
  await host?.close();
  host = undefined;
  await pair?.close();
  pair = undefined;
});

async function serve(
  meters: string,
  extra: Partial<MetersFlags> = {},
  protocol: 'cjt188' | 'dlt645' = 'cjt188',
) {
  if (!pair) throw new Error('no pair');
  host = await startMeters(
    { ...METERS_DEFAULTS, port: pair.paths[1], protocol, meters, ...extra },
    { log: (line) => log.push(line) },
  );
  return host;
}

async function poll(flags: Partial<PollFlags>, protocol: 'cjt188' | 'dlt645' = 'cjt188'): Promise<string[]> {
  if (!pair) throw new Error('no pair');
  const out: string[] = [];
  await runPoll(
    { ...POLL_DEFAULTS, timeout: 1500, retries: 1, port: pair.paths[0], protocol, ...flags },
    (l) => out.push(l),
  );
  return out;
}

async function pollError(flags: Partial<PollFlags>): Promise<PollError> {
  try {
    await poll(flags);
  } catch (error) {
    if (error instanceof PollError) return error;
    throw error;
  }
  throw new Error('expected a PollError');
}

describe('meterlab meters + meterlab poll over a pty pair at 2400 8E1', () => {
  it('polls a simulated meter and gets the model reading', async () => {
    await serve('101001', { seed: 5 });
    const before = Date.now();
    const [line] = await poll({ meter: '101001', json: true });
    const after = Date.now();
    const r = JSON.parse(line);
    expect(r.address).toBe('00000000101001');
    expect(r.reading.unit).toBe('m3');
    expect(r.reading.status.valve).toBe('open');
    const model = new ConsumptionModel({ seed: 5 });
    expect(r.reading.value).toBeGreaterThanOrEqual(model.readingAt('00000000101001', before));
    expect(r.reading.value).toBeLessThanOrEqual(model.readingAt('00000000101001', after));
    // The request (20 bytes) and reply (37 bytes) take their 2400-baud wire time plus the turnaround.
    expect(r.elapsedMs).toBeGreaterThanOrEqual(((20 + 37) * 11 * 1000) / 2400 + 20 - 5);
    expect(log.some((l) => l.includes('<- FE FE FE FE 68 10 01 10 10'))).toBe(true);
    expect(log.some((l) => l.includes('-> FE FE 68 10 01 10 10'))).toBe(true);
  });

  it('keeps the meter clock in the zone given to meters, and poll prints it with that offset (issue 14 item 10)', async () => {
    const hhmm = (t: number, offsetMinutes: number) =>
      new Date(t + offsetMinutes * 60_000).toISOString().slice(11, 16);
    for (const offset of [0, 480]) {
      await serve('101001', { meterUtcOffset: offset });
      const before = Date.now();
      const [line] = await poll({ meter: '101001', meterUtcOffset: offset });
      const after = Date.now();
      const m = line.match(/meter time \d{4}-\d\d-\d\d (\d\d:\d\d):\d\d ([+-]\d\d:\d\d) \(meter clock\)/);
      expect(m, line).not.toBeNull();
      expect(m?.[2]).toBe(offset === 0 ? '+00:00' : '+08:00');
      expect([hhmm(before, offset), hhmm(after, offset)]).toContain(m?.[1]);
      await host?.close();
      host = undefined;
    }
  });

  it('serves several meters on one port and reads each', async () => {
    await serve('101001,101002,101003');
    for (const m of ['101003', '101001', '101002']) {
      const [line] = await poll({ meter: m });
      expect(line).toMatch(new RegExp(`^meter 0+${m} 901F: \\d+(\\.\\d+)? m3`));
    }
  });

  it('valve close, then a read shows the closed status', async () => {
    await serve('101001');
    const [ack] = await poll({ meter: '101001', valve: 'close' });
    expect(ack).toMatch(/valve close acknowledged \(valve closed\)/);
    const [line] = await poll({ meter: '101001' });
    expect(line).toMatch(/valve closed/);
    expect(log.some((l) => l.includes('valve open -> closed'))).toBe(true);
  });

  it('scan finds the only meter; DL/T 645 reads work too', async () => {
    await serve('42', {}, 'dlt645');
    expect(await poll({ scan: true }, 'dlt645')).toEqual(['found meter 000000000042']);
    const [line] = await poll({ meter: '42' }, 'dlt645');
    expect(line).toMatch(/^meter 000000000042 00010000: \d+(\.\d+)? kWh/);
  });

  it('silence: a timeout that says what was sent', async () => {
    await serve('101001', { faults: 'silence' });
    const error = await pollError({ meter: '101001', timeout: 600, retries: 1 });
    expect(error.code).toBe('METER_TIMEOUT');
    expect(error.attempts).toBe(2);
    expect(error.message).toMatch(/within 600 ms; sent FE FE FE FE 68 10 01 10 10 00 00 00 00 01 03 1F 90/);
  });

  it('silence on every 2nd request: the retry succeeds', async () => {
    await serve('101001', { faults: 'silence@every:2' });
    await poll({ meter: '101001' });
    const [line] = await poll({ meter: '101001', timeout: 800 });
    expect(line).toMatch(/2 attempts/);
  });

  it('bad checksum, truncated, wrong address and error reply are told apart at the reader', async () => {
    const cases: [string, string][] = [
      ['bad-checksum', 'BAD_CHECKSUM'],
      ['truncated', 'BAD_REPLY'],
      ['wrong-address', 'ADDRESS_MISMATCH'],
      ['error-reply', 'ABNORMAL_REPLY'],
    ];
    for (const [fault, code] of cases) {
      await host?.close();
      await serve('101001', { faults: fault });
      const error = await pollError({ meter: '101001', timeout: 600, retries: 0 });
      expect(error.code, fault).toBe(code);
    }
  });

  it('late, noise and duplicate replies still read', async () => {
    await serve('101001', { faults: 'noise:16,duplicate,late:300' });
    const [line] = await poll({ meter: '101001', timeout: 1500 });
    expect(line).toMatch(/^meter 00000000101001 901F/);
    expect(log.filter((l) => / fault /.test(l)).length).toBe(3);
  });

  it('reports a missing port in one clear error', async () => {
    const error = await runPoll({
      ...POLL_DEFAULTS,
      port: '/nonexistent/ttyX',
      protocol: 'cjt188',
      meter: '1',
    }).catch((e: unknown) => e as { code?: string; message: string });
    expect(error).toMatchObject({ code: 'LINK_NOT_FOUND' });
    expect((error as Error).message).toMatch(/\/nonexistent\/ttyX/);
  });
});

describe('command registration', () => {
  it('registers vport, meters and poll with their options', () => {
    const program = new Command();
    registerVport(program);
    registerMeters(program);
    registerPoll(program);
    const names = program.commands.map((c) => c.name());
    expect(names).toEqual(['vport', 'meters', 'poll']);
    const poll = program.commands[2];
    expect(poll.options.map((o) => o.long)).toEqual(
      expect.arrayContaining([
        '--port',
        '--protocol',
        '--meter',
        '--di',
        '--json',
        '--scan',
        '--valve',
        '--timeout',
        '--retries',
        '--baud',
        '--parity',
      ]),
    );
  });

  it('meters refuses a bad fault spec with the BAD_FAULT_SPEC code', async () => {
    const error = await startMeters({
      ...METERS_DEFAULTS,
      port: '/dev/null',
      protocol: 'cjt188',
      meters: '1',
      faults: 'fire',
    }).then(
      () => ({ code: 'none', message: 'started' }),
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(error).toMatchObject({ code: 'BAD_FAULT_SPEC' });
    expect(error.message).toMatch(/unknown fault "fire"/);
  });

  it('vport prints both paths and removes the pair when interrupted', async () => {
    const out: string[] = [];
    const controller = new AbortController();
    const running = runVport(
      {},
      { out: (l) => out.push(l), err: () => undefined, signal: controller.signal },
    );
    for (let i = 0; i < 200 && out.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(out).toHaveLength(2);
    const { existsSync } = await import('node:fs');
    expect(out.every((p) => existsSync(p))).toBe(true);
    controller.abort();
    await running;
    expect(out.some((p) => existsSync(p))).toBe(false);
  });

  it('parses meters flags through commander', async () => {
    const program = new Command().exitOverride();
    registerMeters(program);
    const meters = program.commands[0];
    meters.action(() => undefined);
    await program.parseAsync([
      'node',
      'x',
      'meters',
      '--port',
      '/tmp/p',
      '--protocol',
      'dlt645',
      '--meters',
      '1,2',
      '--seed',
      '9',
    ]);
    expect(meters.opts()).toMatchObject({
      port: '/tmp/p',
      protocol: 'dlt645',
      meters: '1,2',
      seed: 9,
      baud: 2400,
      parity: 'even',
      dataBits: 8,
      stopBits: 1,
    });
  });
});

import { type Command, InvalidArgumentError, Option } from 'commander';
import { MeterPoller, PollError, type PollProtocol } from '../../harness/poller/index.ts';
import { meterProtocolNames } from '../../protocols/registry.ts';
import type { Clock } from '../../simulator/clock/clock.ts';
import type { Link } from '../../simulator/link/link.ts';
import { formatMeterTime, parseUtcOffset } from '../meter-clock.ts';
import { addRecordOption, startRecording } from '../record-option.ts';
import { addSerialOptions, intArg, type SerialFlags, serialLinkFromFlags } from './meters.ts';

/** Flags of `meterlab poll`. */
export interface PollFlags extends SerialFlags {
  port: string;
  protocol: PollProtocol;
  meter?: string;
  di?: string;
  scan?: boolean;
  valve?: 'open' | 'close';
  json?: boolean;
  timeout: number;
  retries: number;
  meterType?: number;
  diOrder: 'low-first' | 'high-first';
  /** Zone the meter's clock is printed in, minutes east of UTC. @defaultValue 480 */
  meterUtcOffset?: number;
  record?: string;
}

/** Every poll option with its default, for callers that build flags in code (tests). */
export const POLL_DEFAULTS: Omit<PollFlags, 'port' | 'protocol'> = {
  baud: 2400,
  parity: 'even',
  dataBits: 8,
  stopBits: 1,
  timeout: 2000,
  retries: 2,
  diOrder: 'low-first',
};

/**
 * Does what `meterlab poll` does on an open link and returns the lines to print: a read, a scan or a valve
 * operation. Text by default; one JSON object with `--json`.
 * @throws PollError; TypeError when the flags ask for nothing or for two things.
 */
export async function pollOnLink(link: Link, flags: PollFlags, clock?: Clock): Promise<string[]> {
  const modes = [flags.scan === true, flags.valve !== undefined].filter(Boolean).length;
  if (modes > 1) throw new TypeError('--scan and --valve cannot be combined');
  if (!flags.scan && !flags.meter) throw new TypeError('--meter ADDR is required (or --scan to find it)');
  const poller = new MeterPoller({
    link,
    protocol: flags.protocol,
    clock,
    timeoutMs: flags.timeout,
    retries: flags.retries,
    meterType: flags.meterType,
    diOrder: flags.diOrder,
  });
  if (flags.scan) {
    const r = await poller.scan();
    if (flags.json)
      return [
        JSON.stringify({ address: r.address, sent: r.sent, received: r.received, attempts: r.attempts }),
      ];
    return [`found meter ${r.address}`];
  }
  const address = flags.meter as string;
  if (flags.valve) {
    const r = await poller.valve(address, flags.valve);
    if (flags.json) return [JSON.stringify(r)];
    const state = r.status
      ? `valve ${r.status.valve}${r.status.batteryLow ? ', battery low' : ''}`
      : 'no status in reply';
    return [`meter ${r.address}: valve ${flags.valve} acknowledged (${state})`];
  }
  const r = await poller.read(address, { di: flags.di });
  if (flags.json) return [JSON.stringify(r)];
  const { value, unit, meterTime, status, settlement } = r.reading;
  const parts = [`meter ${r.address} ${r.di}: ${value ?? '(no value)'}${unit ? ` ${unit}` : ''}`];
  if (settlement !== undefined) parts.push(`settlement ${settlement} ${unit}`);
  if (meterTime) parts.push(`meter time ${formatMeterTime(meterTime, flags.meterUtcOffset ?? 480)}`);
  if (status)
    parts.push(`valve ${status.valve}`, status.batteryLow ? 'battery low' : 'battery ok', `ST ${status.raw}`);
  if (r.attempts > 1) parts.push(`${r.attempts} attempts`);
  return [parts.join(', ')];
}

/**
 * `meterlab poll` end to end: opens `--port`, polls, prints, closes. With `--json` a failure is also printed
 * as `{"error":{…}}` on stdout (and still thrown, for the exit status).
 */
export async function runPoll(
  flags: PollFlags,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<void> {
  const recording = startRecording(flags.record, 'meterlab poll');
  const serial = serialLinkFromFlags(flags.port, flags);
  const link = recording?.wrap(serial, { name: 'bus' }) ?? serial;
  await link.open().catch((error: unknown) => {
    recording?.close();
    throw error;
  });
  try {
    for (const line of await pollOnLink(link, flags)) out(line);
  } catch (error) {
    if (flags.json && error instanceof PollError) out(JSON.stringify({ error: error.toJSON() }));
    throw error;
  } finally {
    await link.close();
    recording?.close();
  }
}

/** `meterlab poll --port PATH --protocol cjt188|dlt645 --meter ADDR [--di DI] [--json]`, `--scan`, `--valve`. */
export function registerPoll(program: Command): void {
  const command = program
    .command('poll')
    .description(
      'read one meter (ours or a real one) and print the decoded reading; --scan finds the address, --valve operates the valve',
    )
    .requiredOption('--port <path>', 'serial device: an RS-485 adapter or one end of a `meterlab vport` pair')
    .addOption(
      new Option('--protocol <p>', 'meter protocol').choices([...meterProtocolNames]).makeOptionMandatory(),
    )
    .option('--meter <addr>', 'meter address; short ones are left-padded with zeros')
    .option('--di <di>', 'data identifier (default 901F for CJ/T 188, 00010000 for DL/T 645)')
    .option('--scan', 'find the address of the only meter on the bus')
    .addOption(
      new Option('--valve <cmd>', 'open or close the valve (CJ/T 188) instead of reading').choices([
        'open',
        'close',
      ]),
    )
    .option('--json', 'print one JSON object (the decoded frame, bytes sent and received)')
    .option('--timeout <ms>', 'wait for each reply', intArg(1), 2000)
    .option(
      '--meter-utc-offset <offset>',
      'zone to print the meter clock in, as ±hh:mm (meter times carry no zone of their own)',
      parseUtcOffset,
      480,
    )
    .option('--retries <n>', 'further attempts after a timeout or bad reply', intArg(0, 100), 2)
    .option(
      '--meter-type <hex>',
      'CJ/T 188 meter type byte T in hex (10 cold water, 11 hot, 20 heat, 30 gas) (default: 10)',
      (v) => {
        const n = Number.parseInt(v, 16);
        if (!/^[0-9a-fA-F]{1,2}$/.test(v)) throw new InvalidArgumentError('must be one hex byte, e.g. 10');
        return n;
      },
    )
    .addOption(
      new Option('--di-order <order>', 'CJ/T 188 DI byte order of requests')
        .choices(['low-first', 'high-first'])
        .default('low-first'),
    );
  addRecordOption(addSerialOptions(command))
    .addHelpText(
      'after',
      `
Examples:
  meterlab poll --port /dev/ttyUSB0 --protocol cjt188 --meter 101001
  meterlab poll --port /tmp/vp/ttyV0 --protocol cjt188 --scan
  meterlab poll --port /tmp/vp/ttyV0 --protocol cjt188 --meter 101001 --valve close --json`,
    )
    .action(async (flags: PollFlags) => {
      await runPoll(flags);
    });
}

import { realpathSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type MeterProtocolName, meterProtocol, meterProtocolNames } from '../../protocols/registry.ts';
import type { Clock } from '../../simulator/clock/clock.ts';
import type { Link } from '../../simulator/link/link.ts';
import { SerialLink } from '../../simulator/link/serial-link.ts';
import {
  formatSerialSettings,
  type SerialSettings,
  validateSerialSettings,
} from '../../simulator/link/serial-settings.ts';
import {
  Cjt188Meter,
  type Cjt188MeterKind,
  ConsumptionModel,
  Dlt645Meter,
  MeterHost,
  parseFaultSpec,
  type SimulatedMeter,
} from '../../simulator/meter/index.ts';
import { logLine } from '../log.ts';
import { parseUtcOffset } from '../meter-clock.ts';
import { addRecordOption, startRecording } from '../record-option.ts';
import { traceMeterHost } from '../trace.ts';
import { untilInterrupted } from './vport.ts';

/** Line-setting flags shared by `meterlab meters` and `meterlab poll`. */
export interface SerialFlags {
  baud: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: number;
  stopBits: number;
  echoDiscard?: boolean;
  rts?: boolean;
}

/** Parses a whole number flag; commander reports the error with the flag's name. */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(
        `must be a whole number ${min}..${max === Number.MAX_SAFE_INTEGER ? '' : max}`,
      );
    }
    return n;
  };
}

/** Adds `--baud --parity --data-bits --stop-bits --echo-discard --rts` (default 2400 8E1). */
export function addSerialOptions(command: Command): Command {
  return command
    .option('--baud <n>', 'bits per second', intArg(1), 2400)
    .addOption(new Option('--parity <p>', 'parity').choices(['none', 'even', 'odd']).default('even'))
    .addOption(
      new Option('--data-bits <n>', 'data bits').choices(['5', '6', '7', '8']).default(8).argParser(Number),
    )
    .addOption(new Option('--stop-bits <n>', 'stop bits').choices(['1', '2']).default(1).argParser(Number))
    .option('--echo-discard', 'drop the echo of what we send (half-duplex adapters that echo)')
    .option('--rts', 'drive the RS-485 direction with RTS (adapters without automatic direction control)');
}

/** The line settings the serial flags give. */
export function serialSettingsFromFlags(flags: SerialFlags): SerialSettings {
  return validateSerialSettings(
    {
      baudRate: flags.baud,
      parity: flags.parity,
      dataBits: flags.dataBits as SerialSettings['dataBits'],
      stopBits: flags.stopBits as SerialSettings['stopBits'],
    },
    'serial settings',
  );
}

/** A serial link for `--port` and the serial flags (not opened). */
export function serialLinkFromFlags(port: string, flags: SerialFlags, clock?: Clock): SerialLink {
  return new SerialLink({
    path: port,
    settings: serialSettingsFromFlags(flags),
    echoDiscard: flags.echoDiscard === true,
    rtsDirection: flags.rts === true,
    clock,
  });
}

/** Flags of `meterlab meters`. */
export interface MetersFlags extends SerialFlags {
  port: string;
  protocol: MeterProtocolName;
  meters: string;
  seed: number;
  faults?: string;
  kind: Cjt188MeterKind;
  diOrder: 'high-first' | 'low-first';
  preamble: number;
  replyDelay: number;
  turnaround: number;
  wire?: 'simulated' | 'physical';
  batteryLow?: boolean;
  valve: 'open' | 'closed';
  /** Zone of the meters' clocks, minutes east of UTC (`--meter-utc-offset`). @defaultValue 480 */
  meterUtcOffset?: number;
  record?: string;
}

/** Every meter option with its default, for callers that build flags in code (tests). */
export const METERS_DEFAULTS: Omit<MetersFlags, 'port' | 'protocol' | 'meters'> = {
  baud: 2400,
  parity: 'even',
  dataBits: 8,
  stopBits: 1,
  seed: 1,
  kind: 'cold-water',
  diOrder: 'low-first',
  preamble: 2,
  replyDelay: 0,
  turnaround: 20,
  valve: 'open',
};

/** `101001,101002` → the addresses, checked. Throws TypeError naming the bad one. */
export function parseMeterList(list: string, protocol: MeterProtocolName): string[] {
  const max = meterProtocol(protocol).addressDigits;
  const addresses = list
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
  if (addresses.length === 0) throw new TypeError('--meters needs at least one address');
  for (const a of addresses) {
    if (!/^\d+$/.test(a) || a.length > max) {
      throw new TypeError(`--meters: "${a}" is not a ${protocol} address (1 to ${max} decimal digits)`);
    }
  }
  return addresses.map((a) => a.padStart(max, '0'));
}

/** The meters the flags describe (sharing one consumption model seeded with `--seed`). */
export function metersFromFlags(flags: MetersFlags, clock?: Clock): SimulatedMeter[] {
  const faults = flags.faults ? parseFaultSpec(flags.faults) : [];
  const model = new ConsumptionModel({ seed: flags.seed, utcOffsetMinutes: flags.meterUtcOffset ?? 480 });
  return parseMeterList(flags.meters, flags.protocol).map((address) => {
    const common = {
      address,
      model,
      clock,
      faults,
      preamble: flags.preamble,
      replyDelayMs: flags.replyDelay,
      valve: flags.valve,
      batteryLow: flags.batteryLow === true,
    };
    return flags.protocol === 'dlt645'
      ? new Dlt645Meter(common)
      : new Cjt188Meter({ ...common, kind: flags.kind, diOrder: flags.diOrder });
  });
}

/**
 * A pty (the other end of `meterlab vport` or socat) has no wire of its own, so the bus adds 2400-baud wire
 * time; a real adapter's wire already took it.
 */
export function guessWire(port: string): 'simulated' | 'physical' {
  try {
    return realpathSync(port).startsWith('/dev/pts/') ? 'simulated' : 'physical';
  } catch {
    return 'physical';
  }
}

/**
 * Opens `--port` and serves the meters the flags describe on it, logging through `log`.
 * @throws LinkError (LINK_NOT_FOUND …), FaultSpecError (BAD_FAULT_SPEC), TypeError for a bad address list.
 */
export async function startMeters(
  flags: MetersFlags,
  options: { log?: (line: string) => void; clock?: Clock; wrapLink?: (link: Link) => Link } = {},
): Promise<MeterHost> {
  const meters = metersFromFlags(flags, options.clock);
  const link = serialLinkFromFlags(flags.port, flags, options.clock);
  return MeterHost.start({
    link: options.wrapLink?.(link) ?? link,
    meters,
    clock: options.clock,
    turnaroundMs: flags.turnaround,
    wire: flags.wire ?? guessWire(flags.port),
    log: options.log,
    seed: flags.seed,
  });
}

/** `meterlab meters --port PATH --protocol cjt188|dlt645 --meters 101001,101002 …`. */
export function registerMeters(program: Command): void {
  const command = program
    .command('meters')
    .description(
      'serve simulated meters on a serial device until Ctrl-C, logging each request and reply to stderr',
    )
    .requiredOption('--port <path>', 'serial device: an RS-485 adapter or one end of a `meterlab vport` pair')
    .addOption(
      new Option('--protocol <p>', 'meter protocol').choices([...meterProtocolNames]).makeOptionMandatory(),
    )
    .requiredOption('--meters <list>', 'comma-separated addresses; short ones are left-padded with zeros')
    .option('--seed <n>', 'seed of the consumption model and the faults', intArg(0), 1)
    .option(
      '--meter-utc-offset <offset>',
      "zone of the meters' clocks, as ±hh:mm (the time in a reply carries no zone of its own)",
      parseUtcOffset,
      480,
    )
    .option(
      '--faults <spec>',
      'fault plan, e.g. "silence@every:3,late:5000@p:0.1,bad-checksum" (default: none)',
    )
    .addOption(
      new Option('--kind <kind>', 'CJ/T 188 meter type')
        .choices(['cold-water', 'hot-water', 'gas', 'heat'])
        .default('cold-water'),
    )
    .addOption(
      new Option('--di-order <order>', 'CJ/T 188 DI byte order of replies')
        .choices(['low-first', 'high-first'])
        .default('low-first'),
    )
    .option('--preamble <n>', 'FE bytes before each reply', intArg(0, 16), 2)
    .option('--reply-delay <ms>', 'extra wait before replying', intArg(0), 0)
    .option('--turnaround <ms>', 'wait between a request and a reply', intArg(0), 20)
    .addOption(
      new Option('--valve <state>', 'valve position at start').choices(['open', 'closed']).default('open'),
    )
    .option('--battery-low', 'report a low battery')
    .option('--trace', 'print every frame heard (hex and decoded) and why each meter ignored it')
    .addOption(
      new Option(
        '--wire <mode>',
        'who models wire time: the simulated bus (pty) or a physical RS-485 line (default: simulated on a pty, physical otherwise)',
      ).choices(['simulated', 'physical']),
    );
  addRecordOption(addSerialOptions(command))
    .addHelpText(
      'after',
      `
Fault spec: comma-separated kind[:value][@trigger], kinds silence, late[:ms], bad-checksum, truncated,
noise[:bytes], wrong-address, duplicate, error-reply; trigger always (default), every:N or p:0.25.

Example:
  meterlab meters --port /tmp/vp/ttyV1 --protocol cjt188 --meters 101001,101002 --faults "silence@every:3"`,
    )
    .action(async (flags: MetersFlags) => {
      // The meters' own lines carry the meter clock's time in UTC; shown in local time with its offset instead.
      const log = (line: string) => {
        const at = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) /.exec(line);
        if (at) logLine(line.slice(at[0].length), new Date(at[1]));
        else logLine(line);
      };
      const recording = startRecording(flags.record, 'meterlab meters');
      const host = await startMeters(flags, { log, wrapLink: recording?.wrapper({ name: 'bus' }) }).catch(
        (error: unknown) => {
          recording?.close();
          throw error;
        },
      );
      if ((flags as MetersFlags & { trace?: boolean }).trace) traceMeterHost(host, log);
      log(
        `serving ${host.meters.length} ${flags.protocol} meter(s) ${host.meters.map((m) => m.address).join(', ')} on ${flags.port} ` +
          `(${host.link instanceof SerialLink ? host.link.describeSettings() : formatSerialSettings(host.bus.settings)}); Ctrl-C to stop`,
      );
      const closed = new Promise<string>((resolve) => host.link.once('close', () => resolve('closed')));
      const errored = new Promise<Error>((resolve) => host.link.once('error', resolve));
      const outcome = await Promise.race([untilInterrupted(), closed, errored]);
      await host.close();
      recording?.close();
      if (outcome instanceof Error) throw outcome;
      if (outcome === 'closed') throw new Error(`${flags.port} closed`);
    });
}

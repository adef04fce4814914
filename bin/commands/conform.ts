import { type Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  CONFORM_ROLES,
  type ConformOptions,
  runConformance,
} from '../../harness/conformance/run-conformance.ts';
import {
  MASTER_ROLE_HELP,
  type MasterRoleFlags,
  masterRoleFlags,
  masterRoleOptions,
} from './conform-master.ts';
import { intArg } from './meters.ts';

/** Flags of `meterlab conform` as commander gives them. */
interface ConformFlags extends MasterRoleFlags {
  role: string;
  protocol?: string;
  target?: string;
  meter?: string;
  meterType?: number;
  diOrder?: 'low-first' | 'high-first';
  timeout: number;
  replyLimit: number;
  utcOffset: number;
  cases?: string;
  casesDir: string[];
  list?: boolean;
  junit?: string;
  html?: string;
  json?: string;
  hex?: boolean;
  trace?: boolean;
  echoDiscard?: boolean;
  rts?: boolean;
  concentrator?: string;
  readTimeout: number;
  maxMessage: number;
  // concentrator role (--a1, --a2, --heartbeat are shared with the master role)
  meters?: string;
  metersOn?: string;
  linkWait?: number;
  forwardPort?: number;
  absentPort?: number;
  frameTimeout?: number;
  replyWait?: number;
  minRetryGap?: number;
  seed?: number;
}

function hexByte(value: string): number {
  if (!/^[0-9A-Fa-f]{2}$/.test(value)) throw new InvalidArgumentError('must be two hex digits, e.g. 10');
  return Number.parseInt(value, 16);
}

function signedMinutes(value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < -720 || n > 840)
    throw new InvalidArgumentError('must be minutes -720..840');
  return n;
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || n > 86_400) {
    throw new InvalidArgumentError('must be seconds > 0, e.g. 60 or 0.5');
  }
  return n;
}

/** `meterlab conform --role meter --protocol cjt188 --target serial:PATH --meter ADDR …`. */
export function registerConform(program: Command): void {
  const conform = program
    .command('conform')
    .description('run a conformance suite against your device: graded cases, console/JUnit/HTML/JSON reports')
    .addOption(
      new Option('--role <role>', 'what the device under test is')
        .choices([...CONFORM_ROLES])
        .makeOptionMandatory(),
    )
    .addOption(new Option('--protocol <p>', 'meter protocol (meter role)').choices(['cjt188', 'dlt645']))
    .option(
      '--target <target>',
      'the device: serial:PATH[@2400-8E1] for a meter, ws://HOST:PORT[?token=…] for a relay',
    )
    .option(
      '--meter <addr>',
      'address of the meter under test (relay role: a meter that answers, default 101001)',
    )
    .option('--concentrator <id>', 'relay role: the concentrator --meter is read through (default 101)')
    .option('--read-timeout <ms>', "relay role: wait for a field read's answer", intArg(100, 600_000), 20_000)
    .option(
      '--max-message <bytes>',
      "relay role: the endpoint's message size limit",
      intArg(64, 100 * 1024 * 1024),
      65_536,
    )
    .option(
      '--meter-type <hex>',
      'CJ/T 188 meter type byte T (10 cold water, 11 hot, 20 heat, 30 gas)',
      hexByte,
    )
    .addOption(
      new Option('--di-order <order>', 'CJ/T 188 DI byte order of the requests').choices([
        'low-first',
        'high-first',
      ]),
    )
    .option('--timeout <ms>', 'wait for a reply (and to call the meter silent)', intArg(50, 60_000), 1500)
    .option('--reply-limit <ms>', 'reply-time limit of the timing case', intArg(1, 60_000), 500)
    .option('--utc-offset <min>', "the meter clock's UTC offset (time sync case)", signedMinutes, 480)
    .option(
      '--cases <pattern>',
      'select cases: globs over ids, comma-separated, ! to exclude (e.g. "M188-4.*,!M188-8.*")',
    )
    .option(
      '--cases-dir <dir>',
      'also load data-file cases from DIR (repeatable)',
      (dir: string, dirs: string[]) => [...dirs, dir],
      [] as string[],
    )
    .option('--list', 'print the catalogue (ids, titles, clauses) and exit')
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--json <file>', 'write the report as JSON')
    .option('--trace', "print every case's exchange, not only the verdicts")
    .option('--hex', 'show the bytes in hex in printed traces')
    .option('--echo-discard', 'drop the echo of what we send (half-duplex adapters that echo)')
    .option('--rts', 'drive the RS-485 direction with RTS')
    // concentrator role (meterlab is the master station, and optionally the meters behind the concentrator)
    .option('--meters <list>', 'concentrator role: meters behind the concentrator, e.g. 101001,101002')
    .option(
      '--meters-on <serial>',
      "concentrator role: serve --meters on serial:PATH[@2400-8E1] (the concentrator's RS-485)",
    )
    .option(
      '--link-wait <s>',
      'concentrator role: longest wait for a connection, login or reconnect, s',
      positiveSeconds,
    )
    .option(
      '--forward-port <n>',
      'concentrator role: RS-485 port of the meters in AFN 10H F1 (default 1)',
      intArg(1, 31),
    )
    .option('--absent-port <n>', 'concentrator role: a port it does not have (default 30)', intArg(1, 31))
    .option(
      '--frame-timeout <s>',
      'concentrator role: frame timeout written into forwards, s (default 5)',
      intArg(1, 127),
    )
    .option(
      '--reply-wait <ms>',
      'concentrator role: wait for an answer beyond that, ms (default 5000)',
      intArg(1),
    )
    .option(
      '--min-retry-gap <ms>',
      'concentrator role: retries closer than this are a flood (default 1000)',
      intArg(0),
    )
    .option('--seed <n>', "concentrator role: seed of the served meters' readings (default 1)", intArg(0))
    .addHelpText(
      'after',
      `
Grades: pass, non-strict (works, deviates in a way real peers tolerate), fail, info, unimplemented, skipped.
Exit status: 0 nothing failed, 1 a case failed, 2 usage error or unreachable target, 130 interrupted.
The valve cases (M188-8.*) close and reopen the valve; the time-sync case (M645-8.1) moves the meter clock
by 2 minutes and back: leave them out with --cases '!M188-8.*' or '!M645-8.*'.

Concentrator role: --target tcp-listen:HOST:PORT (your concentrator connects to meterlab as its master) or
tcp:HOST:PORT with --a1/--a2 (a concentrator in server mode); --protocol names the meters' protocol (cjt188).
The C376-7.* cases close the link and withhold confirms on purpose; leave them out with --cases '!C376-7.*'.
Data-file cases (--cases-dir DIR): files with "role": "concentrator" add C376-D-style cases (see the README).

Examples:
  meterlab conform --role concentrator --target tcp-listen:0.0.0.0:9093 --heartbeat 60 \\
    --meters 101001,101002 --meters-on serial:/dev/ttyUSB0@2400-8E1 --junit conform.xml
  meterlab conform --role meter --protocol cjt188 --target serial:/dev/ttyUSB0@2400-8E1 --meter 101001 \\
    --junit conform.xml --html conform.html
  meterlab conform --role relay --target 'ws://127.0.0.1:8080?token=s3cret' --concentrator 101 --meter 101001`,
    )
    .exitOverride((error) => {
      // Usage errors give status 2 (issue 11); help and version keep theirs.
      throw error.exitCode === 0 ? error : new CommanderError(2, error.code, error.message);
    })
    .action(async (flags: ConformFlags) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      try {
        const options: ConformOptions = {
          role: flags.role,
          protocol: flags.protocol,
          target: flags.target,
          meter: flags.meter,
          meterType: flags.meterType,
          diOrder: flags.diOrder,
          timeoutMs: flags.timeout,
          replyLimitMs: flags.replyLimit,
          utcOffsetMinutes: flags.utcOffset,
          cases: flags.cases,
          casesDirs: flags.casesDir,
          list: flags.list,
          junit: flags.junit,
          html: flags.html,
          json: flags.json,
          hex: flags.hex,
          trace: flags.trace,
          color: process.stdout.isTTY === true,
          echoDiscard: flags.echoDiscard,
          rts: flags.rts,
          concentrator: flags.concentrator,
          readTimeoutMs: flags.readTimeout,
          maxMessageBytes: flags.maxMessage,
          master: masterRoleFlags(flags),
          concentratorRole: {
            meters: flags.meters,
            metersOn: flags.metersOn,
            heartbeatSeconds: flags.heartbeat,
            linkWaitSeconds: flags.linkWait,
            port: flags.forwardPort,
            absentPort: flags.absentPort,
            frameTimeoutSeconds: flags.frameTimeout,
            replyWaitMs: flags.replyWait,
            minRetryGapMs: flags.minRetryGap,
            seed: flags.seed,
            a1: flags.a1,
            a2: flags.a2,
          },
        };
        process.exitCode = await runConformance(options, {
          out: (line) => process.stdout.write(`${line}\n`),
          err: (line) => process.stderr.write(`${line}\n`),
          signal: controller.signal,
        });
      } finally {
        process.off('SIGINT', stop);
      }
    });
  for (const option of masterRoleOptions()) conform.addOption(option);
  conform.addHelpText('after', MASTER_ROLE_HELP);
}

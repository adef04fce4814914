import { readFileSync } from 'node:fs';
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import {
  formatReadTable,
  PointReadClient,
  type ReadTarget,
  readAll,
  resolveToken,
  summariseLatency,
} from '../../harness/client/index.ts';
import { type FleetSummary, fleetSummary, loadScenarioFile } from '../../simulator/scenario/index.ts';
import { formatMeterTime, parseUtcOffset } from '../meter-clock.ts';
import { numberArg } from '../usage.ts';

export function registerRead(program: Command): void {
  program
    .command('read')
    .description('point-read (点抄) meters through a relay: one meter, or every meter of a fleet')
    .option('--relay <url>', 'the relay', 'ws://127.0.0.1:7759')
    .option('-c, --concentrator <id>', 'concentrator: A1+A2 ("017102082") or alias ("101")')
    .option('-m, --meter <address>', 'meter address')
    .option('--all', 'read every meter of --scenario or --fleet')
    .option('--scenario <file>', 'with --all: the scenario file the fleet was started from')
    .option(
      '--fleet <file>',
      'with --all: a fleet JSON line as printed by `meterlab sim --print-fleet` ("-" = stdin)',
    )
    .option(
      '--concurrency <n>',
      'with --all: reads in flight',
      numberArg('reads', { min: 1, integer: true }),
      16,
    )
    .option(
      '--token <token>',
      'bearer token for the relay (visible in `ps`: prefer --token-file or METERLAB_TOKEN)',
    )
    .option(
      '--token-file <path>',
      'read the bearer token from this file (one line); default: $METERLAB_TOKEN',
    )
    .option('--timeout <ms>', 'per-read timeout', numberArg('milliseconds', { above: 0 }), 20000)
    .option('--json', 'print JSON instead of text')
    .option(
      '--meter-utc-offset <offset>',
      'zone to print the meter clock in, as ±hh:mm (meter times carry no zone of their own)',
      parseUtcOffset,
      480,
    )
    .addHelpText(
      'after',
      `
Examples:
  meterlab read -c 101 -m 101001
  meterlab read --all --scenario fixtures/scenarios/demo.json --json`,
    )
    .action(async (o) => {
      const client = new PointReadClient({
        url: o.relay,
        token: resolveToken({ token: o.token, tokenFile: o.tokenFile }),
        timeoutMs: o.timeout,
        reconnect: false,
      });
      await client.connect();
      try {
        if (o.all) await readEveryMeter(client, targetsOf(o), o);
        else await readOne(client, o);
      } finally {
        await client.close();
      }
    });
}

async function readOne(
  client: PointReadClient,
  o: { concentrator?: string; meter?: string; json?: boolean; meterUtcOffset: number },
) {
  if (!o.concentrator || !o.meter) throw new TypeError('give --concentrator and --meter, or --all');
  const reading = await client.read(o.concentrator, o.meter);
  if (o.json) process.stdout.write(`${JSON.stringify(reading)}\n`);
  else {
    const status = reading.status
      ? `, valve ${reading.status.valve}${reading.status.batteryLow ? ', battery low' : ''}`
      : '';
    process.stdout.write(
      `${reading.concentrator} / ${reading.meter}: ${reading.value} ${reading.unit}${reading.meterTime ? `, ${formatMeterTime(reading.meterTime, o.meterUtcOffset)}` : ''}${status}; read at ${reading.readAt}\n`,
    );
  }
}

function targetsOf(o: { scenario?: string; fleet?: string }): ReadTarget[] {
  let fleet: FleetSummary;
  if (o.scenario) fleet = fleetSummary(loadScenarioFile(o.scenario));
  else if (o.fleet) {
    const text = readFileSync(o.fleet === '-' ? 0 : o.fleet, 'utf8')
      .trim()
      .split('\n')[0];
    fleet = JSON.parse(text) as FleetSummary;
    if (!Array.isArray(fleet?.concentrators))
      throw new TypeError(`${o.fleet}: not a fleet line ({"concentrators":[…]})`);
  } else throw new TypeError('--all needs --scenario FILE or --fleet FILE');
  // The fleet says where each meter is: its concentrator's address (which the master knows from the login, where
  // an alias needs the master's archive), the port and the protocol. Passing them lets a master started without
  // the fleet as its archive read every meter (issue 14 item 14).
  return fleet.concentrators.flatMap((c) =>
    c.ports.flatMap((p) =>
      p.meters.map((m) => ({ concentrator: c.id, meter: m.address, protocol: m.protocol, port: p.port })),
    ),
  );
}

/** Reads every meter with a progress bar on stderr, then prints the table; exit status 1 if any read failed. */
export async function readEveryMeter(
  client: PointReadClient,
  targets: ReadTarget[],
  o: { concurrency: number; json?: boolean },
): Promise<boolean> {
  // cli-progress draws the bar on a terminal; to a pipe or a file it writes only the last state, one line.
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: '[{bar}] {value}/{total} read, {failed} failed',
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 60_000,
      hideCursor: true,
    },
    Presets.legacy,
  );
  let failures = 0;
  bar.start(targets.length, 0, { failed: 0 });
  const outcomes = await readAll(client, targets, {
    concurrency: o.concurrency,
    onProgress: (done, _total, outcome) => {
      if (outcome.error) failures += 1;
      bar.update(done, { failed: failures });
    },
  });
  bar.stop();
  const failed = outcomes.filter((x) => x.error).length;
  if (o.json) {
    const summary = summariseLatency(outcomes.filter((x) => x.reading).map((x) => x.latencyMs));
    const failedLatency = summariseLatency(outcomes.filter((x) => x.error).map((x) => x.latencyMs));
    process.stdout.write(`${JSON.stringify({ outcomes, latency: summary, failed, failedLatency })}\n`);
  } else process.stdout.write(`${formatReadTable(outcomes)}\n`);
  if (failed > 0) process.exitCode = 1;
  return failed === 0;
}

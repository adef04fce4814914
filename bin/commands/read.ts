import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  formatReadTable,
  PointReadClient,
  type ReadTarget,
  readAll,
  summariseLatency,
} from '../../harness/client/index.ts';
import { type FleetSummary, fleetSummary, loadScenarioFile } from '../../simulator/scenario/index.ts';
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
    .option('--token <token>', 'bearer token for the relay (default: none)')
    .option('--timeout <ms>', 'per-read timeout', numberArg('milliseconds', { above: 0 }), 20000)
    .option('--json', 'print JSON instead of text')
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
        token: o.token,
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
  o: { concentrator?: string; meter?: string; json?: boolean },
) {
  if (!o.concentrator || !o.meter) throw new TypeError('give --concentrator and --meter, or --all');
  const reading = await client.read(o.concentrator, o.meter);
  if (o.json) process.stdout.write(`${JSON.stringify(reading)}\n`);
  else {
    const status = reading.status
      ? `, valve ${reading.status.valve}${reading.status.batteryLow ? ', battery low' : ''}`
      : '';
    process.stdout.write(
      `${reading.concentrator} / ${reading.meter}: ${reading.value} ${reading.unit}${reading.meterTime ? ` at ${reading.meterTime}` : ''}${status}\n`,
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
  return fleet.concentrators.flatMap((c) =>
    c.ports.flatMap((p) => p.meters.map((m) => ({ concentrator: c.alias ?? c.id, meter: m.address }))),
  );
}

/** Reads every meter with a progress bar on stderr, then prints the table; exit status 1 if any read failed. */
export async function readEveryMeter(
  client: PointReadClient,
  targets: ReadTarget[],
  o: { concurrency: number; json?: boolean },
): Promise<boolean> {
  const tty = process.stderr.isTTY;
  const outcomes = await readAll(client, targets, {
    concurrency: o.concurrency,
    onProgress: (done, total) => {
      if (!tty && done !== total) return;
      const width = 30;
      const filled = Math.round((done / total) * width);
      process.stderr.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : ''}`,
      );
    },
  });
  const failed = outcomes.filter((x) => x.error).length;
  if (o.json) {
    const summary = summariseLatency(outcomes.filter((x) => x.reading).map((x) => x.latencyMs));
    process.stdout.write(`${JSON.stringify({ outcomes, latency: summary, failed })}\n`);
  } else process.stdout.write(`${formatReadTable(outcomes)}\n`);
  if (failed > 0) process.exitCode = 1;
  return failed === 0;
}

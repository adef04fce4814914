import { type Command, Option } from 'commander';
import { meterProtocolNames } from '../../protocols/registry.ts';
import { Fleet, type FleetStatus, type MeterDevices } from '../../simulator/fleet/index.ts';
import {
  fleetSummary,
  generateFleet,
  loadScenarioFile,
  type MeterProtocol,
  type Scenario,
} from '../../simulator/scenario/index.ts';
import { parseEndpoint } from '../endpoint.ts';
import { untilInterrupted } from '../io.ts';
import { logLine, timestamp } from '../log.ts';
import { formatUtcOffset, parseUtcOffset } from '../meter-clock.ts';
import { addRecordOption, startRecording } from '../record-option.ts';
import { traceFleet } from '../trace.ts';
import { numberArg } from '../usage.ts';

/**
 * `meterlab sim`: runs a simulated fleet of concentrators and meters against a master station, from a scenario
 * file or generated from flags. Thin: it builds the scenario, starts the fleet, prints the fleet (on request)
 * and a live status line, and stops cleanly on Ctrl-C.
 */
export function registerSim(program: Command): void {
  addRecordOption(program.command('sim'))
    .description('run a simulated fleet of concentrators (Q/GDW 1376.1) and meters against a master station')
    .option(
      '--scenario <file>',
      'scenario file (JSON); without it the fleet is generated from the flags below',
    )
    .option('--concentrators <n>', 'concentrators to generate', (v) => int(v, '--concentrators'))
    .option('--meters-per-port <m>', 'meters on each port', (v) => int(v, '--meters-per-port'))
    .option('--ports <p>', 'RS-485 ports per concentrator', (v) => int(v, '--ports'), 1)
    .addOption(
      new Option('--protocol <name>', 'meter protocol').choices([...meterProtocolNames]).default('cjt188'),
    )
    .option(
      '--master <host:port>',
      "master station address (overrides the scenario for client-mode concentrators; default: the scenario's, 127.0.0.1:9093)",
    )
    .option(
      '--heartbeat <period>',
      "heartbeat period: 60s, 2m or seconds (default: the scenario's, 60s)",
      (v) => seconds(v, '--heartbeat'),
    )
    .option('--seed <s>', "seed of the run: same seed, same run (default: the scenario's, 1)", (v) =>
      int(v, '--seed'),
    )
    .option(
      '--meter-utc-offset <offset>',
      "zone of the meters' clocks, as ±hh:mm (the time in a reply carries no zone of its own)",
      parseUtcOffset,
      480,
    )
    .option('--print-fleet', 'print the fleet as one JSON line on stdout before starting')
    .addOption(
      new Option('--meter-devices <mode>', 'one bus device per meter, or one shared device per port')
        .choices(['auto', 'per-meter', 'shared'])
        .default('auto'),
    )
    .option(
      '--status-interval <seconds>',
      'live status period on stderr; 0 = off',
      numberArg('seconds', { min: 0 }),
      2,
    )
    .option('--verbose', 'log every login, logout and reconnect on stderr')
    .option(
      '--trace',
      'print every frame from the master (hex and decoded) and what each concentrator ignored or refused, and why',
    )
    .addHelpText(
      'after',
      `
Examples:
  meterlab sim --scenario fixtures/scenarios/demo.json --master 127.0.0.1:9093
  meterlab sim --concentrators 10 --meters-per-port 20 --ports 2 --master 127.0.0.1:9093 --print-fleet`,
    )
    .action(async (o) => {
      const scenario = buildScenario(o);
      if (o.printFleet) process.stdout.write(`${JSON.stringify(fleetSummary(scenario))}\n`);
      const recording = startRecording(o.record, 'meterlab sim');
      const fleet = new Fleet({
        scenario,
        session: recording ? { wrapLink: recording.wrapper({ prefix: 'up' }) } : undefined,
        meterDevices: o.meterDevices as MeterDevices,
        meterUtcOffsetMinutes: o.meterUtcOffset,
        log: o.verbose ? (line) => logLine(line) : undefined,
      });
      // A vanished adapter is always reported, verbose or not: it is the reason reads on that port fail.
      fleet.on('port-status', ({ concentrator, port, device, status: st }) =>
        process.stderr.write(
          st.kind === 'lost'
            ? `${concentrator} port ${port}: ${device} lost (${st.reason}); forwards to it are denied until it is back\n`
            : `${concentrator} port ${port}: ${device} back, reopened\n`,
        ),
      );
      const status = fleet.status();
      logLine(
        `meterlab sim: ${status.concentrators} concentrators, ${status.meters} meters (scenario "${scenario.name}", seed ${scenario.seed}; meter clocks at UTC${formatUtcOffset(o.meterUtcOffset)})`,
      );
      const interval =
        o.statusInterval > 0
          ? setInterval(() => writeStatus(fleet.status()), o.statusInterval * 1000)
          : undefined;
      const interrupted = untilInterrupted();
      try {
        const starting = (async () => {
          await fleet.build();
          if (o.trace) traceFleet(fleet, (text) => logLine(text));
          await fleet.start();
        })();
        starting.catch(() => undefined); // a failure after a Ctrl-C is part of stopping, not news
        await Promise.race([starting, interrupted]);
        await interrupted;
      } finally {
        if (interval) clearInterval(interval);
        await fleet.stop();
        recording?.close();
        writeStatus(fleet.status(), true);
      }
    });
}

interface SimFlags {
  meterUtcOffset: number;
  scenario?: string;
  concentrators?: number;
  metersPerPort?: number;
  ports: number;
  protocol: MeterProtocol;
  master?: string;
  heartbeat?: number;
  seed?: number;
}

function buildScenario(o: SimFlags): Scenario {
  const master = o.master ? parseEndpoint(o.master, '--master') : undefined;
  if (o.scenario) {
    const scenario = loadScenarioFile(o.scenario);
    for (const c of scenario.concentrators) {
      if (master && c.upstream.mode === 'client') c.upstream = { mode: 'client', ...master };
      if (o.heartbeat !== undefined) c.heartbeatSeconds = o.heartbeat;
    }
    if (o.seed !== undefined) scenario.seed = o.seed;
    return scenario;
  }
  if (o.concentrators === undefined || o.metersPerPort === undefined || !master) {
    throw new TypeError(
      'give --scenario FILE, or --concentrators N --meters-per-port M --master HOST:PORT to generate a fleet',
    );
  }
  return generateFleet({
    concentrators: o.concentrators,
    metersPerPort: o.metersPerPort,
    ports: o.ports,
    protocol: o.protocol,
    master,
    heartbeatSeconds: o.heartbeat,
    seed: o.seed,
  });
}

function writeStatus(s: FleetStatus, final = false): void {
  const line =
    `online ${s.online}/${s.concentrators} · logins ${s.logins} · offline ${s.offline} · ` +
    `reads ${s.forwards} (silent ${s.silent}) · denied ${s.denied} · dropped ${s.dropped} · poll faults ${s.pollFaults}`;
  if (process.stderr.isTTY && !final) process.stderr.write(`\r\x1b[2K${timestamp()} ${line}`);
  else {
    if (final && process.stderr.isTTY) process.stderr.write('\n');
    logLine(line);
  }
}

function int(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`${flag} must be a whole number ≥ 0, got "${text}"`);
  return n;
}

/** "60s", "2m", "90" → seconds. */
function seconds(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m)?$/.exec(text.trim());
  if (!m) throw new TypeError(`${flag} must be a period such as 60s, 2m or 90, got "${text}"`);
  const n = Number(m[1]) * (m[2] === 'm' ? 60 : 1);
  if (!(n > 0)) throw new TypeError(`${flag} must be longer than 0, got "${text}"`);
  return n;
}

import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { diffRecordings } from '../../harness/recording/diff.ts';
import { parseEndpoint } from '../../harness/recording/endpoint.ts';
import { learnScenario } from '../../harness/recording/learn.ts';
import { readRecording } from '../../harness/recording/reader.ts';
import { parseRules } from '../../harness/recording/replay/compare.ts';
import { DeviceReplay, parseTiming } from '../../harness/recording/replay/device.ts';
import { replayAsDriver } from '../../harness/recording/replay/driver.ts';
import { fileSink } from '../../harness/recording/writer.ts';
import { untilInterrupted } from './vport.ts';

interface ReplayFlags {
  as: 'device' | 'driver';
  port?: string;
  target?: string;
  link?: string;
  timing?: string;
  unmatched: 'silence' | 'error';
  ignore?: string;
  rules?: string;
  timeout: number;
  record?: string;
}

/** `meterlab replay s.jsonl --as device --port …` / `--as driver --target …`. */
export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      'stand in for a recorded device, or play a recorded driver against a device and compare replies',
    )
    .argument('<recording>', 'a recording (from tap or import)')
    .addOption(
      new Option('--as <role>', 'which side to play').choices(['device', 'driver']).makeOptionMandatory(),
    )
    .option(
      '--port <endpoint>',
      'with --as device: serial:PATH[@2400-8E1], tcp-listen:HOST:PORT or tcp:HOST:PORT',
    )
    .option('--target <endpoint>', 'with --as driver: the device under test (serial:…, tcp:…)')
    .option('--link <name>', 'which link of the recording (default: the first with frames)')
    .option(
      '--timing <t>',
      'recorded, fast or xN (x2 = twice as fast); default recorded as device, fast as driver',
    )
    .addOption(
      new Option('--unmatched <how>', 'answer to an unknown request')
        .choices(['silence', 'error'])
        .default('silence'),
    )
    .option('--ignore <list>', 'with --as driver: fields that may differ: value,time,seq')
    .option(
      '--rules <file>',
      'with --as driver: JSON {"ignore": ["path.*.field"]} of further fields that may differ',
    )
    .option('--record <file>', 're-record the run (the link to the device or driver) as a new recording')
    .option(
      '--timeout <ms>',
      'with --as driver: wait for each reply beyond its recorded delay',
      (v) => Number(v),
      2000,
    )
    .action(async (file: string, flags: ReplayFlags) => {
      const recording = await readRecording(file);
      const timing = parseTiming(flags.timing ?? (flags.as === 'device' ? 'recorded' : 'fast'));
      if (flags.as === 'device') {
        if (!flags.port)
          throw new TypeError('--as device needs --port serial:PATH, tcp-listen:HOST:PORT or tcp:HOST:PORT');
        const replay = new DeviceReplay({
          recording,
          link: flags.link,
          port: parseEndpoint(flags.port, '--port'),
          timing,
          unmatched: flags.unmatched,
          record: flags.record ? fileSink(flags.record) : undefined,
          onNote: (line) => process.stdout.write(`${line}\n`),
        });
        await replay.start();
        process.stderr.write(
          `replay: standing in for the device of ${file} (link ${replay.session.link}, ${replay.session.exchanges.length} recorded requests) on ${replay.link?.description}; Ctrl-C stops\n`,
        );
        await untilInterrupted();
        await replay.stop();
        const { answered, unmatched } = replay.report;
        process.stderr.write(`replay: answered ${answered}, unmatched ${unmatched.length}\n`);
        if (unmatched.length > 0) process.exitCode = 1;
        return;
      }
      if (!flags.target) throw new TypeError('--as driver needs --target serial:PATH or tcp:HOST:PORT');
      const differences = await replayAsDriver({
        recording,
        link: flags.link,
        target: parseEndpoint(flags.target, '--target'),
        rules: parseRules(flags.ignore, flags.rules),
        timing,
        timeoutMs: flags.timeout,
        record: flags.record ? fileSink(flags.record) : undefined,
        onNote: (line) => process.stderr.write(`${line}\n`),
      });
      for (const d of differences) process.stdout.write(`${d.report}\n`);
      process.stdout.write(
        `${differences.length === 0 ? 'same replies as recorded' : `${differences.length} differences`}\n`,
      );
      if (differences.length > 0) process.exitCode = 1;
    });
}

/** `meterlab diff a.jsonl b.jsonl [--ignore …]`. */
export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description(
      'compare two recordings frame by frame, field by field after decoding; exit 1 on a difference',
    )
    .argument('<a>', 'the reference recording')
    .argument('<b>', 'the new recording')
    .option('--ignore <list>', 'fields that may differ: value,time,seq')
    .option('--rules <file>', 'JSON {"ignore": ["path.*.field"]} of further fields that may differ')
    .action(async (a: string, b: string, flags: { ignore?: string; rules?: string }) => {
      const rules = parseRules(flags.ignore, flags.rules);
      const differences = diffRecordings(await readRecording(a), await readRecording(b), rules);
      for (const d of differences) process.stdout.write(`${d.report}\n`);
      process.stdout.write(
        `${differences.length === 0 ? 'no differences' : `${differences.length} differences`}\n`,
      );
      if (differences.length > 0) process.exitCode = 1;
    });
}

/** `meterlab learn s.jsonl --out scenario.json`. */
export function registerLearn(program: Command): void {
  program
    .command('learn')
    .description('write a scenario (meters, concentrators, heartbeat period) from what a recording heard')
    .argument('<recording>', 'a recording (from tap or import)')
    .requiredOption('--out <file>', 'scenario file to write')
    .option('--name <name>', 'scenario name', 'learned')
    .action(async (file: string, flags: { out: string; name: string }) => {
      const scenario = learnScenario(await readRecording(file), flags.name);
      writeFileSync(flags.out, `${JSON.stringify(scenario, null, 2)}\n`);
      const meters = scenario.concentrators.reduce(
        (n, c) => n + c.ports.reduce((k, p) => k + p.meters.length, 0),
        0,
      );
      process.stderr.write(
        `learned ${scenario.concentrators.length} concentrator(s), ${meters} meter(s) into ${flags.out}\n`,
      );
    });
}

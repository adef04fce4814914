import type { Command } from 'commander';
import { formatReadTable } from '../../harness/client/index.ts';
import { runDemo, socatAvailable, withoutPty } from '../../harness/demo/run-demo.ts';
import { loadScenarioFile } from '../../simulator/scenario/index.ts';
import { parseEndpoint } from '../endpoint.ts';
import { stopSignal, untilInterrupted } from '../io.ts';
import { logLine } from '../log.ts';

const DEFAULT_SCENARIO = new URL('../../fixtures/scenarios/demo.json', import.meta.url).pathname;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the whole chain on this machine: fleet, master station, relay; read every meter once')
    .option('--scenario <file>', 'the fleet to run', DEFAULT_SCENARIO)
    .option('--master <host:port>', 'master station, concentrator side', '127.0.0.1:9093')
    .option('--api <host:port>', "master station's client API", '127.0.0.1:9092')
    .option('--relay <host:port>', 'WebSocket relay', '127.0.0.1:7759')
    .option('--once', 'exit after the table: status 0 only if every read succeeded')
    .addHelpText(
      'after',
      `
Examples:
  meterlab demo                      # read every meter once, then serve until Ctrl-C
  meterlab demo --once               # exit after the table: 0 only if every read matched the model
  meterlab demo --master :0 --api :0 --relay :0   # any free ports`,
    )
    .action(async (o) => {
      let scenario = loadScenarioFile(o.scenario);
      const hasPty = scenario.concentrators.some((c) => c.ports.some((p) => p.link.kind === 'pty'));
      if (hasPty && !socatAvailable()) {
        process.stderr.write(
          'socat is not installed (apt-get install socat): pty ports run on in-memory buses\n',
        );
        scenario = withoutPty(scenario);
      }
      const tty = process.stderr.isTTY;
      const demo = await runDemo({
        scenario,
        master: parseEndpoint(o.master, '--master'),
        api: parseEndpoint(o.api, '--api'),
        relay: parseEndpoint(o.relay, '--relay'),
        signal: stopSignal,
        log: (line) => logLine(line),
        onProgress: (done, total) => {
          if (tty || done === total)
            process.stderr.write(
              `\rreading meters through the relay: ${done}/${total}${done === total ? '\n' : ''}`,
            );
        },
      });
      process.stdout.write(`${formatReadTable(demo.outcomes)}\n`);
      const failed = demo.outcomes.filter((x) => x.error).length;
      if (demo.mismatches.length > 0) {
        process.stdout.write(`${demo.mismatches.length} readings differ from the consumption model!\n`);
      }
      const ok = failed === 0 && demo.mismatches.length === 0;
      if (o.once) {
        await demo.stop();
        process.exitCode = ok ? 0 : 1;
        return;
      }
      const first = demo.scenario.concentrators[0];
      const meter = first.ports[0]?.meters[0]?.address.replace(/^0+/, '') ?? '101001';
      process.stdout.write(
        [
          '',
          `Serving until Ctrl-C. Open the web console in a browser: ${demo.relay.consoleUrl}`,
          'or read a meter by hand:',
          `  npx meterlab read --relay ${demo.relayUrl} --concentrator ${first.alias ?? first.id} --meter ${meter}`,
          "or send this over WebSocket to the relay (the seed system's legacy message works too):",
          `  {"type":"read","id":"r1","concentrator":"${first.alias ?? first.id}","meter":"${meter}"}`,
          `  {"ModuleName":"ClickToCopy","Content":{"ConcentratorNo":"${first.alias ?? first.id}","WaterMtrAddress":"${meter}"}}`,
          '',
        ].join('\n'),
      );
      await untilInterrupted();
      await demo.stop();
    });
}

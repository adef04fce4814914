import { type Command, Option } from 'commander';
import { Relay } from '../../harness/relay/index.ts';
import { parseEndpoint } from '../endpoint.ts';
import { untilInterrupted } from '../io.ts';
import { logLine } from '../log.ts';
import { numberArg } from '../usage.ts';

export function registerRelay(program: Command): void {
  program
    .command('relay')
    .description(
      'run the WebSocket relay: browsers and scripts send point-reads, it forwards them to the master',
    )
    .option('--listen <host:port>', 'where the WebSocket server listens', '127.0.0.1:7759')
    .option('--master <host:port>', "the master station's client API", '127.0.0.1:9092')
    .option(
      '--token <token>',
      'require this bearer token (Authorization header or ?token=) (default: none, anyone who can connect may read)',
    )
    .option('--origin <origin...>', 'allowed Origin headers of browser pages (default: any)')
    .option('--cert <file>', 'TLS certificate (PEM) for wss:// (default: none, plain ws://)')
    .option('--key <file>', 'TLS private key (PEM) for wss://')
    .addOption(
      new Option('--encoding <name>', 'text encoding towards the master')
        .choices(['utf8', 'gb2312'])
        .default('utf8'),
    )
    .option('--read-timeout <ms>', 'per-read timeout', numberArg('milliseconds', { above: 0 }), 15000)
    .option('-v, --verbose', 'log every read')
    .addHelpText(
      'after',
      `
Examples:
  meterlab relay                                     # ws://127.0.0.1:7759 in front of the master on :9092
  meterlab relay --listen 0.0.0.0:7759 --token s3cret --origin https://ops.example`,
    )
    .action(async (o) => {
      if (Boolean(o.cert) !== Boolean(o.key)) throw new TypeError('--cert and --key go together');
      const listen = parseEndpoint(o.listen, '--listen');
      const relay = new Relay({
        ...listen,
        master: parseEndpoint(o.master, '--master'),
        encoding: o.encoding,
        token: o.token,
        allowedOrigins: o.origin,
        tls: o.cert ? { cert: o.cert, key: o.key } : undefined,
        readTimeoutMs: o.readTimeout,
        log: (e) => {
          if (o.verbose || e.level !== 'info' || e.event === 'listening' || e.event.startsWith('master-')) {
            logLine(e.message);
          }
        },
      });
      await relay.start();
      await untilInterrupted();
      await relay.stop();
    });
}

import { type Command, Option } from 'commander';
import { resolveToken } from '../../harness/client/index.ts';
import { Relay, throttleLog } from '../../harness/relay/index.ts';
import { TcpClientLink } from '../../simulator/link/index.ts';
import { parseEndpoint } from '../endpoint.ts';
import { untilInterrupted } from '../io.ts';
import { logLine } from '../log.ts';
import { addRecordOption, startRecording } from '../record-option.ts';
import { numberArg } from '../usage.ts';

export function registerRelay(program: Command): void {
  addRecordOption(program.command('relay'))
    .description(
      'run the WebSocket relay: browsers and scripts send point-reads, it forwards them to the master',
    )
    .option('--listen <host:port>', 'where the WebSocket server listens', '127.0.0.1:7759')
    .option('--master <host:port>', "the master station's client API", '127.0.0.1:9092')
    .option(
      '--token <token>',
      'require this bearer token (Authorization header or ?token=); visible in `ps`: prefer --token-file (default: none, anyone who can connect may read)',
    )
    .option('--token-file <path>', 'read the token from this file (one line); default: $METERLAB_TOKEN')
    .option('--origin <origin...>', 'allowed Origin headers of browser pages (default: any)')
    .option('--cert <file>', 'TLS certificate (PEM) for wss:// (default: none, plain ws://)')
    .option('--key <file>', 'TLS private key (PEM) for wss://')
    .addOption(
      new Option(
        '--master-protocol <name>',
        'what the master speaks: meterlab NDJSON, or the original clientserver (flat objects, no newline)',
      )
        .choices(['ndjson', 'legacy'])
        .default('ndjson'),
    )
    .addOption(
      new Option(
        '--encoding <name>',
        'text encoding towards the master (default: utf8; gb2312 with --master-protocol legacy)',
      ).choices(['utf8', 'gb2312']),
    )
    .option('--read-timeout <ms>', 'per-read timeout', numberArg('milliseconds', { above: 0 }), 15000)
    .option(
      '--idle-timeout <s>',
      'close a client that sends nothing for this long with no read in flight (0 = never)',
      numberArg('seconds', { min: 0 }),
      0,
    )
    .option(
      '--handshake-timeout <ms>',
      'time a connection has to finish its upgrade',
      numberArg('milliseconds', { above: 0 }),
      10000,
    )
    .option(
      '--max-clients <n>',
      'simultaneous WebSocket clients; beyond it a client silent for a while is evicted, or the newcomer gets 503',
      numberArg('clients', { min: 1, integer: true }),
      1000,
    )
    .option(
      '--max-messages-per-second <n>',
      'messages one client may send per second (a burst of as many); beyond it its socket is not read until the allowance refills (0 = no limit)',
      numberArg('messages', { min: 0, integer: true }),
      2000,
    )
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
      if (!Number.isFinite(o.idleTimeout) || o.idleTimeout < 0) {
        throw new TypeError(`--idle-timeout: a number of seconds ≥ 0, got ${String(o.idleTimeout)}`);
      }
      const listen = parseEndpoint(o.listen, '--listen');
      const master = parseEndpoint(o.master, '--master');
      const recording = startRecording(o.record, 'meterlab relay');
      // Lines a peer can cause at will (bad messages, refused upgrades …) are printed once per 10 s per kind.
      const log = throttleLog((e) => logLine(e.message));
      const relay = new Relay({
        ...listen,
        master,
        masterLink: recording && (() => recording.wrap(new TcpClientLink(master), { prefix: 'master' })),
        masterProtocol: o.masterProtocol,
        encoding: o.encoding,
        token: resolveToken({ token: o.token, tokenFile: o.tokenFile }),
        allowedOrigins: o.origin,
        tls: o.cert ? { cert: o.cert, key: o.key } : undefined,
        readTimeoutMs: o.readTimeout,
        idleTimeoutMs: Math.round(o.idleTimeout * 1000),
        handshakeTimeoutMs: o.handshakeTimeout,
        maxClients: o.maxClients,
        maxMessagesPerSecond: o.maxMessagesPerSecond,
        log: (e) => {
          if (o.verbose || e.level !== 'info' || e.event === 'listening' || e.event.startsWith('master-')) {
            log(e);
          }
        },
      });
      await relay.start();
      await untilInterrupted();
      await relay.stop();
      recording?.close();
      log.flush();
    });
}

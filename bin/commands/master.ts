import { type Command, InvalidArgumentError, Option } from 'commander';
import { LOGIN_POLICIES, loadArchiveFile, MasterStation, READ_POLICIES } from '../../harness/master/index.ts';
import { parseEndpoint } from '../endpoint.ts';
import { untilInterrupted } from '../io.ts';
import { logLine } from '../log.ts';
import { addRecordOption, startRecording } from '../record-option.ts';
import { traceMaster } from '../trace.ts';
import { numberArg } from '../usage.ts';

export function registerMaster(program: Command): void {
  addRecordOption(program.command('master'))
    .description(
      'run the master station: concentrators log in over Q/GDW 1376.1, clients point-read over NDJSON',
    )
    .option('--listen <host:port>', 'where concentrators connect', '127.0.0.1:9093')
    .option('--api <host:port>', 'the client API (newline-delimited JSON point-reads)', '127.0.0.1:9092')
    .option(
      '--scenario <file>',
      'archive of meters (protocol, port per meter): a scenario or a --print-fleet line (default: none; reads then name protocol and port)',
    )
    .addOption(
      new Option('--confirm <form>', 'how to confirm login/heartbeat').choices(['F1', 'F3']).default('F1'),
    )
    .addOption(
      new Option('--encoding <name>', 'client API text encoding').choices(['utf8', 'gb2312']).default('utf8'),
    )
    .option('--heartbeat <seconds>', 'expected heartbeat period', numberArg('seconds', { above: 0 }), 60)
    .option(
      '--missed <n>',
      'missed heartbeats before a concentrator is offline',
      numberArg('heartbeats', { min: 1, integer: true }),
      3,
    )
    .option(
      '--frame-gap <ms>',
      'least time between two frames written to one concentrator (0 = no pacing)',
      numberArg('milliseconds', { min: 0 }),
      20,
    )
    .addOption(
      new Option(
        '--login-policy <policy>',
        'who may log in with a concentrator address: replace (newest wins), keep (refused while the first connection answers), archive (archived addresses only)',
      )
        .choices([...LOGIN_POLICIES])
        .default('replace'),
    )
    .addOption(
      new Option(
        '--read-policy <policy>',
        'which meters a client may read: any (a request naming protocol and port may read a meter the archive lacks) or archived (archived meters only: a flood of reads of absent meters cannot hold the ports)',
      )
        .choices([...READ_POLICIES])
        .default('any'),
    )
    .option(
      '--max-logins-per-minute <n>',
      'logins that create or take over a session, per remote host per minute',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1)
          throw new InvalidArgumentError('must be a whole number of 1 or more');
        return n;
      },
      1200,
    )
    .option(
      '--client-idle-timeout <seconds>',
      'close a client-API connection with no request for this long and nothing in flight (0 = never)',
      (v) => {
        const n = Number(v);
        if (!(Number.isFinite(n) && n >= 0)) throw new InvalidArgumentError('expected seconds >= 0.');
        return n;
      },
      300,
    )
    .addHelpText(
      'after',
      `
Examples:
  meterlab master                                    # concentrators on :9093, client API on :9092
  meterlab master --scenario fixtures/scenarios/demo.json --confirm F3 --encoding gb2312`,
    )
    .option('--trace', 'print every frame to and from the concentrators (hex and decoded), and dropped bytes')
    .action(async (o) => {
      const recording = startRecording(o.record, 'meterlab master');
      const master = new MasterStation({
        clientIdleTimeoutMs: o.clientIdleTimeout * 1000,
        wrapConcentratorLink: recording?.wrapper({ prefix: 'conn' }),
        wrapClientLink: recording?.wrapper({ prefix: 'client' }),
        listen: parseEndpoint(o.listen, '--listen'),
        api: parseEndpoint(o.api, '--api'),
        confirmForm: o.confirm,
        encoding: o.encoding,
        heartbeatPeriodMs: o.heartbeat * 1000,
        missedHeartbeats: o.missed,
        minFrameGapMs: o.frameGap,
        archive: o.scenario ? loadArchiveFile(o.scenario) : undefined,
        loginPolicy: o.loginPolicy,
        readPolicy: o.readPolicy,
        maxLoginsPerMinute: o.maxLoginsPerMinute,
        // Junk, malformed frames, refused and replaced logins, each naming the peer; throttled per kind.
        log: (entry) => process.stderr.write(`${entry.message}\n`),
      });
      master.on('login', ({ session, replaced }) =>
        logLine(`login ${session.id}${replaced ? ' (replaced an older connection)' : ''}`),
      );
      master.on('logout', (s) => logLine(`logout ${s.id}`));
      master.on('offline', (s) => logLine(`offline ${s.id}`));
      master.on('error', (e: Error) => logLine(`error: ${e.message}`));
      if (o.trace) traceMaster(master, (text) => logLine(text));
      const { listen, api } = await master.start();
      logLine(
        `meterlab master: concentrators on ${listen.address}:${listen.port}, client API on ${api?.address}:${api?.port} (${o.encoding}, confirm ${o.confirm})`,
      );
      await untilInterrupted();
      await master.stop();
      recording?.close();
    });
}

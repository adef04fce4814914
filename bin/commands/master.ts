import { type Command, InvalidArgumentError, Option } from 'commander';
import { LOGIN_POLICIES, loadArchiveFile, MasterStation } from '../../harness/master/index.ts';
import { parseEndpoint } from '../endpoint.ts';
import { untilInterrupted } from '../io.ts';
import { addRecordOption, startRecording } from '../record-option.ts';

export function registerMaster(program: Command): void {
  addRecordOption(program.command('master'))
    .description(
      'run the master station: concentrators log in over Q/GDW 1376.1, clients point-read over NDJSON',
    )
    .option('--listen <host:port>', 'where concentrators connect', '127.0.0.1:9093')
    .option('--api <host:port>', 'the client API (newline-delimited JSON point-reads)', '127.0.0.1:9092')
    .option(
      '--scenario <file>',
      'archive of meters (protocol, port per meter): a scenario or a --print-fleet line',
    )
    .addOption(
      new Option('--confirm <form>', 'how to confirm login/heartbeat').choices(['F1', 'F3']).default('F1'),
    )
    .addOption(
      new Option('--encoding <name>', 'client API text encoding').choices(['utf8', 'gb2312']).default('utf8'),
    )
    .option('--heartbeat <seconds>', 'expected heartbeat period', (v) => Number(v), 60)
    .option('--missed <n>', 'missed heartbeats before a concentrator is offline', (v) => Number(v), 3)
    .option(
      '--frame-gap <ms>',
      'least time between two frames written to one concentrator (0 = no pacing)',
      (v) => Number(v),
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
        maxLoginsPerMinute: o.maxLoginsPerMinute,
        // Junk, malformed frames, refused and replaced logins, each naming the peer; throttled per kind.
        log: (entry) => process.stderr.write(`${entry.message}\n`),
      });
      master.on('login', ({ session, replaced }) =>
        process.stderr.write(`login ${session.id}${replaced ? ' (replaced an older connection)' : ''}\n`),
      );
      master.on('logout', (s) => process.stderr.write(`logout ${s.id}\n`));
      master.on('offline', (s) => process.stderr.write(`offline ${s.id}\n`));
      master.on('error', (e: Error) => process.stderr.write(`error: ${e.message}\n`));
      const { listen, api } = await master.start();
      process.stderr.write(
        `meterlab master: concentrators on ${listen.address}:${listen.port}, client API on ${api?.address}:${api?.port} (${o.encoding}, confirm ${o.confirm})\n`,
      );
      await untilInterrupted();
      await master.stop();
      recording?.close();
    });
}

import { type Command, Option } from 'commander';
import { bytesToHex } from '../../protocols/bytes.ts';
import * as cjt188 from '../../protocols/cjt188/index.ts';
import * as dlt645 from '../../protocols/dlt645/index.ts';
import * as gdw376 from '../../protocols/gdw376/index.ts';

/** Meter type names accepted by `--type`, mapped to the CJ/T 188 T byte (docs/cjt188.md §1.3). */
const METER_TYPES: Record<string, number> = {
  'cold-water': cjt188.CJT188_METER_TYPES.coldWater,
  'hot-water': cjt188.CJT188_METER_TYPES.hotWater,
  gas: cjt188.CJT188_METER_TYPES.gas,
  heat: cjt188.CJT188_METER_TYPES.heat,
};

const int = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new TypeError(`${name} must be a whole number, got "${value}"`);
  return n;
};

const print = (bytes: Uint8Array): void => {
  process.stdout.write(`${bytesToHex(bytes)}\n`);
};

/** `meterlab encode <frame> …`: builds the common frames and prints them as hex, for hand-crafted test traffic. */
export function registerEncode(program: Command): void {
  const encode = program
    .command('encode')
    .description('build a common frame and print it as hex')
    .addHelpText(
      'after',
      '\nExamples:\n  meterlab encode cjt188-read --meter 101001 | meterlab decode\n  meterlab encode cjt188-read --help',
    );

  const cjtRequest = (cmd: Command) =>
    cmd
      .requiredOption('-m, --meter <address>', 'meter address, up to 14 digits (left-padded with zeros)')
      .option('--ser <n>', 'SER sequence byte', int('--ser'), 0)
      .addOption(
        // The same default as poll, meters and the master (docs/cjt188.md §1.6: both orders are seen in the
        // field).
        new Option('--di-order <order>', 'DI byte order on the wire')
          .choices(['low-first', 'high-first'])
          .default('low-first'),
      )
      .option('--preamble <n>', 'FE bytes before the frame', int('--preamble'), 4)
      .addOption(
        new Option('--type <kind>', 'meter type').choices(Object.keys(METER_TYPES)).default('cold-water'),
      );
  const cjtOptions = (o: {
    ser: number;
    diOrder?: cjt188.Cjt188DiOrder;
    preamble: number;
    type: string;
  }) => ({
    ser: o.ser,
    preamble: o.preamble,
    meterType: METER_TYPES[o.type],
    ...(o.diOrder ? { diOrder: o.diOrder } : {}),
  });
  const pad14 = (a: string) => a.padStart(14, '0');

  cjtRequest(encode.command('cjt188-read').description('CJ/T 188 read data (C=01)'))
    .option('--di <di>', 'data identifier, e.g. 901F, D120, 8103', '901F')
    .action((o) => print(cjt188.encodeCjt188(cjt188.buildReadRequest(pad14(o.meter), o.di, cjtOptions(o)))));

  cjtRequest(encode.command('cjt188-valve').description('CJ/T 188 valve control (C=04, DI A017)'))
    .addOption(
      new Option('--valve <command>', 'valve command').choices(['open', 'close']).makeOptionMandatory(),
    )
    .action((o) =>
      print(cjt188.encodeCjt188(cjt188.buildValveRequest(pad14(o.meter), o.valve, cjtOptions(o)))),
    );

  encode
    .command('cjt188-read-address')
    .description(
      'CJ/T 188 read address to the wildcard address (C=03, DI 810A): one meter on the bus answers',
    )
    .option('--preamble <n>', 'FE bytes before the frame', int('--preamble'), 4)
    .action((o) => print(cjt188.encodeCjt188(cjt188.buildReadAddressRequest({ preamble: o.preamble }))));

  encode
    .command('dlt645-read')
    .description('DL/T 645 read data (2007 C=11 for an 8-digit DI, 1997 C=01 for a 4-digit DI)')
    .requiredOption('-m, --meter <address>', 'meter address, up to 12 digits (left-padded with zeros)')
    .option('--di <di>', 'data identifier in the standard order, e.g. 00010000 or 9010', '00010000')
    .option('--preamble <n>', 'FE bytes before the frame', int('--preamble'), 4)
    .action((o) =>
      print(
        dlt645.encodeDlt645(
          dlt645.buildReadRequest(o.meter.padStart(12, '0'), o.di, { preamble: o.preamble }),
        ),
      ),
    );

  encode
    .command('dlt645-read-address')
    .description('DL/T 645 read communication address (C=13) to AAAAAAAAAAAA')
    .action(() => print(dlt645.encodeDlt645(dlt645.buildReadAddressRequest())));

  const terminal = (cmd: Command) =>
    cmd
      .requiredOption('--a1 <code>', 'area code, 4 digits', '0171')
      .requiredOption('--a2 <address>', 'terminal address 1–65535', int('--a2'))
      .option('--seq <n>', 'PSEQ/RSEQ 0–15', int('--seq'), 0);

  terminal(encode.command('gdw376-login').description('376.1 login, AFN 02 F1 (uplink, CON set)')).action(
    (o) => print(gdw376.encodeGdw376(gdw376.buildLogin(o))),
  );
  terminal(encode.command('gdw376-logout').description('376.1 logout, AFN 02 F2')).action((o) =>
    print(gdw376.encodeGdw376(gdw376.buildLogout(o))),
  );
  terminal(encode.command('gdw376-heartbeat').description('376.1 heartbeat, AFN 02 F3'))
    .option('--clock <time>', 'terminal clock "YYYY-MM-DD hh:mm:ss" (2013 form); none = the older empty form')
    .action((o) => print(gdw376.encodeGdw376(gdw376.buildHeartbeat(o))));
  terminal(
    encode.command('gdw376-confirm').description("376.1 master's confirm of a login/heartbeat (AFN 00)"),
  )
    .addOption(
      new Option('--form <form>', 'F1 all confirmed, or F3 per item').choices(['F1', 'F3']).default('F1'),
    )
    .option('--item <fn>', 'with --form F3: the confirmed AFN 02 Fn (1 login, 3 heartbeat)', int('--item'), 1)
    .action((o) => {
      const address = { a1: o.a1, a2: o.a2, seq: o.seq };
      const items = [{ pn: [0], fn: [o.item], ok: true }];
      const frame =
        o.form === 'F1'
          ? gdw376.buildConfirm(address)
          : gdw376.buildConfirmItems({ ...address, afn: 0x02, items });
      print(gdw376.encodeGdw376(frame));
    });
  terminal(
    encode.command('gdw376-forward').description('376.1 AFN 10 F1 transparent forward of a meter frame'),
  )
    .requiredOption('--port <n>', 'concentrator port 1–31', int('--port'), 1)
    .option('--content <hex>', 'the meter frame to forward, as hex')
    .option('-m, --meter <address>', 'instead of --content: read this CJ/T 188 meter (901F)')
    .option('--baud <rate>', 'meter line speed', int('--baud'), 2400)
    .addOption(
      new Option('--parity <p>', 'meter line parity').choices(['none', 'even', 'odd']).default('even'),
    )
    .option('--timeout <s>', 'frame-wait timeout in seconds (1–127)', int('--timeout'), 60)
    .action((o) => {
      if (!o.content && !o.meter)
        throw new TypeError('gdw376-forward needs --content HEX or --meter ADDRESS');
      const content = o.content ?? cjt188.encodeCjt188(cjt188.buildReadRequest(pad14(o.meter), '901F'));
      const frame = gdw376.buildForwardRequest({
        ...o,
        content,
        serial: { baud: o.baud, parity: o.parity, dataBits: 8, stopBits: 1 },
        frameTimeout: { value: o.timeout, unit: 's' },
      });
      print(gdw376.encodeGdw376(frame));
    });

  // Every --help shows an example (issue 14 item 13); each is a command line that works as shown.
  for (const sub of encode.commands) {
    const args = SUBCOMMAND_EXAMPLES[sub.name()];
    if (args !== undefined)
      sub.addHelpText('after', `\nExample:\n  meterlab encode ${sub.name()}${args} | meterlab decode`);
  }
}

const SUBCOMMAND_EXAMPLES: Record<string, string> = {
  'cjt188-read': ' --meter 101001',
  'cjt188-valve': ' --meter 101001 --valve close',
  'cjt188-read-address': '',
  'dlt645-read': ' --meter 101001 --di 00010000',
  'dlt645-read-address': '',
  'gdw376-login': ' --a1 0171 --a2 2082',
  'gdw376-logout': ' --a1 0171 --a2 2082',
  'gdw376-heartbeat': ' --a1 0171 --a2 2082',
  'gdw376-confirm': ' --a1 0171 --a2 2082 --seq 1',
  'gdw376-forward': ' --a1 0171 --a2 2082 --port 1 --meter 101001',
};

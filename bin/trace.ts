import type { MasterStation } from '../harness/master/index.ts';
import type { AnyFrame, MeterFrame } from '../protocols/auto.ts';
import { bytesToHex } from '../protocols/bytes.ts';
import type { Fleet } from '../simulator/fleet/index.ts';
import type { Cjt188Meter, MeterHost, SimulatedMeter } from '../simulator/meter/index.ts';
import { DecodeSession } from './commands/decode.ts';

/**
 * `--trace` (issue 14 item 11): every frame a long-running command sees, as hex and decoded, and for `meters` why
 * each meter ignored a frame — so a user whose reader sends the wrong meter type, or the wrong address, sees
 * it instead of silence.
 */

type Log = (text: string) => void;

/** Why `meter` does not answer `frame`, in the user's words; undefined when it answers. */
export function whyIgnored(meter: SimulatedMeter, frame: MeterFrame): string | undefined {
  if (frame.protocol !== meter.protocol)
    return `a ${frame.protocol} frame; this meter speaks ${meter.protocol}`;
  if ((meter.accepts as (f: MeterFrame) => boolean)(frame)) return undefined;
  if (frame.direction !== 'request') return 'a reply, not a request';
  if (frame.protocol === 'cjt188') {
    const own = (meter as Cjt188Meter).meterType;
    if (frame.meterType !== own && frame.meterType !== 0xaa) {
      const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
      return `wrong meter type T=${hex(frame.meterType)}H (this meter is ${hex(own)}H ${(meter as Cjt188Meter).kind})`;
    }
  }
  // All 99 is the broadcast address, which a meter obeys only for time sync (docs/dlt645.md).
  if (frame.protocol === 'dlt645' && /^9+$/.test(frame.address)) return 'a broadcast other than time sync';
  return `other address ${frame.address}`;
}

/** Traces what the meters of `host` hear from the link: each frame, and each meter's verdict on it. */
export function traceMeterHost(host: MeterHost, log: Log): () => void {
  const protocols = [...new Set(host.meters.map((m) => m.protocol))];
  const session = new DecodeSession(protocols.length === 1 ? protocols[0] : 'auto');
  const onData = (bytes: Uint8Array) => {
    for (const line of session.push(bytes)) {
      if ('error' in line) {
        const { code, message } = (line as { error: { code: string; message: string } }).error;
        log(`trace heard ${line.hex}\n    not a frame: ${code} ${message} — every meter ignores it`);
        continue;
      }
      const { hex, ...decoded } = line;
      const frame = decoded as unknown as AnyFrame;
      if (frame.protocol === 'gdw376') {
        log(`trace heard ${hex}\n    a Q/GDW 1376.1 frame on a meter bus — every meter ignores it`);
        continue;
      }
      const verdicts = host.meters.map((m) => {
        const why = whyIgnored(m, frame);
        return why === undefined ? `${m.address} answers` : `${m.address} ignores it: ${why}`;
      });
      log(`trace heard ${hex}\n    ${JSON.stringify(decoded)}\n    ${verdicts.join('\n    ')}`);
    }
  };
  host.link.on('data', onData);
  return () => host.link.off('data', onData);
}

/** Traces every frame passing the master, both directions, and bytes from a concentrator that formed none. */
export function traceMaster(master: MasterStation, log: Log): () => void {
  const owner = {};
  master.console.frames.subscribe(
    owner,
    'trace',
    {},
    (event) => {
      const arrow = event.direction === 'up' ? `<- ${event.concentrator}` : `-> ${event.concentrator}`;
      log(`trace ${arrow} ${event.hex}\n    ${event.summary}`);
      return true;
    },
    () => undefined,
  );
  const onDropped = (e: {
    remote?: unknown;
    dropped: { error: { code: string; message: string }; bytes?: Uint8Array };
  }) =>
    log(
      `trace dropped from ${String(e.remote)}: ${e.dropped.error.code} ${e.dropped.error.message}` +
        (e.dropped.bytes ? ` ${bytesToHex(e.dropped.bytes.subarray(0, 64))}` : ''),
    );
  master.on('dropped', onDropped);
  return () => {
    master.console.frames.closeOwner(owner);
    master.off('dropped', onDropped);
  };
}

/** Traces each simulated concentrator: frames from the master, what it forwarded, ignored or refused, and why. */
export function traceFleet(fleet: Fleet, log: Log): void {
  for (const c of fleet.concentrators) {
    const id = c.spec.alias ?? c.spec.id;
    c.on('frame', (event: { raw: Uint8Array; frame: AnyFrame }) =>
      log(`trace ${id} <- ${bytesToHex(event.raw)}\n    ${JSON.stringify(event.frame)}`),
    );
    c.on('dropped', (d: { error: { code: string; message: string } }) =>
      log(`trace ${id} dropped: ${d.error.code} ${d.error.message}`),
    );
    c.on('ignored', (e: { reason: string }) => log(`trace ${id} ignored a frame: ${e.reason}`));
    c.on('denied', (e: { reason: string }) => log(`trace ${id} denied a frame: ${e.reason}`));
  }
}

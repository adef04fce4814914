/**
 * One line for a human per 376.1 frame, for the console's frame log (issue 12): the AFN and what the frame
 * does, and for an AFN 10H F1 forward the meter frame it carries, decoded. Pure: a decoded frame in, text out.
 *
 * Examples:
 * - `AFN 10H F1 forward, port 1 2400 8E1 → CJ/T 188 read 901F 00000000101001`
 * - `AFN 10H F1 reply, port 1 ← CJ/T 188 read-reply 901F 00000000101001: 123.45 m3, valve open`
 * - `AFN 02H F3 heartbeat 2026-12-05 09:00:00`
 */
import { decodeEmbedded, type MeterFrame } from '../../protocols/auto.ts';
import { hexToBytes } from '../../protocols/bytes.ts';
import type { Gdw376Body, Gdw376Frame } from '../../protocols/gdw376/index.ts';
import { MAX_SUMMARY_LENGTH } from '../../protocols/point-read/console-messages.ts';

/** What the log shows of one frame besides its bytes. */
export interface FrameDescription {
  summary: string;
  /** The meter of the embedded frame (AFN 10 forwards), as that frame writes its address. */
  meter?: string;
  /** The concentrator port of a forward. */
  port?: number;
}

const AFN_NAMES: Readonly<Record<number, string>> = {
  0: 'confirm/deny',
  1: 'reset',
  2: 'link check',
  3: 'relay',
  4: 'set parameters',
  5: 'control',
  6: 'authentication',
  9: 'terminal config',
  10: 'query parameters',
  11: 'task data',
  12: 'class 1 data',
  13: 'class 2 data',
  14: 'class 3 data',
  15: 'file transfer',
  16: 'data forwarding',
};

/** Describes a decoded 376.1 frame (Q/GDW 1376.1 §5.1 AFN table; AFN 10H F1 per docs/gdw376.md §3.4). */
export function describeGdw376Frame(frame: Gdw376Frame): FrameDescription {
  const afn = `AFN ${hex2(frame.afn)}H`;
  const unit = frame.units[0];
  if (!unit) return { summary: clip(`${afn} ${AFN_NAMES[frame.afn] ?? ''} (no data unit)`) };
  const fn = unit.fn.length ? ` F${unit.fn.join(',F')}` : '';
  const more = frame.units.length > 1 ? ` (+${frame.units.length - 1} units)` : '';
  const body = describeBody(unit.body);
  const text = body.text === '' ? `${afn}${fn} ${AFN_NAMES[frame.afn] ?? ''}` : `${afn}${fn} ${body.text}`;
  const out: FrameDescription = { summary: clip(`${text.trimEnd()}${more}`) };
  if (body.meter !== undefined) out.meter = body.meter;
  if (body.port !== undefined) out.port = body.port;
  return out;
}

/** Describes bytes that did not decode as a 376.1 frame (kept in the log: they passed the master too). */
export function describeUndecoded(reason: string): FrameDescription {
  return { summary: clip(`not a 376.1 frame: ${reason}`) };
}

function describeBody(body: Gdw376Body): { text: string; meter?: string; port?: number } {
  switch (body.kind) {
    case 'confirm-all':
      return { text: 'confirm all' };
    case 'deny-all':
      return { text: 'deny all' };
    case 'confirm-items':
      return { text: `confirm/deny per item of AFN ${hex2(body.afn)}H` };
    case 'login':
      return { text: 'login' };
    case 'logout':
      return { text: 'logout' };
    case 'heartbeat':
      return { text: body.clock ? `heartbeat ${body.clock}` : 'heartbeat' };
    case 'forward-request': {
      const s = body.serial;
      const line = `${s.baud} ${s.dataBits}${s.parity[0].toUpperCase()}${s.stopBits}`;
      const meter = describeMeterContent(body.content);
      return {
        text: `forward, port ${body.port} ${line} → ${meter.text}`,
        meter: meter.address,
        port: body.port,
      };
    }
    case 'forward-reply': {
      if (body.content === '')
        return { text: `reply, port ${body.port} ← no answer from the meter`, port: body.port };
      const meter = describeMeterContent(body.content);
      return { text: `reply, port ${body.port} ← ${meter.text}`, meter: meter.address, port: body.port };
    }
    case 'data-request':
      return { text: `data request ${body.data}` };
    case 'opaque':
      return { text: '' };
  }
}

function describeMeterContent(contentHex: string): { text: string; address?: string } {
  const decoded = decodeEmbedded(hexToBytes(contentHex));
  if ('embeddedError' in decoded) return { text: `unreadable meter frame (${decoded.embeddedError.code})` };
  return { text: describeMeterFrame(decoded.embedded), address: decoded.embedded.address };
}

/** One meter frame: protocol, what it is, its address and, for a reading or a status, the values. */
export function describeMeterFrame(frame: MeterFrame): string {
  if (frame.protocol === 'cjt188') {
    const b = frame.body;
    const head = `CJ/T 188 ${b.kind}${'di' in b ? ` ${b.di}` : ''} ${frame.address}`;
    if (b.kind === 'read-reply' && b.data.type === 'water') {
      return `${head}: ${b.data.current.value} ${b.data.current.unit}, valve ${b.data.status.valve}`;
    }
    if (b.kind === 'read-reply' && b.data.type === 'heat') {
      return `${head}: ${b.data.currentHeat.value} ${b.data.currentHeat.unit}`;
    }
    if (b.kind === 'write' && b.data.type === 'valve') return `${head} valve ${b.data.command}`;
    if (b.kind === 'write-reply' && b.status) return `${head}: valve ${b.status.valve}`;
    if (b.kind === 'error-reply') return `${head}: abnormal, ST ${b.st.raw}, valve ${b.st.valve}`;
    return head;
  }
  const b = frame.body;
  const head = `DL/T 645 ${b.kind}${'di' in b ? ` ${b.di}` : ''} ${frame.address}`;
  if (b.kind === 'read-reply') return `${head}: ${b.value} ${b.unit}`;
  return head;
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

function clip(text: string): string {
  return text.length > MAX_SUMMARY_LENGTH ? `${text.slice(0, MAX_SUMMARY_LENGTH - 1)}…` : text;
}

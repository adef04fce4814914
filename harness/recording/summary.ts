import type { AnyFrame, MeterFrame } from '../../protocols/auto.ts';
import { decodeEmbedded } from '../../protocols/auto.ts';
import { hexToBytes } from '../../protocols/bytes.ts';
import type { Gdw376Frame } from '../../protocols/gdw376/index.ts';

/**
 * One human line per frame, for live tap output, `decode --recording` and the recording's frame lines:
 * the protocol, direction, what it asks or answers, the address and the correlation number, and the value
 * when the frame carries a reading. Not parsed by anything: the decoded frame is what gets compared.
 */
export function summarizeFrame(frame: AnyFrame): string {
  if (frame.protocol === 'gdw376') return summarizeGdw376(frame);
  return summarizeMeter(frame);
}

function summarizeMeter(frame: MeterFrame): string {
  const parts: string[] = [frame.protocol, frame.direction, frame.body.kind];
  const body = frame.body as unknown as Record<string, unknown>;
  if (typeof body.di === 'string') parts.push(`DI ${body.di}`);
  parts.push(`addr ${frame.address}`);
  if (typeof body.ser === 'number') parts.push(`ser ${body.ser}`);
  const value = readingOf(frame);
  if (value) parts.push(value);
  if (frame.abnormal) parts.push('abnormal');
  return parts.join(' ');
}

/** "= 12.34 m3" for a reply carrying a reading. */
function readingOf(frame: MeterFrame): string | undefined {
  const body = frame.body as unknown as Record<string, unknown>;
  if (frame.protocol === 'dlt645' && body.kind === 'read-reply') {
    return `= ${String(body.value)}${body.unit ? ` ${String(body.unit)}` : ''}`;
  }
  const data = body.data as Record<string, unknown> | undefined;
  if (data && typeof data === 'object') {
    const current = (data.current ?? data.accumulatedFlow) as { value?: number; unit?: string } | undefined;
    if (current && typeof current.value === 'number')
      return `= ${current.value} ${current.unit ?? ''}`.trim();
  }
  return undefined;
}

function summarizeGdw376(frame: Gdw376Frame): string {
  const afn = frame.afn.toString(16).toUpperCase().padStart(2, '0');
  const parts = [
    'gdw376',
    frame.control.dir,
    frame.control.prm ? 'prm' : 'resp',
    `AFN ${afn}H`,
    frame.units.map((u) => `${u.body.kind} F${u.fn.join(',')}`).join(' '),
    `seq ${frame.seq.seq}`,
    `A ${frame.a1}/${frame.a2}`,
  ];
  for (const unit of frame.units) {
    const body = unit.body;
    if ((body.kind === 'forward-request' || body.kind === 'forward-reply') && body.content !== '') {
      const embedded = decodeEmbedded(hexToBytes(body.content));
      parts.push('embedded' in embedded ? `[${summarizeMeter(embedded.embedded)}]` : '[not a meter frame]');
    } else if (body.kind === 'forward-reply') {
      parts.push('[no answer]');
    }
  }
  return parts.join(' ');
}

/** A point-read message: its type, id, concentrator/meter and value or error code. */
export function summarizeMessage(message: Record<string, unknown>): string {
  if ('ModuleName' in message) {
    const content = (message.Content ?? {}) as Record<string, unknown>;
    const value = 'AccumVal' in content ? ` = ${String(content.AccumVal)}` : '';
    const error = 'Error' in content ? ` error ${String(content.Error)}` : '';
    return `legacy ${String(content.ConcentratorNo)}/${String(content.WaterMtrAddress)}${value}${error}`;
  }
  const parts = [String(message.type)];
  if (message.id !== undefined) parts.push(`id ${String(message.id)}`);
  if (message.concentrator !== undefined)
    parts.push(`${String(message.concentrator)}/${String(message.meter)}`);
  if (message.type === 'reading') parts.push(`= ${String(message.value)} ${String(message.unit)}`);
  if (message.type === 'error') parts.push(String(message.code));
  return parts.join(' ');
}

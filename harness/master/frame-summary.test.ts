import { describe, expect, it } from 'vitest';
import {
  buildReadRequest,
  buildValveRequest,
  buildWaterReadReply,
  buildWriteReply,
  encodeCjt188,
} from '../../protocols/cjt188/index.ts';
import {
  buildConfirm,
  buildForwardReply,
  buildForwardRequest,
  buildHeartbeat,
  buildLogin,
  decodeGdw376Frame,
  encodeGdw376,
} from '../../protocols/gdw376/index.ts';
import { describeGdw376Frame, describeUndecoded } from './frame-summary.ts';

const at = { a1: '0171', a2: 2082 };
const METER = '00000000101001';
/** Through the codec and back, as the master sees frames on the wire. */
const wire = (frame: Parameters<typeof encodeGdw376>[0]) => decodeGdw376Frame(encodeGdw376(frame));

describe('describeGdw376Frame', () => {
  const read = buildReadRequest(METER, '901F', { diOrder: 'low-first' });
  const request = wire(buildForwardRequest({ ...at, seq: 3, port: 1, content: encodeCjt188(read) }));

  it('names a forward request with its port, line settings and the embedded meter read', () => {
    expect(describeGdw376Frame(request)).toEqual({
      summary: `AFN 10H F1 forward, port 1 2400 8E1 → CJ/T 188 read 901F ${METER}`,
      meter: METER,
      port: 1,
    });
  });

  it('names a forward reply with the reading and valve state', () => {
    const reply = buildWaterReadReply(read, { current: 123.45, time: null, valve: 'closed' });
    const d = describeGdw376Frame(wire(buildForwardReply(request, { content: encodeCjt188(reply) })));
    expect(d.summary).toBe(
      `AFN 10H F1 reply, port 1 ← CJ/T 188 read-reply 901F ${METER}: 123.45 m3, valve closed`,
    );
    expect(d.meter).toBe(METER);
  });

  it('names a valve command and its reply', () => {
    const valve = buildValveRequest(METER, 'close');
    const down = wire(buildForwardRequest({ ...at, seq: 4, port: 1, content: encodeCjt188(valve) }));
    expect(describeGdw376Frame(down).summary).toBe(
      `AFN 10H F1 forward, port 1 2400 8E1 → CJ/T 188 write A017 ${METER} valve close`,
    );
    const up = wire(
      buildForwardReply(down, { content: encodeCjt188(buildWriteReply(valve, { valve: 'closed' })) }),
    );
    expect(describeGdw376Frame(up).summary).toBe(
      `AFN 10H F1 reply, port 1 ← CJ/T 188 write-reply A017 ${METER}: valve closed`,
    );
  });

  it('says when the meter did not answer, or the content is no meter frame', () => {
    expect(describeGdw376Frame(wire(buildForwardReply(request, { content: '' }))).summary).toBe(
      'AFN 10H F1 reply, port 1 ← no answer from the meter',
    );
    expect(describeGdw376Frame(wire(buildForwardReply(request, { content: '01 02 03' }))).summary).toMatch(
      /^AFN 10H F1 reply, port 1 ← unreadable meter frame \([A-Z_]+\)$/,
    );
  });

  it('names link checks and confirmations', () => {
    expect(describeGdw376Frame(wire(buildLogin({ ...at, seq: 0 }))).summary).toBe('AFN 02H F1 login');
    expect(
      describeGdw376Frame(wire(buildHeartbeat({ ...at, seq: 1, clock: '2026-12-05 09:00:00' }))).summary,
    ).toBe('AFN 02H F3 heartbeat 2026-12-05 09:00:00');
    expect(describeGdw376Frame(wire(buildConfirm({ ...at, seq: 1 }))).summary).toBe('AFN 00H F1 confirm all');
  });

  it('keeps a note on bytes that are no frame short', () => {
    expect(describeUndecoded('x'.repeat(1000)).summary.length).toBeLessThanOrEqual(512);
  });
});

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeAuto } from '../../../protocols/auto.ts';
import { bytesToHex, hexToBytes } from '../../../protocols/bytes.ts';
import { type Cjt188Frame, encodeCjt188 } from '../../../protocols/cjt188/index.ts';
import { decodeGdw376Frame, encodeGdw376, type Gdw376Frame } from '../../../protocols/gdw376/index.ts';
import { fromHex } from '../format.ts';
import { readRecording } from '../reader.ts';
import { adjustReply } from './adjust.ts';
import { compareDecoded, matchKey, parseRules } from './compare.ts';
import { replaySession } from './session.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../fixtures/recordings/${name}`, import.meta.url));

describe('adjustReply', () => {
  it('echoes the new PSEQ in RSEQ and the new SER inside a 376.1 forward, with valid checksums', async () => {
    const session = replaySession(await readRecording(fixture('tcp-376.jsonl')));
    const { request, replies } = session.exchanges[0];
    const asked = decodeGdw376Frame(request.bytes);
    // The same forward with PSEQ 9 and meter SER 0x42: what a new run of the master sends.
    const unit = asked.units[0];
    if (unit.body.kind !== 'forward-request') throw new Error('not a forward');
    const meterRequest = decodeAuto(hexToBytes(unit.body.content));
    if (meterRequest.kind !== 'frame' || meterRequest.frame.protocol !== 'cjt188')
      throw new Error('not CJ/T 188');
    const q = meterRequest.frame as Cjt188Frame;
    const newMeterRequest = encodeCjt188({ ...q, body: { ...q.body, ser: 0x42 } } as Cjt188Frame);
    const newRequest: Gdw376Frame = {
      ...asked,
      seq: { ...asked.seq, seq: 9 },
      units: [{ ...unit, body: { ...unit.body, content: bytesToHex(newMeterRequest) } }],
    };
    const bytes = encodeGdw376(newRequest);
    const adjusted = decodeGdw376Frame(adjustReply(bytes, {}, replies[0].bytes));
    expect(adjusted.seq.seq).toBe(9);
    const body = adjusted.units[0].body;
    if (body.kind !== 'forward-reply') throw new Error('not a forward reply');
    const meterReply = decodeAuto(hexToBytes(body.content));
    expect(
      meterReply.kind === 'frame' &&
        meterReply.frame.protocol === 'cjt188' &&
        'ser' in meterReply.frame.body &&
        meterReply.frame.body.ser,
    ).toBe(0x42);
    // Everything else is the recorded reply.
    const recorded = decodeGdw376Frame(replies[0].bytes);
    expect({ ...adjusted, seq: recorded.seq, units: recorded.units }).toEqual(recorded);
  });

  it('echoes a CJ/T 188 SER and leaves the reading as recorded', async () => {
    const session = replaySession(await readRecording(fixture('pty-cjt188.jsonl')));
    const { request, replies } = session.exchanges[0];
    const q = decodeAuto(request.bytes);
    if (q.kind !== 'frame' || q.frame.protocol !== 'cjt188') throw new Error('not CJ/T 188');
    const newRequest = encodeCjt188({ ...q.frame, body: { ...q.frame.body, ser: 7 } } as Cjt188Frame);
    const adjusted = decodeAuto(adjustReply(newRequest, {}, replies[0].bytes));
    const recorded = decodeAuto(replies[0].bytes);
    if (adjusted.kind !== 'frame' || recorded.kind !== 'frame') throw new Error('undecodable');
    expect(adjusted.frame.protocol === 'cjt188' && adjusted.frame.body).toMatchObject({ ser: 7 });
    const frame = adjusted.frame as Cjt188Frame;
    expect({ ...frame, body: { ...frame.body, ser: 0 } }).toEqual(recorded.frame);
  });
});

describe('matching and comparing', () => {
  it('matches a request whatever its SER, PSEQ and time label, but not another meter', async () => {
    const session = replaySession(await readRecording(fixture('pty-cjt188.jsonl')));
    const first = session.exchanges[0].request.decoded;
    const withSer = { ...first, body: { ...(first.body as object), ser: 200 } };
    expect(matchKey(withSer)).toBe(matchKey(first));
    expect(matchKey(session.exchanges[1].request.decoded)).not.toBe(matchKey(first));
  });

  it('names exactly the fields that differ, and none of those the rules ignore', async () => {
    const recording = await readRecording(fixture('pty-cjt188.jsonl'));
    const reply = replaySession(recording).exchanges[0].replies[0].decoded;
    const data = (reply.body as { data: { current: { value: number } } }).data;
    const changed = {
      ...reply,
      body: { ...(reply.body as object), ser: 3, data: { ...data, current: { ...data.current, value: 1 } } },
    };
    expect(compareDecoded(reply, changed, parseRules('')).map((d) => d.path)).toEqual([
      'body.ser',
      'body.data.current.value',
    ]);
    expect(compareDecoded(reply, changed, parseRules('seq,value'))).toEqual([]);
    expect(() => parseRules('value,colour')).toThrow(expect.objectContaining({ code: 'BAD_RULES' }));
  });

  it('keeps a recorded bad-checksum reply as part of the answer', async () => {
    const session = replaySession(await readRecording(fixture('pty-faults.jsonl')));
    const drops = session.exchanges.flatMap((e) => e.replies).filter((r) => r.protocol === 'drop');
    expect(drops.map((d) => d.summary)).toEqual(['drop BAD_CHECKSUM', 'drop BAD_CHECKSUM']);
    expect(fromHex(Buffer.from(drops[0].bytes).toString('hex').toUpperCase())).toEqual(drops[0].bytes);
  });
});

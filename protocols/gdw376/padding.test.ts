import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../bytes.ts';
import { FrameAccumulator } from '../framer.ts';
import { decodeGdw376, decodeGdw376Frame, encodeGdw376 } from './frame.ts';

// Q10 (IDX-17053496834, fixtures/vectors/gdw376.json): the master's AFN 00 F1 confirm. Padded with zero bytes
// after its only data unit, L grows by the padding and the checksum stays B5 (zeros add nothing).
const Q10 = '68 32 00 32 00 68 0B 00 02 34 12 00 00 61 00 00 01 00 B5 16';
const Q10_PADDED_2 = '68 3A 00 3A 00 68 0B 00 02 34 12 00 00 61 00 00 01 00 00 00 B5 16';
const Q10_PADDED_6 = '68 4A 00 4A 00 68 0B 00 02 34 12 00 00 61 00 00 01 00 00 00 00 00 00 00 B5 16';

describe('Q/GDW 376.1 zero padding after the last data unit (issue 14, item 5)', () => {
  for (const [name, hex, count] of [
    ['2 bytes (fewer than a DA/DT)', Q10_PADDED_2, 2],
    ['6 bytes (a DA/DT of zeros names nothing)', Q10_PADDED_6, 6],
  ] as const) {
    it(`decodes a confirm padded with ${name} with a warning, and re-encodes it byte for byte`, () => {
      const frame = decodeGdw376Frame(hexToBytes(hex));
      expect(frame).toMatchObject({
        a1: '0200',
        a2: 0x1234,
        afn: 0,
        units: [{ pn: [0], fn: [1], body: { kind: 'confirm-all' } }],
        padding: Array(count).fill('00').join(' '),
      });
      expect(frame.warnings).toEqual([
        expect.stringMatching(new RegExp(`^${count} zero byte\\(s\\) after the last`)),
      ]);
      expect(bytesToHex(encodeGdw376(frame))).toBe(hex);
    });
  }

  it('passes a padded frame through the framer as a frame, not a drop', () => {
    const acc = new FrameAccumulator(decodeGdw376);
    const events = acc.push(hexToBytes(`${Q10_PADDED_2} ${Q10}`));
    expect(events.map((e) => e.kind)).toEqual(['frame', 'frame']);
  });

  it('leaves a standard frame without padding or warnings', () => {
    const frame = decodeGdw376Frame(hexToBytes(Q10));
    expect(frame).not.toHaveProperty('padding');
    expect(frame).not.toHaveProperty('warnings');
  });
});

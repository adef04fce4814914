/**
 * Byte-level constants of CJ/T 188-2004 framing (docs/cjt188.md §1.1–§1.2).
 * @packageDocumentation
 */

/** Wake-up preamble byte sent before the start byte (PAGE-US "唤醒符:0~4个FE"; BLOG-SC). */
export const CJT188_PREAMBLE_BYTE = 0xfe;
/** Start byte 68H, offset 0 of every frame after the preamble. */
export const CJT188_START = 0x68;
/** End byte 16H, the last byte of every frame. */
export const CJT188_END = 0x16;

/** Header bytes before DATA: 68, T, A0…A6, C, L. */
export const CJT188_HEADER_LENGTH = 11;
/** A frame with L = 0, preamble excluded (SYN `SYN_CJT188_MIN_FRAME_SIZE 13`; NGGW `codec.rs`). */
export const CJT188_MIN_FRAME_LENGTH = 13;

/**
 * Most `FE` bytes accepted as one frame's preamble. The standard's range is 0–4 (PAGE-US, BLOG-SC); 16 is
 * generous so that a meter that over-wakes the bus still decodes. Longer runs are reported as NO_START and
 * the excess dropped, which keeps the framer's buffer bounded on a stream of FE.
 */
export const CJT188_MAX_PREAMBLE = 16;

/**
 * Default upper bound for L. The standard text was not available; SYN caps a whole frame at 128 bytes, which
 * leaves 115 for DATA — more than every layout here (the longest, the heat-meter 901F reply, is 46,
 * docs/cjt188.md §1.8). A lower bound rejects a mis-synchronised `68` sooner;
 * {@link Cjt188DecodeOptions.maxDataLength} overrides it.
 */
export const CJT188_MAX_DATA_LENGTH = 115;

/** Longest frame the decoder accepts with default options: full preamble + header + DATA + CS + end. */
export const CJT188_MAX_FRAME_LENGTH = CJT188_MAX_PREAMBLE + CJT188_MIN_FRAME_LENGTH + CJT188_MAX_DATA_LENGTH;

/**
 * Default bound of the {@link Cjt188Framer} buffer: comfortably above {@link CJT188_MAX_FRAME_LENGTH} (144), so a
 * whole legal frame plus some junk in front of it always fits.
 */
export const CJT188_DEFAULT_MAX_BUFFERED_BYTES = 256;

/** Preamble length the builders emit by default: 4 × FE, as SYN, NGGW and the BLOG-SC captures send. */
export const CJT188_DEFAULT_PREAMBLE = 4;

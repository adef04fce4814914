/**
 * Frame-level constants of DL/T 645-2007 and -1997 (docs/dlt645.md §2.1).
 *
 * `[FE…] 68 A0 A1 A2 A3 A4 A5 68 C L DATA CS 16`
 */

/** Start byte, sent twice: before the address and after it (RSDLT, NGGW `frame/mod.rs`). */
export const DLT645_START = 0x68;

/** End byte (RSDLT, NGGW). */
export const DLT645_END = 0x16;

/** Wake-up preamble byte sent before a frame (RSDLT: “先发送1—4个字节FEH，以唤醒接收方”). */
export const DLT645_PREAMBLE_BYTE = 0xfe;

/** Offset added to every DATA byte on the wire and subtracted by the receiver (RSDLT, NGGW). */
export const DLT645_DATA_OFFSET = 0x33;

/**
 * Largest L (DATA length) accepted. The standard allows 200 for reads and 50 for writes (PEACE `const.go`
 * MaxReadLen/MaxWriteLen, RSDLT comment); a larger L is reported as BAD_LENGTH so that noise resynchronises
 * quickly instead of waiting for up to 255 more bytes.
 */
export const DLT645_MAX_DATA_LENGTH = 200;

/**
 * Most FE bytes counted as one frame's preamble. Senders use 1–4 (RSDLT), replies have been seen with 7 (D7);
 * 32 is generous. FE bytes beyond it are dropped as NO_START before the frame, which still decodes.
 */
export const DLT645_MAX_PREAMBLE = 32;

/** Bytes of a frame without preamble and DATA: 68, 6 address bytes, 68, C, L, CS, 16. */
export const DLT645_OVERHEAD = 12;

/** Longest legal frame without preamble: overhead + {@link DLT645_MAX_DATA_LENGTH} (212 bytes). */
export const DLT645_MAX_FRAME_LENGTH = DLT645_OVERHEAD + DLT645_MAX_DATA_LENGTH;

/**
 * Default bound of the streaming framer's buffer: 512 bytes, more than the longest legal frame with the
 * longest accepted preamble ({@link DLT645_MAX_FRAME_LENGTH} + {@link DLT645_MAX_PREAMBLE} = 244).
 */
export const DLT645_DEFAULT_MAX_BUFFERED_BYTES = 512;

/**
 * Address that every meter answers (read address, wildcard reads): `AA AA AA AA AA AA` (docs/dlt645.md §2.1).
 */
export const DLT645_WILDCARD_ADDRESS = 'AAAAAAAAAAAA';

/** Broadcast address (time sync, no reply): `99 99 99 99 99 99` (D24; LAOY `TestSend`). */
export const DLT645_BROADCAST_ADDRESS = '999999999999';

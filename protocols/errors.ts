/**
 * One error class for every codec in protocols/. The `code` is stable and machine-readable; the message
 * is for humans and names what was wrong (which byte, which field, what was expected).
 *
 * | code            | meaning                                                                      |
 * | --------------- | ---------------------------------------------------------------------------- |
 * | NO_START        | bytes before anything that could start a frame (junk, line noise)            |
 * | BAD_START       | a start byte is missing where the frame layout requires one                   |
 * | BAD_LENGTH      | a length field is impossible, or two copies of it disagree                    |
 * | BAD_CHECKSUM    | the checksum byte does not match the bytes it covers                          |
 * | BAD_END         | the end byte (16H) is not where the length field says it is                   |
 * | TRUNCATED       | the input ended inside a frame                                               |
 * | TOO_LONG        | a frame or a line is longer than the configured or standard maximum           |
 * | BAD_BCD         | a nibble above 9 in a field that must be BCD                                  |
 * | BAD_FIELD       | a field has a value the standard does not allow (control code, port, time …) |
 * | UNKNOWN_DI      | a data identifier this codec does not know how to encode or decode            |
 * | BUFFER_FULL     | a framer dropped bytes because its bounded buffer was full                    |
 * | BAD_JSON        | a point-read message is not valid JSON                                        |
 * | BAD_MESSAGE     | a point-read message is valid JSON but not a valid message                    |
 * | BAD_ENCODING    | text could not be decoded or encoded in the requested character set           |
 */
export type ProtocolErrorCode =
  | 'NO_START'
  | 'BAD_START'
  | 'BAD_LENGTH'
  | 'BAD_CHECKSUM'
  | 'BAD_END'
  | 'TRUNCATED'
  | 'TOO_LONG'
  | 'BAD_BCD'
  | 'BAD_FIELD'
  | 'UNKNOWN_DI'
  | 'BUFFER_FULL'
  | 'BAD_JSON'
  | 'BAD_MESSAGE'
  | 'BAD_ENCODING';

/** A frame, field or message that breaks the protocol. `offset` is the byte index in the input, when known. */
export class ProtocolError extends RangeError {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    readonly offset?: number,
  ) {
    super(message);
  }

  /** The shape `meterlab decode` prints and the point-read messages carry. */
  toJSON(): { code: ProtocolErrorCode; message: string; offset?: number } {
    return this.offset === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, offset: this.offset };
  }
}

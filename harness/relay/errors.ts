/**
 * Errors the relay throws from its own API (not the error messages it sends to clients, which are point-read
 * `error` messages with the codes of `protocols/point-read/types.ts`).
 *
 * | code               | meaning                                                         |
 * | ------------------ | --------------------------------------------------------------- |
 * | RELAY_ERR_TLS      | the certificate or key file could not be read                   |
 * | RELAY_ERR_STATE    | `start()` on a relay already started, or after `stop()`         |
 * | RELAY_ERR_LISTEN   | the server could not listen (address in use, permission …)      |
 *
 * Bad options are `TypeError`s naming the option, as everywhere in meterlab.
 */
export type RelayErrorCode = 'RELAY_ERR_TLS' | 'RELAY_ERR_STATE' | 'RELAY_ERR_LISTEN';

export class RelayError extends Error {
  override readonly name = 'RelayError';
  constructor(
    readonly code: RelayErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

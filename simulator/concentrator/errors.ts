/**
 * One error class for the simulated concentrator. The `code` is stable and machine-readable; the message names
 * the concentrator, port or frame involved.
 *
 * | code               | meaning                                                                         |
 * | ------------------ | ------------------------------------------------------------------------------- |
 * | PORT_QUEUE_FULL    | a meter port already holds `maxQueued` forwards waiting their turn              |
 * | PORT_CLOSED        | a forward was made to (or was waiting on) a port that has been closed          |
 * | PORT_DOWN          | the port's serial device went away (unplugged); it is reopened when it is back |
 * | UNKNOWN_PORT       | an AFN 10 F1 forward names a port the concentrator does not have               |
 * | NOT_STARTED        | an operation needs `start()` first                                             |
 * | LISTEN_FAILED      | server mode could not listen on its address                                    |
 * | BAD_OPTION         | a constructor option is out of range (also thrown as TypeError for bad types)  |
 */
export type ConcentratorErrorCode =
  | 'PORT_QUEUE_FULL'
  | 'PORT_CLOSED'
  | 'PORT_DOWN'
  | 'UNKNOWN_PORT'
  | 'NOT_STARTED'
  | 'LISTEN_FAILED'
  | 'BAD_OPTION';

/** An error of the simulated concentrator or fleet. */
export class ConcentratorError extends Error {
  override readonly name = 'ConcentratorError';
  constructor(
    readonly code: ConcentratorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): { code: ConcentratorErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

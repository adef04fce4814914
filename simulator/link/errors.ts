/**
 * One error class for links and the bus. The `code` is stable and machine-readable; the message names the
 * path or address involved and, where there is one, what to do about it.
 *
 * | code                 | meaning                                                                            |
 * | -------------------- | ---------------------------------------------------------------------------------- |
 * | LINK_NOT_FOUND       | the serial device path does not exist (unplugged adapter, typo, pty pair gone)      |
 * | LINK_BUSY            | another process (or another link of ours) holds the device or the name             |
 * | LINK_ACCESS_DENIED   | no permission to open the device (on Linux: add the user to the `dialout` group)    |
 * | LINK_OPEN_FAILED     | opening failed for another reason; the OS message is in the text                   |
 * | LINK_ALREADY_OPEN    | `open()` on a link that is open or opening                                         |
 * | LINK_CLOSED          | `write()` on a link that is not open, or a write cut short by `close()`            |
 * | LINK_NOT_CONNECTED   | `write()` on a TCP server link that has no accepted connection                    |
 * | LINK_DISCONNECTED    | the device or peer went away while open (USB adapter unplugged, socket reset)      |
 * | LINK_WRITE_FAILED    | the OS refused a write                                                             |
 * | LINK_UNSUPPORTED     | the device cannot do what an option asks (e.g. drive RTS on a pty)                 |
 * | LINK_TIMEOUT         | a bounded wait ran out (connect, pty creation, waiting for a connection)           |
 * | CONNECT_FAILED       | a TCP connection was refused or could not be routed                                |
 * | LISTEN_FAILED        | a TCP server could not listen (address in use, no permission)                      |
 * | ECHO_MISMATCH        | (warning) bytes came back that are not the adapter echo of what we sent            |
 * | ECHO_MISSING         | (warning) the expected adapter echo did not come back in time                     |
 * | SOCAT_MISSING        | `socat` is not installed or not on PATH: `apt-get install socat`                  |
 * | SOCAT_FAILED         | `socat` exited or did not create the pty pair; its stderr is in the text          |
 * | QUEUE_FULL           | a bounded transmit queue is full (the bus port's `maxQueuedTransmissions`)        |
 * | LINK_QUEUE_FULL      | a TCP link's paced writes (`maxQueuedWrites`) or unsent bytes (`maxBufferedBytes`) are at their limit |
 * | FRAME_TOO_LONG       | a transmission longer than the bus's `maxTransmissionBytes`                        |
 * | BUS_FULL             | more devices than the bus's `maxDevices`                                          |
 */
export type LinkErrorCode =
  | 'LINK_NOT_FOUND'
  | 'LINK_BUSY'
  | 'LINK_ACCESS_DENIED'
  | 'LINK_OPEN_FAILED'
  | 'LINK_ALREADY_OPEN'
  | 'LINK_CLOSED'
  | 'LINK_NOT_CONNECTED'
  | 'LINK_DISCONNECTED'
  | 'LINK_WRITE_FAILED'
  | 'LINK_UNSUPPORTED'
  | 'LINK_TIMEOUT'
  | 'CONNECT_FAILED'
  | 'LISTEN_FAILED'
  | 'ECHO_MISMATCH'
  | 'ECHO_MISSING'
  | 'SOCAT_MISSING'
  | 'SOCAT_FAILED'
  | 'QUEUE_FULL'
  | 'LINK_QUEUE_FULL'
  | 'FRAME_TOO_LONG'
  | 'BUS_FULL';

/** An error from a link or the bus. `cause` keeps the OS or library error when there was one. */
export class LinkError extends Error {
  override readonly name = 'LinkError';
  constructor(
    readonly code: LinkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The shape logs and reports carry. */
  toJSON(): { code: LinkErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** @internal The message of whatever was thrown, for embedding in our own messages. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

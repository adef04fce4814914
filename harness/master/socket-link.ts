import type { Socket } from 'node:net';
import { LinkError } from '../../simulator/link/index.ts';
import { LinkBase } from '../../simulator/link/link.ts';

/**
 * TEMPORARY (issue 9): an accepted socket as an open Link, until `simulator/link` has `listenTcp` (FIELD). Then
 * this file goes and the master station takes its links from there.
 * @internal
 */
export class AcceptedSocketLink extends LinkBase {
  readonly description: string;
  readonly remote: string;
  readonly settings = undefined;
  readonly #socket: Socket;

  static async accept(socket: Socket): Promise<AcceptedSocketLink> {
    const link = new AcceptedSocketLink(socket);
    await link.open();
    return link;
  }

  private constructor(socket: Socket) {
    super();
    this.#socket = socket;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.description = this.remote;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) =>
      this.deliver(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)),
    );
    socket.on('error', () => {});
    socket.on('end', () => socket.end());
    socket.on('close', () => this.lost());
  }

  protected async doOpen(): Promise<void> {}

  protected doWrite(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#socket.write(bytes, (error) =>
        error
          ? reject(new LinkError('LINK_WRITE_FAILED', `write to ${this.remote} failed: ${error.message}`))
          : resolve(),
      ),
    );
  }

  protected async doClose(): Promise<void> {
    this.#socket.destroy();
  }
}

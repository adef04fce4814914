import type { Link } from './link.ts';
import { createMemoryPair, type MemoryLink, type MemoryPairOptions } from './memory-pair.ts';
import { SerialLink, type SerialLinkOptions } from './serial-link.ts';
import {
  TcpClientLink,
  type TcpClientLinkOptions,
  TcpServerLink,
  type TcpServerLinkOptions,
} from './tcp-link.ts';

/**
 * A link described as data (scenario files, command-line flags). `memory` makes a fresh pair and returns its
 * first end; the other end is `link.peer`.
 */
export type LinkSpec =
  | ({ kind: 'serial' } & SerialLinkOptions)
  | ({ kind: 'tcp-client' } & TcpClientLinkOptions)
  | ({ kind: 'tcp-server' } & TcpServerLinkOptions)
  | ({ kind: 'memory' } & MemoryPairOptions);

/** The link type each spec kind makes. */
export type LinkFor<S extends LinkSpec> = S extends { kind: 'serial' }
  ? SerialLink
  : S extends { kind: 'tcp-client' }
    ? TcpClientLink
    : S extends { kind: 'tcp-server' }
      ? TcpServerLink
      : MemoryLink;

/**
 * Makes the link a spec describes, without opening it.
 * @throws TypeError naming the field for an unknown kind or invalid options.
 */
export function createLink<S extends LinkSpec>(spec: S): LinkFor<S>;
export function createLink(spec: LinkSpec): Link {
  if (typeof spec !== 'object' || spec === null) throw new TypeError('"spec" must be an object');
  switch (spec.kind) {
    case 'serial':
      return new SerialLink(spec);
    case 'tcp-client':
      return new TcpClientLink(spec);
    case 'tcp-server':
      return new TcpServerLink(spec);
    case 'memory':
      return createMemoryPair(spec).a;
    default:
      throw new TypeError(
        `"kind" must be 'serial', 'tcp-client', 'tcp-server' or 'memory', got ${String((spec as { kind?: unknown }).kind)}`,
      );
  }
}

/**
 * Makes the link a spec describes and opens it (for `memory`, both ends are opened).
 * @throws LinkError from `open()` (naming the path or address), TypeError for an invalid spec.
 */
export async function openLink<S extends LinkSpec>(spec: S): Promise<LinkFor<S>> {
  const link = createLink(spec);
  await link.open();
  if (spec.kind === 'memory') await (link as MemoryLink).peer.open();
  return link;
}

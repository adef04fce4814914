/**
 * Byte links: one `Link` interface over serial devices, socat pty pairs, in-memory pairs and TCP, with
 * serial settings, wire-time arithmetic and one error class with stable codes.
 */
export { LinkError, type LinkErrorCode } from './errors.ts';
export { type Link, LinkBase, type LinkEvents } from './link.ts';
export { LinkWrapper } from './link-wrapper.ts';
export { createMemoryPair, MemoryLink, type MemoryPair, type MemoryPairOptions } from './memory-pair.ts';
export { createLink, type LinkFor, type LinkSpec, openLink } from './open-link.ts';
export { createPtyPair, type PtyPair, type PtyPairEvents, type PtyPairOptions } from './pty-pair.ts';
export {
  isPseudoTerminal,
  SerialLink,
  type SerialLinkOptions,
  type SerialPortFactory,
  type SerialPortFactoryOptions,
  type SerialPortLike,
} from './serial-link.ts';
export {
  bitsPerChar,
  DEFAULT_METER_SERIAL,
  formatSerialSettings,
  type SerialSettings,
  validateSerialSettings,
  wireTimeMs,
} from './serial-settings.ts';
export { isSourceSpec, SourceList } from './source-list.ts';
export {
  GDW376_FRAME_GAP_MS,
  listenTcp,
  TcpClientLink,
  type TcpClientLinkOptions,
  TcpListener,
  type TcpListenerEvents,
  type TcpListenOptions,
  type TcpServerEvents,
  TcpServerLink,
  type TcpServerLinkOptions,
  TcpSocketLink,
  type TcpWriteOptions,
} from './tcp-link.ts';

import {
  createLink,
  formatSerialSettings,
  type Link,
  type SerialSettings,
  TcpClientLink,
  TcpServerLink,
  validateSerialSettings,
} from '../../simulator/link/index.ts';
import { RecordingError } from './errors.ts';

/**
 * One end of a tap or a replay, as typed on the command line:
 * `serial:PATH[@BAUD-8E1]` (2400 8E1 by default, the meters' usual line), `tcp:HOST:PORT` (connect) or
 * `tcp-listen:HOST:PORT` (accept one connection at a time; port 0 picks a free one).
 */
export type Endpoint =
  | { kind: 'serial'; path: string; settings: SerialSettings }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'tcp-listen'; host: string; port: number };

const PARITY: Record<string, SerialSettings['parity']> = {
  N: 'none',
  E: 'even',
  O: 'odd',
  M: 'mark',
  S: 'space',
};

/**
 * Reads an endpoint text. `flag` names where it was typed, for the message.
 * @throws RecordingError BAD_ENDPOINT saying what form was expected.
 */
export function parseEndpoint(text: string, flag: string): Endpoint {
  const fail = (why: string): never => {
    throw new RecordingError(
      'BAD_ENDPOINT',
      `${flag}: "${text}" ${why}; expected serial:PATH[@2400-8E1], tcp:HOST:PORT or tcp-listen:HOST:PORT`,
    );
  };
  const colon = text.indexOf(':');
  if (colon < 0) return fail('has no kind');
  const kind = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (kind === 'serial') {
    const at = rest.lastIndexOf('@');
    const path = at < 0 ? rest : rest.slice(0, at);
    if (path.length === 0) return fail('has no device path');
    if (at < 0) return { kind: 'serial', path, settings: validateSerialSettings(undefined) };
    const m = /^(\d+)(?:-([5-8])([NEOMS])(1|1\.5|2))?$/i.exec(rest.slice(at + 1));
    if (!m) return fail('has line settings that are not BAUD or BAUD-8E1');
    const settings: Partial<SerialSettings> = { baudRate: Number(m[1]) };
    if (m[2]) {
      settings.dataBits = Number(m[2]) as SerialSettings['dataBits'];
      settings.parity = PARITY[m[3].toUpperCase()];
      settings.stopBits = Number(m[4]) as SerialSettings['stopBits'];
    }
    try {
      return { kind: 'serial', path, settings: validateSerialSettings(settings) };
    } catch (error) {
      return fail(`has bad line settings (${(error as Error).message})`);
    }
  }
  if (kind === 'tcp' || kind === 'tcp-listen') {
    const m = /^(.+):(\d+)$/.exec(rest);
    const port = m ? Number(m[2]) : Number.NaN;
    if (!m || port > 65535 || (kind === 'tcp' && port === 0)) return fail('has no valid HOST:PORT');
    return { kind, host: m[1], port };
  }
  return fail(`has an unknown kind "${kind}"`);
}

/** The endpoint as text again, with its line settings: "serial:/dev/ttyUSB0 2400 8E1", "tcp:127.0.0.1:9093". */
export function describeEndpoint(endpoint: Endpoint): string {
  if (endpoint.kind === 'serial') return `serial:${endpoint.path} ${formatSerialSettings(endpoint.settings)}`;
  return `${endpoint.kind}:${endpoint.host}:${endpoint.port}`;
}

/** Makes the (unopened) link of an endpoint. */
export function linkFor(endpoint: Endpoint): Link {
  switch (endpoint.kind) {
    case 'serial':
      return createLink({ kind: 'serial', path: endpoint.path, settings: endpoint.settings });
    case 'tcp':
      return new TcpClientLink({ host: endpoint.host, port: endpoint.port });
    case 'tcp-listen':
      return new TcpServerLink({ host: endpoint.host, port: endpoint.port });
  }
}

import { readFileSync } from 'node:fs';
import { METER_KINDS, type MeterKind, type MeterKindEntry } from '../../protocols/meter-protocol.ts';
import type { MeterProtocol } from '../../protocols/point-read/index.ts';
import { isMeterProtocolName, meterProtocol, meterProtocolList } from '../../protocols/registry.ts';
import { isSourceSpec, SourceList } from '../../simulator/link/index.ts';
import { fleetSummary, parseScenario } from '../../simulator/scenario/index.ts';
import { formatConcentratorId } from './concentrator-id.ts';

/**
 * The master station's archive (档案): which meters sit behind which concentrator, on which port, speaking which
 * protocol. It has the shape `meterlab sim --print-fleet` prints (`FleetSummary` in simulator/scenario), plus
 * optional serial settings per port, so a fleet JSON can be loaded as the archive as it is.
 */

/** Line settings of a concentrator port, as the AFN 10 F1 control word carries them (docs/gdw376.md §3.4). */
export interface ArchiveSerial {
  baudRate: number;
  dataBits: number;
  parity: 'none' | 'even' | 'odd';
  stopBits: number;
}

export interface ArchiveMeter {
  /** Decimal digits in human order; compared without leading zeros, so "101001" matches "00000000101001". */
  address: string;
  protocol: MeterProtocol;
  /**
   * What the meter measures; decides the CJ/T 188 meter type T of its read request (a meter answers only its
   * own T, docs/cjt188.md §1.3). @defaultValue the protocol's default kind (cold water for CJ/T 188)
   */
  kind?: MeterKind;
}

export interface ArchivePort {
  /** Concentrator port, 1–31. */
  port: number;
  /** Line settings; 2400 8E1 when absent. */
  serial?: ArchiveSerial;
  meters: ArchiveMeter[];
}

export interface ArchiveConcentrator {
  /** A1 + A2 as 9 digits ("017102082"). */
  id: string;
  /** Short name a point-read may use instead of the id, such as "101". */
  alias?: string;
  a1: string;
  a2: number;
  ports: ArchivePort[];
  /**
   * Where this concentrator may log in from: IP addresses ("10.1.2.3") or CIDR blocks ("10.0.0.0/8",
   * "fd00::/8"). A login of its A1/A2 from any other source is refused, whatever the login policy (issue 13,
   * item 3: anyone who knew the address could take the session). @defaultValue any source
   */
  allowFrom?: string[];
}

/** The archive as plain data. */
export interface ArchiveData {
  concentrators: ArchiveConcentrator[];
}

/** Where a meter is: what a point-read needs that the request may leave out. */
export interface MeterLocation {
  concentratorId: string;
  port: number;
  protocol: MeterProtocol;
  /** The archived kind, when the archive gives one (else the protocol's default kind applies). */
  kind?: MeterKind;
  serial?: ArchiveSerial;
}

/** An archive that cannot be used; `problems` name the JSON path of each. */
export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
  readonly code = 'BAD_ARCHIVE';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.join('; ')}`);
  }
}

/** Indexed, read-only view of {@link ArchiveData}. */
export class Archive {
  readonly data: ArchiveData;
  readonly #byId = new Map<string, ArchiveConcentrator>();
  readonly #byAlias = new Map<string, ArchiveConcentrator>();
  /** concentrator id → meter address without leading zeros → location */
  readonly #meters = new Map<string, Map<string, MeterLocation>>();
  /** concentrator id → its `allowFrom` sources, for those that have one */
  readonly #sources = new Map<string, SourceList>();

  /** Validates `data` (throws {@link ArchiveError} naming each bad field) and indexes it. */
  constructor(data: unknown, source = 'archive') {
    const problems = validateArchive(data);
    if (problems.length) throw new ArchiveError(source, problems);
    this.data = data as ArchiveData;
    for (const c of this.data.concentrators) {
      this.#byId.set(c.id, c);
      if (c.alias !== undefined) this.#byAlias.set(c.alias, c);
      const meters = new Map<string, MeterLocation>();
      for (const p of c.ports) {
        for (const m of p.meters) {
          meters.set(stripZeros(m.address), {
            concentratorId: c.id,
            port: p.port,
            protocol: m.protocol,
            ...(m.kind !== undefined ? { kind: m.kind } : {}),
            ...(p.serial ? { serial: p.serial } : {}),
          });
        }
      }
      this.#meters.set(c.id, meters);
      if (c.allowFrom) this.#sources.set(c.id, new SourceList(c.allowFrom));
    }
  }

  /**
   * Whether the concentrator (9-digit id) may log in from `host` (an IP address as a socket reports it; an
   * IPv4-mapped IPv6 address counts as its IPv4 address). True when it has no `allowFrom`, or is not archived.
   */
  allowsSource(concentratorId: string, host: string): boolean {
    return this.#sources.get(concentratorId)?.allows(host) ?? true;
  }

  /** An empty archive: every read must name protocol and port. */
  static empty(): Archive {
    return new Archive({ concentrators: [] });
  }

  /** The concentrator with this 9-digit id or alias; ids win over aliases. */
  concentrator(idOrAlias: string): ArchiveConcentrator | undefined {
    return this.#byId.get(idOrAlias) ?? this.#byAlias.get(idOrAlias);
  }

  /** Where the meter is behind the concentrator (by 9-digit id), or undefined. */
  meter(concentratorId: string, address: string): MeterLocation | undefined {
    return this.#meters.get(concentratorId)?.get(stripZeros(address));
  }
}

/** Reads an archive from a fleet JSON (`--print-fleet` output) or a scenario file. */
export function loadArchiveFile(path: string): Archive {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ArchiveError(path, [(err as Error).message]);
  }
  return archiveFromJson(json, path);
}

/**
 * Turns parsed JSON into an archive: a fleet summary (every concentrator has an `id`) is used as it is; anything
 * else is read as a scenario file (validated by simulator/scenario, which fills in ids and protocols).
 */
export function archiveFromJson(json: unknown, source = 'archive'): Archive {
  const list = (json as { concentrators?: unknown } | null)?.concentrators;
  const isFleet =
    Array.isArray(list) && list.every((c) => typeof (c as { id?: unknown } | null)?.id === 'string');
  if (isFleet) return new Archive(json, source);
  const scenario = parseScenario(json, source);
  const summary = fleetSummary(scenario);
  // A scenario knows each port's line settings; keep them for the AFN 10 F1 control word.
  for (const [i, c] of summary.concentrators.entries()) {
    for (const [j, p] of c.ports.entries()) {
      (p as ArchivePort).serial = { ...scenario.concentrators[i].ports[j].serial };
    }
  }
  return new Archive(summary, source);
}

/** Problems with `data` as an archive, each naming its JSON path; empty when it is fine. */
export function validateArchive(data: unknown): string[] {
  const problems: string[] = [];
  const list = (data as { concentrators?: unknown } | null)?.concentrators;
  if (!Array.isArray(list)) return ['/concentrators must be an array'];
  const ids = new Set<string>();
  const aliases = new Set<string>();
  list.forEach((raw, i) => {
    const at = `/concentrators/${i}`;
    const c = raw as Partial<ArchiveConcentrator> | null;
    if (!c || typeof c !== 'object') {
      problems.push(`${at} must be an object`);
      return;
    }
    if (typeof c.a1 !== 'string' || !/^\d{4}$/.test(c.a1)) problems.push(`${at}/a1 must be 4 digits`);
    if (!Number.isInteger(c.a2) || (c.a2 as number) < 1 || (c.a2 as number) > 0xffff) {
      problems.push(`${at}/a2 must be an integer 1–65535`);
    }
    if (typeof c.id !== 'string') problems.push(`${at}/id must be a string`);
    else if (
      typeof c.a1 === 'string' &&
      typeof c.a2 === 'number' &&
      c.id !== formatConcentratorId(c.a1, c.a2)
    ) {
      problems.push(`${at}/id "${c.id}" is not A1 + A2 (${formatConcentratorId(c.a1, c.a2)})`);
    } else if (ids.has(c.id)) problems.push(`${at}/id "${c.id}" appears twice`);
    else ids.add(c.id);
    if (c.alias !== undefined) {
      if (typeof c.alias !== 'string' || !/^[0-9A-Za-z_.-]{1,32}$/.test(c.alias)) {
        problems.push(`${at}/alias must be 1–32 characters [0-9A-Za-z_.-]`);
      } else if (aliases.has(c.alias)) problems.push(`${at}/alias "${c.alias}" appears twice`);
      else aliases.add(c.alias);
    }
    if (c.allowFrom !== undefined) {
      if (!Array.isArray(c.allowFrom))
        problems.push(`${at}/allowFrom must be an array of addresses or CIDR blocks`);
      else {
        c.allowFrom.forEach((source, k) => {
          if (!isSourceSpec(source)) {
            problems.push(
              `${at}/allowFrom/${k} must be an IP address or a CIDR block such as "10.0.0.0/8", got ${JSON.stringify(source)}`,
            );
          }
        });
      }
    }
    if (!Array.isArray(c.ports)) {
      problems.push(`${at}/ports must be an array`);
      return;
    }
    c.ports.forEach((p, j) => {
      const pat = `${at}/ports/${j}`;
      if (!p || typeof p !== 'object') {
        problems.push(`${pat} must be an object`);
        return;
      }
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 31) problems.push(`${pat}/port must be 1–31`);
      if (!Array.isArray(p.meters)) {
        problems.push(`${pat}/meters must be an array`);
        return;
      }
      p.meters.forEach((m, k) => {
        const mat = `${pat}/meters/${k}`;
        if (typeof m?.address !== 'string' || !/^\d{1,14}$/.test(m.address)) {
          problems.push(`${mat}/address must be 1–14 decimal digits`);
        }
        if (!isMeterProtocolName(m?.protocol)) {
          problems.push(`${mat}/protocol must be ${meterProtocolList()}`);
        } else if (m.kind !== undefined) {
          const kinds = meterProtocol(m.protocol).kinds as readonly MeterKindEntry[];
          if (!(METER_KINDS as readonly unknown[]).includes(m.kind)) {
            problems.push(`${mat}/kind must be one of ${METER_KINDS.join(', ')}`);
          } else if (!kinds.some((k) => k.kind === m.kind)) {
            problems.push(
              `${mat}/kind "${m.kind}" is not a ${m.protocol} meter (${kinds.map((k) => k.kind).join(', ')})`,
            );
          }
        }
      });
    });
  });
  return problems;
}

/** "00000000101001" → "101001"; "0" stays "0". */
export function stripZeros(address: string): string {
  return address.replace(/^0+(?=.)/, '');
}

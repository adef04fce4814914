import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import type { MeterKindEntry } from '../../protocols/meter-protocol.ts';
import { meterProtocol, protocolsForKind } from '../../protocols/registry.ts';
import type { FaultRule } from '../meter/fault-plan.ts';
import { SCENARIO_SCHEMA } from './schema.ts';
import {
  type ConcentratorSpec,
  concentratorId,
  type MeterKind,
  type MeterProtocol,
  type MeterSpec,
  type PortLinkSpec,
  type PortSpec,
  type Scenario,
  type SerialSettingsSpec,
} from './types.ts';

/** A scenario that cannot be used. `problems` name the JSON path of each, e.g. `/concentrators/0/a2`. */
export class ScenarioError extends Error {
  readonly code = 'BAD_SCENARIO';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join('\n  ')}`}`);
    this.name = 'ScenarioError';
  }
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(SCENARIO_SCHEMA);

/**
 * Default meter line settings: 2400 bit/s 8E1, the CJ/T 188 and DL/T 645-2007 habit (docs/cjt188.md §1.1,
 * docs/dlt645.md §2.1).
 */
export const DEFAULT_SERIAL: SerialSettingsSpec = {
  baudRate: 2400,
  dataBits: 8,
  parity: 'even',
  stopBits: 1,
};
/** Default master station address for concentrators in client mode. */
export const DEFAULT_MASTER = { host: '127.0.0.1', port: 9093 };

/** Reads, validates and normalises a scenario file. Throws ScenarioError naming the file and each problem. */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScenarioError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(path, [`not valid JSON${jsonErrorPlace(text, (err as Error).message)}`]);
  }
  return parseScenario(json, path);
}

/** Validates and normalises a scenario given as parsed JSON; `source` names it in errors. */
export function parseScenario(json: unknown, source = 'scenario'): Scenario {
  if (!validate(json)) throw new ScenarioError(source, describeSchemaErrors(validate.errors ?? [], json));
  const raw = json as RawScenario;
  const master = { ...DEFAULT_MASTER, ...raw.master };
  const scenario: Scenario = {
    name: raw.name ?? source,
    seed: raw.seed ?? 1,
    concentrators: raw.concentrators.map((c) => normaliseConcentrator(c, master)),
  };
  const problems = crossCheck(scenario);
  if (problems.length > 0) throw new ScenarioError(source, problems);
  return scenario;
}

/**
 * "at line 3, column 18: Expected double-quoted property name" from JSON.parse's message, whose position is a
 * character offset (Node 20) that nobody can find in an editor (issue 14 item 12).
 */
function jsonErrorPlace(text: string, message: string): string {
  const reason = message
    .replace(/\s*(in JSON )?at position \d+.*$/s, '')
    .replace(/\s*\(line \d+ column \d+\)$/, '');
  const at = /at position (\d+)/.exec(message);
  const offset = at ? Number(at[1]) : /Unexpected end of JSON input/.test(message) ? text.length : undefined;
  if (offset === undefined) return `: ${message}`;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column}: ${reason}`;
}

/** The value at a JSON pointer such as `/concentrators/0/ports/0/link`, if there is one. */
function valueAt(json: unknown, pointer: string): unknown {
  let value = json;
  for (const key of pointer.split('/').slice(1)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return value;
}

/**
 * Ajv's errors in plain words. A `oneOf` (a port's link, a fault's trigger) fails with an error from every
 * branch; only the branch the value chose by its `kind` (the one with no `const` error) says what is wrong:
 * `link "serial" needs a path`, not four lines about constants.
 */
function describeSchemaErrors(errors: ErrorObject[], json: unknown): string[] {
  const dropped = new Set<ErrorObject>();
  const chosen = new Map<ErrorObject, string>();
  const extra: string[] = [];
  for (const oneOf of errors.filter((e) => e.keyword === 'oneOf')) {
    const prefix = `${oneOf.schemaPath}/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const e of errors) {
      if (!e.schemaPath.startsWith(prefix)) continue;
      const branch = e.schemaPath.slice(prefix.length).split('/')[0];
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
      dropped.add(e);
    }
    dropped.add(oneOf);
    const matched = [...branches.values()].filter((list) => !list.some((e) => e.keyword === 'const'));
    const value = valueAt(json, oneOf.instancePath);
    const kind =
      value !== null && typeof value === 'object' ? (value as Record<string, unknown>).kind : undefined;
    const name = oneOf.instancePath.split('/').pop() ?? 'value';
    if (matched.length === 1) {
      for (const e of matched[0]) {
        dropped.delete(e);
        if (typeof kind === 'string') chosen.set(e, `${name} "${kind}"`);
      }
    } else if (typeof kind === 'string' || matched.length === 0) {
      const allowed = [...branches.values()]
        .flat()
        .filter((e) => e.keyword === 'const')
        .map((e) => JSON.stringify((e.params as { allowedValue: unknown }).allowedValue));
      const where = oneOf.instancePath === '' ? '(top level)' : oneOf.instancePath;
      extra.push(
        typeof kind === 'string'
          ? `${where}: unknown ${name} kind ${JSON.stringify(kind)} (one of ${[...new Set(allowed)].join(', ')})`
          : `${where}: ${oneOf.message ?? 'is invalid'}`,
      );
    }
  }
  return [
    ...errors.filter((e) => !dropped.has(e)).map((e) => describeSchemaError(e, chosen.get(e))),
    ...extra,
  ];
}

function describeSchemaError(e: ErrorObject, subject?: string): string {
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    const where = e.instancePath === '' ? '(top level)' : e.instancePath;
    return subject ? `${where}: ${subject} needs a ${missing}` : `${where}: "${missing}" is missing`;
  }
  return describeSchemaErrorPlain(e);
}

function describeSchemaErrorPlain(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(top level)' : e.instancePath;
  if (e.keyword === 'additionalProperties') {
    return `${where}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  }
  if (e.keyword === 'enum') {
    return `${where}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${where}: ${e.message ?? 'is invalid'}`;
}

function normaliseConcentrator(c: RawConcentrator, master: { host: string; port: number }): ConcentratorSpec {
  const mode = c.upstream?.mode ?? 'client';
  return {
    id: concentratorId(c.a1, c.a2),
    a1: c.a1,
    a2: c.a2,
    ...(c.alias ? { alias: c.alias } : {}),
    upstream: { mode, host: c.upstream?.host ?? master.host, port: c.upstream?.port ?? master.port },
    heartbeatSeconds: c.heartbeatSeconds ?? 60,
    pollMinutes: c.pollMinutes ?? 0,
    ports: c.ports.map(normalisePort),
  };
}

function normalisePort(p: RawPort): PortSpec {
  return {
    port: p.port,
    serial: { ...DEFAULT_SERIAL, ...p.serial },
    link: p.link ?? { kind: 'memory' },
    wireTiming: p.wireTiming ?? true,
    turnaroundMs: p.turnaroundMs ?? 20,
    meters: (p.meters ?? []).map((m) => normaliseMeter(m, p.protocol ?? 'cjt188')),
  };
}

function normaliseMeter(m: RawMeter, portProtocol: MeterProtocol): MeterSpec {
  const protocol = m.protocol ?? portProtocol;
  const descriptor = meterProtocol(protocol);
  return {
    address: m.address.padStart(descriptor.addressDigits, '0'),
    protocol,
    kind: m.kind ?? descriptor.defaultKind,
    quirks: { diOrder: 'low-first', preamble: 2, replyDelayMs: 0, ...m.quirks },
    faults: (m.faults ?? []).map((f) => ({ ...f, when: f.when ?? { always: true } })),
    valve: m.valve ?? 'open',
    batteryLow: m.batteryLow ?? false,
    ...(m.baseReading !== undefined ? { baseReading: m.baseReading } : {}),
  };
}

/** Problems the schema cannot see: duplicates, and values that depend on each other. */
function crossCheck(scenario: Scenario): string[] {
  const problems: string[] = [];
  const ids = new Map<string, number>();
  const aliases = new Map<string, number>();
  scenario.concentrators.forEach((c, ci) => {
    const at = `/concentrators/${ci}`;
    if (ids.has(c.id))
      problems.push(`${at}: A1/A2 ${c.a1}/${c.a2} already used by /concentrators/${ids.get(c.id)}`);
    ids.set(c.id, ci);
    if (c.alias !== undefined) {
      if (aliases.has(c.alias))
        problems.push(`${at}/alias: "${c.alias}" already used by /concentrators/${aliases.get(c.alias)}`);
      aliases.set(c.alias, ci);
    }
    const ports = new Set<number>();
    c.ports.forEach((p, pi) => {
      if (ports.has(p.port)) problems.push(`${at}/ports/${pi}/port: port ${p.port} is listed twice`);
      ports.add(p.port);
      const addresses = new Set<string>();
      p.meters.forEach((m, mi) => {
        const mAt = `${at}/ports/${pi}/meters/${mi}`;
        const descriptor = meterProtocol(m.protocol);
        const title = descriptor.title.replace(/-\d{4}$/, '');
        if (m.address.length > descriptor.addressDigits) {
          problems.push(
            `${mAt}/address: a ${title} address has at most ${descriptor.addressDigits} digits, got "${m.address}"`,
          );
        }
        if (!(descriptor.kinds as readonly MeterKindEntry[]).some((k) => k.kind === m.kind)) {
          const others = protocolsForKind(m.kind).map((p) => p.title.replace(/-\d{4}$/, ''));
          problems.push(
            `${mAt}/kind: a ${title} meter is ${(descriptor.kinds as readonly MeterKindEntry[]).map((k) => `"${k.kind}"`).join(', ')}, not "${m.kind}"${others.length > 0 ? ` ("${m.kind}" meters speak ${others.join(' or ')})` : ''}`,
          );
        }
        if (addresses.has(m.address)) problems.push(`${mAt}/address: ${m.address} is already on this port`);
        addresses.add(m.address);
      });
    });
  });
  return problems;
}

// What a file may contain, before defaults (mirrors schema.ts).
interface RawMeter {
  address: string;
  protocol?: MeterProtocol;
  kind?: MeterKind;
  quirks?: MeterSpec['quirks'];
  faults?: (Omit<FaultRule, 'when'> & { when?: FaultRule['when'] })[];
  valve?: 'open' | 'closed';
  batteryLow?: boolean;
  baseReading?: number;
}
interface RawPort {
  port: number;
  serial?: Partial<SerialSettingsSpec>;
  link?: PortLinkSpec;
  wireTiming?: boolean;
  turnaroundMs?: number;
  protocol?: MeterProtocol;
  meters?: RawMeter[];
}
interface RawConcentrator {
  a1: string;
  a2: number;
  alias?: string;
  upstream?: { mode?: 'client' | 'server'; host?: string; port?: number };
  heartbeatSeconds?: number;
  pollMinutes?: number;
  ports: RawPort[];
}
interface RawScenario {
  name?: string;
  seed?: number;
  master?: { host?: string; port?: number };
  concentrators: RawConcentrator[];
}

import { METER_KINDS } from '../../protocols/meter-protocol.ts';
import { meterProtocolNames } from '../../protocols/registry.ts';

/**
 * JSON Schema (draft 2020-12 subset, checked with ajv) of a scenario file as a user writes it. Defaults are
 * filled in by load-scenario.ts, not here, so the schema states only what a file may contain.
 */
const serial = {
  type: 'object',
  additionalProperties: false,
  properties: {
    baudRate: { enum: [300, 600, 1200, 2400, 4800, 7200, 9600, 19200] },
    dataBits: { enum: [5, 6, 7, 8] },
    parity: { enum: ['none', 'even', 'odd'] },
    stopBits: { enum: [1, 2] },
  },
};

const faultRule = {
  type: 'object',
  required: ['kind'],
  additionalProperties: false,
  properties: {
    kind: {
      enum: [
        'silence',
        'late',
        'bad-checksum',
        'truncated',
        'noise',
        'wrong-address',
        'duplicate',
        'error-reply',
      ],
    },
    when: {
      oneOf: [
        {
          type: 'object',
          required: ['always'],
          additionalProperties: false,
          properties: { always: { const: true } },
        },
        {
          type: 'object',
          required: ['every'],
          additionalProperties: false,
          properties: { every: { type: 'integer', minimum: 1 } },
        },
        {
          type: 'object',
          required: ['probability'],
          additionalProperties: false,
          properties: { probability: { type: 'number', minimum: 0, maximum: 1 } },
        },
      ],
    },
    delayMs: { type: 'integer', minimum: 0 },
    noiseBytes: { type: 'integer', minimum: 1, maximum: 1024 },
  },
};

const meter = {
  type: 'object',
  required: ['address'],
  additionalProperties: false,
  properties: {
    address: { type: 'string', pattern: '^[0-9]{1,14}$' },
    // Protocols and kinds come from the meter-protocol registry; which kinds a protocol covers is checked in
    // load-scenario.ts (crossCheck), with a message naming both.
    protocol: { enum: [...meterProtocolNames] },
    kind: { enum: [...METER_KINDS] },
    quirks: {
      type: 'object',
      additionalProperties: false,
      properties: {
        diOrder: { enum: ['high-first', 'low-first'] },
        preamble: { type: 'integer', minimum: 0, maximum: 8 },
        replyDelayMs: { type: 'integer', minimum: 0 },
      },
    },
    faults: { type: 'array', items: faultRule },
    valve: { enum: ['open', 'closed'] },
    batteryLow: { type: 'boolean' },
    // The reading when the meter is made (m³, kWh for heat and electricity); see MeterSpec.baseReading.
    baseReading: { type: 'number', minimum: 0, maximum: 99999999.99 },
  },
};

const link = {
  oneOf: [
    {
      type: 'object',
      required: ['kind'],
      additionalProperties: false,
      properties: { kind: { const: 'memory' } },
    },
    {
      type: 'object',
      required: ['kind'],
      additionalProperties: false,
      properties: { kind: { const: 'pty' } },
    },
    {
      type: 'object',
      required: ['kind', 'path'],
      additionalProperties: false,
      properties: {
        kind: { const: 'serial' },
        path: { type: 'string', minLength: 1 },
        echoDiscard: { type: 'boolean' },
        rts: { type: 'boolean' },
      },
    },
  ],
};

const port = {
  type: 'object',
  required: ['port'],
  additionalProperties: false,
  properties: {
    port: { type: 'integer', minimum: 1, maximum: 31 },
    serial,
    link,
    wireTiming: { type: 'boolean' },
    turnaroundMs: { type: 'integer', minimum: 0 },
    protocol: { enum: [...meterProtocolNames] },
    meters: { type: 'array', items: meter },
  },
};

const endpoint = {
  type: 'object',
  additionalProperties: false,
  properties: {
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
  },
};

const concentrator = {
  type: 'object',
  required: ['a1', 'a2', 'ports'],
  additionalProperties: false,
  properties: {
    a1: { type: 'string', pattern: '^[0-9]{4}$' },
    a2: { type: 'integer', minimum: 1, maximum: 65535 },
    alias: { type: 'string', pattern: '^[0-9A-Za-z_-]{1,32}$' },
    upstream: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mode: { enum: ['client', 'server'] },
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
      },
    },
    heartbeatSeconds: { type: 'integer', minimum: 1, maximum: 3600 },
    pollMinutes: { type: 'integer', minimum: 0 },
    ports: { type: 'array', minItems: 1, items: port },
  },
};

export const SCENARIO_SCHEMA = {
  type: 'object',
  required: ['concentrators'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    seed: { type: 'integer' },
    master: endpoint,
    concentrators: { type: 'array', minItems: 1, items: concentrator },
  },
} as const;

import type { SeededRandom } from '../random.ts';

/**
 * What a simulated meter can do wrong, as data (STYLE.md habit 9, after modbus-serial's testport units).
 * - silence: no reply at all
 * - late: the reply comes `delayMs` late (past a reader's timeout, typically)
 * - bad-checksum: the reply's CS byte is wrong
 * - truncated: only the first part of the reply is sent
 * - noise: a burst of random bytes on the wire before the reply
 * - wrong-address: the reply carries another meter's address
 * - duplicate: the reply is sent twice
 * - error-reply: an abnormal reply (CJ/T 188 C1 with ST, DL/T 645 D1 with an error word)
 */
export const FAULT_KINDS = [
  'silence',
  'late',
  'bad-checksum',
  'truncated',
  'noise',
  'wrong-address',
  'duplicate',
  'error-reply',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** When a fault fires: on every request, on every Nth request (N, 2N, …), or with a seeded probability. */
export type FaultTrigger = { always: true } | { every: number } | { probability: number };

export interface FaultRule {
  kind: FaultKind;
  when: FaultTrigger;
  /** For `late`: how late, ms. @defaultValue 3000 */
  delayMs?: number;
  /** For `noise`: how many random bytes. @defaultValue 8 */
  noiseBytes?: number;
}

export class FaultSpecError extends Error {
  readonly code = 'BAD_FAULT_SPEC';
}

/**
 * Parses the command-line form: comma-separated `kind[:value][@trigger]` where trigger is `always` (default),
 * `every:N` or `p:0.25`, e.g. `silence@every:3,late:5000@p:0.1,bad-checksum`. The value is the delay in ms
 * for `late` and the byte count for `noise`.
 */
export function parseFaultSpec(spec: string): FaultRule[] {
  const rules: FaultRule[] = [];
  for (const part of spec.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const [head, trigger = 'always'] = part.split('@');
    const [kind, value] = head.split(':');
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new FaultSpecError(`unknown fault "${kind}" in "${part}"; known: ${FAULT_KINDS.join(', ')}`);
    }
    const rule: FaultRule = { kind: kind as FaultKind, when: parseTrigger(trigger, part) };
    if (value !== undefined) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0)
        throw new FaultSpecError(`"${value}" in "${part}" must be a whole number`);
      if (kind === 'late') rule.delayMs = n;
      else if (kind === 'noise') rule.noiseBytes = n;
      else throw new FaultSpecError(`fault "${kind}" takes no value (in "${part}")`);
    }
    rules.push(rule);
  }
  return rules;
}

function parseTrigger(text: string, part: string): FaultTrigger {
  if (text === 'always') return { always: true };
  const [name, value] = text.split(':');
  const n = Number(value);
  if (name === 'every' && Number.isInteger(n) && n >= 1) return { every: n };
  if (name === 'p' && n >= 0 && n <= 1) return { probability: n };
  throw new FaultSpecError(`bad trigger "${text}" in "${part}": use always, every:N (N ≥ 1) or p:0..1`);
}

/** Checks a plan given as data (from a scenario file); returns the problems, each naming the rule. */
export function validateFaultRules(rules: unknown): string[] {
  if (!Array.isArray(rules)) return ['must be an array of fault rules'];
  const problems: string[] = [];
  rules.forEach((r, i) => {
    const rule = r as Partial<FaultRule>;
    if (!rule || typeof rule !== 'object') problems.push(`[${i}] must be an object`);
    else if (!FAULT_KINDS.includes(rule.kind as FaultKind))
      problems.push(`[${i}].kind "${String(rule.kind)}" is not a fault kind`);
    else {
      const w = rule.when as Record<string, unknown> | undefined;
      const ok =
        !!w &&
        (w.always === true ||
          (Number.isInteger(w.every) && (w.every as number) >= 1) ||
          (typeof w.probability === 'number' && w.probability >= 0 && w.probability <= 1));
      if (!ok) problems.push(`[${i}].when must be {"always":true}, {"every":N≥1} or {"probability":0..1}`);
    }
  });
  return problems;
}

/**
 * Decides, request by request, which faults fire. Counts requests per meter; probabilities draw from the
 * meter's seeded generator so a run is reproducible.
 */
export class FaultPlan {
  readonly rules: readonly FaultRule[];
  #requests = 0;

  constructor(
    rules: readonly FaultRule[],
    readonly random: SeededRandom,
  ) {
    this.rules = rules;
  }

  /** Call once per request the meter would answer; returns the rules that fire for it. */
  next(): FaultRule[] {
    this.#requests += 1;
    return this.rules.filter((rule) => {
      const w = rule.when;
      if ('always' in w) return true;
      if ('every' in w) return this.#requests % w.every === 0;
      return this.random.next() < w.probability;
    });
  }
}

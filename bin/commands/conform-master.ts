import { InvalidArgumentError, Option } from 'commander';
import type { MasterRoleOptions } from '../../harness/conformance/master/run-master-role.ts';
import { intArg } from './meters.ts';

/** The flags `meterlab conform --role master` adds, as commander gives them. */
export interface MasterRoleFlags {
  a1?: string;
  a2?: number;
  trigger?: string;
  meterPort?: number;
  meterLine?: string;
  confirmTimeout?: number;
  confirmLimit?: number;
  heartbeat?: number;
  idleLimit?: number;
  forwardWait?: number;
  triggerTimeout?: number;
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0 && n <= 86_400))
    throw new InvalidArgumentError('must be seconds, more than 0');
  return n;
}

function areaCode(value: string): string {
  if (!/^\d{4}$/.test(value)) throw new InvalidArgumentError('must be 4 decimal digits, e.g. 0171');
  return value;
}

/** The master role's options (added to `meterlab conform`). */
export function masterRoleOptions(): Option[] {
  return [
    new Option(
      '--a1 <area>',
      'master role: area code A1 of the simulated concentrator; concentrator role: its A1 (needed with tcp:)',
    ).argParser(areaCode),
    new Option(
      '--a2 <n>',
      'master role: terminal address A2 (1-65535); concentrator role: its A2 (needed with tcp:)',
    ).argParser(intArg(1, 65535)),
    new Option(
      '--trigger <command>',
      'master role: shell command that makes the master read the meter ({meter} {concentrator} {a1} {a2} {port} {protocol})',
    ),
    new Option('--meter-port <n>', 'master role: concentrator port of the simulated meter').argParser(
      intArg(1, 31),
    ),
    new Option('--meter-line <line>', "master role: the meter's line the forward must ask for (2400-8E1)"),
    new Option('--confirm-timeout <ms>', 'master role: wait for a confirm').argParser(intArg(50, 600_000)),
    new Option('--confirm-limit <ms>', 'master role: a confirm later than this is non-strict').argParser(
      intArg(1, 600_000),
    ),
    new Option(
      '--heartbeat <s>',
      'master role: heartbeat period the master expects; concentrator role: the period it is configured with',
    ).argParser(positiveSeconds),
    new Option(
      '--idle-limit <s>',
      'master role: how long a silent connection is watched (G376M-3.2)',
    ).argParser(intArg(1, 86_400)),
    new Option(
      '--forward-wait <ms>',
      'master role: wait for the forward request after the trigger',
    ).argParser(intArg(50, 600_000)),
    new Option('--trigger-timeout <ms>', 'master role: how long the trigger command may run').argParser(
      intArg(50, 3_600_000),
    ),
  ];
}

/** The harness's master-role options from the flags (seconds become ms). */
export function masterRoleFlags(flags: MasterRoleFlags): MasterRoleOptions {
  return {
    a1: flags.a1,
    a2: flags.a2,
    trigger: flags.trigger,
    meterPort: flags.meterPort,
    meterLine: flags.meterLine,
    confirmTimeoutMs: flags.confirmTimeout,
    confirmLimitMs: flags.confirmLimit,
    heartbeatPeriodMs: flags.heartbeat === undefined ? undefined : flags.heartbeat * 1000,
    idleLimitMs: flags.idleLimit === undefined ? undefined : flags.idleLimit * 1000,
    forwardWaitMs: flags.forwardWait,
    triggerTimeoutMs: flags.triggerTimeout,
  };
}

/** Help text of the master role (appended to `meterlab conform --help`). */
export const MASTER_ROLE_HELP = `
Master role: meterlab logs in to your master station as concentrator A1/A2 with a simulated meter behind it.
The idle case (G376M-3.2) watches a silent connection for --idle-limit seconds (default 300): leave it out with
--cases '!G376M-3.2' for a quick run. The G376M-7.* cases need --trigger.
  meterlab conform --role master --target tcp:127.0.0.1:9093 --a1 0171 --a2 2082 --meter 101001 \\
    --trigger 'curl -s "http://platform/api/read?c={concentrator}&m={meter}"' --junit master.xml`;

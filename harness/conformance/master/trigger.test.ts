import { describe, expect, it } from 'vitest';
import { fillTemplate, printedValues, shellTrigger, type TriggerVars } from './trigger.ts';

const vars: TriggerVars = {
  meter: '00000000101001',
  concentrator: '017102082',
  a1: '0171',
  a2: '2082',
  port: '1',
  protocol: 'cjt188',
};

describe('master trigger', () => {
  it('fills every placeholder and leaves other braces alone', () => {
    expect(fillTemplate('read {concentrator}/{meter} a1={a1} a2={a2} p{port} {protocol} {other}', vars)).toBe(
      'read 017102082/00000000101001 a1=0171 a2=2082 p1 cjt188 {other}',
    );
  });

  it('finds the reading in JSON fields first, else in the text', () => {
    expect(printedValues('{"meter":"00000000101001","value":123.45,"unit":"m3"}')).toEqual([123.45]);
    expect(printedValues('{"ConcentratorNo":"101","AccumVal":7.5,"IsDownCommand":true}')).toEqual([7.5]);
    expect(printedValues('017102082 / 00000000101001: 12.3 m3')).toEqual([17102082, 101001, 12.3, 3]);
    expect(printedValues('')).toEqual([]);
  });

  it('runs a shell command and reports its exit status and output', async () => {
    const out = await shellTrigger('echo {meter}; echo oops >&2; exit 3', { timeoutMs: 5000 }).run(vars);
    expect(out).toEqual({ exitCode: 3, stdout: '00000000101001\n', stderr: 'oops\n' });
  });

  it('kills a command that runs past its timeout', async () => {
    const out = await shellTrigger('sleep 5', { timeoutMs: 100 }).run(vars);
    expect(out.exitCode).toBeNull();
    expect(out.signal).toBe('SIGTERM');
  });
});

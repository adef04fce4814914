import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LOGINS_PER_MINUTE, hostOf, LoginRate } from './login-rate.ts';

describe('LoginRate', () => {
  it('admits up to the limit per host in a minute, counts hosts apart, and opens a new window after a minute', () => {
    const rate = new LoginRate(2);
    expect([rate.admit('10.0.0.1', 0), rate.admit('10.0.0.1', 10), rate.admit('10.0.0.1', 20)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(rate.admit('10.0.0.2', 30)).toBe(true);
    expect(rate.admit('10.0.0.1', 59_999)).toBe(false);
    expect(rate.admit('10.0.0.1', 60_000)).toBe(true);
  });

  it('forgets hosts whose window ended', () => {
    const rate = new LoginRate(5);
    for (let i = 0; i < 100; i++) rate.admit(`10.0.0.${i}`, 0);
    expect(rate.hosts).toBe(100);
    rate.admit('10.0.1.1', 60_000);
    expect(rate.hosts).toBe(1);
  });

  it('rejects a limit that is not a positive integer, naming the option', () => {
    expect(() => new LoginRate(0)).toThrow(/"maxLoginsPerMinute" must be a positive integer, got 0/);
    expect(new LoginRate().maxPerMinute).toBe(DEFAULT_MAX_LOGINS_PER_MINUTE);
  });

  it('takes the host from host:port, IPv6 included', () => {
    expect(hostOf('127.0.0.1:4059')).toBe('127.0.0.1');
    expect(hostOf('::ffff:10.0.0.1:4059')).toBe('::ffff:10.0.0.1');
    expect(hostOf('memory pair')).toBe('memory pair');
  });
});

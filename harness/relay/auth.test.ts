import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkUpgrade, presentedToken, redactUrl } from './auth.ts';

function req(url: string, headers: Record<string, string> = {}): IncomingMessage {
  return { url, headers } as unknown as IncomingMessage;
}

describe('checkUpgrade', () => {
  it('accepts everything when neither token nor origins are configured', () => {
    expect(checkUpgrade(req('/'), {})).toEqual({ ok: true });
  });

  it('takes the token from the Bearer header or the token query parameter', () => {
    expect(presentedToken(req('/', { authorization: 'Bearer abc' }))).toEqual({
      token: 'abc',
      source: 'header',
    });
    expect(presentedToken(req('/ws?x=1&token=a%20b'))).toEqual({ token: 'a b', source: 'query' });
    expect(presentedToken(req('/'))).toEqual({ token: undefined, source: 'none' });
    expect(checkUpgrade(req('/?token=abc'), { token: 'abc' })).toEqual({ ok: true });
    expect(checkUpgrade(req('/', { authorization: 'bearer abc' }), { token: 'abc' })).toEqual({ ok: true });
  });

  it('refuses a missing or wrong token with 401', () => {
    expect(checkUpgrade(req('/'), { token: 'abc' })).toMatchObject({ ok: false, status: 401 });
    expect(checkUpgrade(req('/?token=abd'), { token: 'abc' })).toMatchObject({ ok: false, status: 401 });
    expect(checkUpgrade(req('/?token=abcd'), { token: 'abc' })).toMatchObject({ ok: false, status: 401 });
    expect(checkUpgrade(req('/', { authorization: 'Basic abc' }), { token: 'abc' })).toMatchObject({
      status: 401,
    });
  });

  it('lets a request in when either the header or the query token is right (the documented rule)', () => {
    // A proxy's own Authorization header must not shut out a browser's right ?token= (issue 13 item 9).
    const wrongHeader = req('/?token=abc', { authorization: 'Bearer proxy-secret' });
    expect(checkUpgrade(wrongHeader, { token: 'abc' })).toEqual({ ok: true });
    const wrongQuery = req('/?token=nope', { authorization: 'Bearer abc' });
    expect(checkUpgrade(wrongQuery, { token: 'abc' })).toEqual({ ok: true });
    const bothWrong = req('/?token=nope', { authorization: 'Bearer nope' });
    expect(checkUpgrade(bothWrong, { token: 'abc' })).toEqual({
      ok: false,
      status: 401,
      reason: 'wrong token (header and query)',
    });
  });

  it('refuses an origin outside the list with 403 and lets requests without Origin through', () => {
    const options = { allowedOrigins: ['https://meters.example', 'http://localhost:8080/'] };
    expect(checkUpgrade(req('/', { origin: 'https://meters.example' }), options)).toEqual({ ok: true });
    expect(checkUpgrade(req('/', { origin: 'http://LOCALHOST:8080' }), options)).toEqual({ ok: true });
    expect(checkUpgrade(req('/', { origin: 'https://evil.example' }), options)).toMatchObject({
      status: 403,
    });
    expect(checkUpgrade(req('/'), options)).toEqual({ ok: true });
  });

  it('masks the token in URLs for logs', () => {
    expect(redactUrl('/?a=1&token=secret&b=2')).toBe('/?a=1&token=***&b=2');
  });
});

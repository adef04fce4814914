/**
 * Who may open a WebSocket to the relay: an optional bearer token and an optional list of allowed browser
 * origins. Checked on the HTTP upgrade request, before any WebSocket exists, so a refused peer gets a plain
 * HTTP status (401 or 403) and costs the relay nothing more.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The access rules. With neither field set every upgrade is accepted. */
export interface AuthOptions {
  /**
   * Shared secret. A peer presents it as `Authorization: Bearer <token>` (scripts) or as the `token` query
   * parameter, `ws://host:port/?token=<token>` (browsers, which cannot set headers on a WebSocket).
   */
  token?: string;
  /**
   * Origins (`scheme://host[:port]`, compared case-insensitively) whose pages may connect. A request with no
   * `Origin` header is not from a browser page and is let through: origin checks protect users' browsers
   * from other sites, they cannot authenticate scripts (which may send any Origin) — that is the token's job.
   */
  allowedOrigins?: readonly string[];
}

/** The verdict on one upgrade request. `reason` is safe to log: it never contains the token. */
export type AuthResult = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/** Where the token was found, for logging without the secret. */
export type TokenSource = 'header' | 'query' | 'none';

/**
 * Finds the token a request presents: the `Authorization: Bearer` header first, then `?token=`.
 * @internal exported for tests and logging
 */
export function presentedToken(req: IncomingMessage): { token: string | undefined; source: TokenSource } {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return { token: match[1], source: 'header' };
  }
  const query = new URL(req.url ?? '/', 'http://relay.invalid').searchParams.get('token');
  if (query !== null) return { token: query, source: 'query' };
  return { token: undefined, source: 'none' };
}

/**
 * Every token a request presents: the `Authorization: Bearer` header's and the `token` query parameter's. A
 * reverse proxy may add an `Authorization` header of its own (its Basic credentials, or a bearer for another
 * service) to a browser's request that carries the relay's token in the query, so neither place may veto the other.
 * @internal exported for tests
 */
export function presentedTokens(req: IncomingMessage): { token: string; source: 'header' | 'query' }[] {
  const found: { token: string; source: 'header' | 'query' }[] = [];
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) found.push({ token: match[1], source: 'header' });
  }
  const query = new URL(req.url ?? '/', 'http://relay.invalid').searchParams.get('token');
  if (query !== null) found.push({ token: query, source: 'query' });
  return found;
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length === y.length) return timingSafeEqual(x, y);
  // timingSafeEqual needs equal lengths; comparing y with itself keeps the time independent of a's length.
  timingSafeEqual(y, y);
  return false;
}

/** Origins are compared as `scheme://host[:port]` in lower case; a trailing slash is ignored. */
function normaliseOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}

/**
 * Decides whether an upgrade request may proceed. Never throws.
 * - 401 when a token is configured and the request presents none, or none that is right (a request may present
 *   one in the header and one in the query; either being right is enough);
 * - 403 when `allowedOrigins` is set and the request's `Origin` is not in it.
 */
export function checkUpgrade(req: IncomingMessage, options: AuthOptions): AuthResult {
  if (options.allowedOrigins !== undefined) {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const allowed = options.allowedOrigins.map(normaliseOrigin);
      if (!allowed.includes(normaliseOrigin(origin))) {
        return { ok: false, status: 403, reason: `origin ${JSON.stringify(origin)} is not allowed` };
      }
    }
  }
  if (options.token !== undefined) {
    const presented = presentedTokens(req);
    if (presented.length === 0) {
      return {
        ok: false,
        status: 401,
        reason: 'no token: send "Authorization: Bearer <token>" or "?token=<token>"',
      };
    }
    // Rule (README "Tokens"): a request is let in when any token it presents is right. Both are compared, in
    // constant time, so a request with two tokens takes as long whichever is right.
    const right = presented.map(({ token }) => sameSecret(token, options.token as string));
    if (!right.includes(true)) {
      return {
        ok: false,
        status: 401,
        reason: `wrong token (${presented.map(({ source }) => source).join(' and ')})`,
      };
    }
  }
  return { ok: true };
}

/** The request URL with any `token` parameter masked, for log lines. */
export function redactUrl(url: string | undefined): string {
  return (url ?? '/').replace(/([?&]token=)[^&]*/gi, '$1***');
}

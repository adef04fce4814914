/**
 * The HTTP side of the web console (issue 12): the console page at `/`, the legacy ClickToCopy page at
 * `/legacy`, and their static assets, served by the relay on its own port next to the WebSocket upgrade.
 *
 * Everything is plain files read once at creation (no build step, no CDN, nothing fetched from a network):
 * the pages and scripts in `assets/`, and uPlot's browser bundle and stylesheet from the installed `uplot`
 * package. A request names an asset from a fixed table, never a path, so no URL can reach another file.
 *
 * Access follows the WebSocket rules of `harness/relay/auth.ts`:
 * - with a token, a page is refused (401) unless the request presents it (`?token=` or a Bearer header); the
 *   page then hands the `?token=` of its own URL to its WebSocket, where the relay checks it again;
 * - with allowed origins, a request whose `Origin` header is not one of them is refused (403). Browsers send
 *   `Origin` on cross-site requests and leave it off top-level navigation, so opening the page by its URL works
 *   and another site cannot read it with `fetch`.
 * Assets (scripts, styles) are the same for every installation and carry no meter data, so they are served
 * without the token: the token then never appears in an asset URL, a cache or a log line of one.
 * Every answer says `Referrer-Policy: no-referrer` so the token in a page URL does not leak to another site.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AuthOptions, checkUpgrade } from '../relay/auth.ts';

/** What the console handler needs to know: the relay's own access rules. */
export interface ConsoleHandlerOptions extends AuthOptions {
  /** Folder of the console's own files. @defaultValue the `assets/` folder beside this module */
  assetsDir?: string;
}

/**
 * Handles one HTTP request if it is for the console; returns false (without touching `res`) when the path is
 * not the console's, so the caller can answer it (the relay: 426 Upgrade Required).
 */
export type ConsoleHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

interface Asset {
  body: Buffer;
  type: string;
  /** Pages obey the token; assets do not (see the module comment). */
  page: boolean;
}

const TYPES = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  png: 'image/png',
} as const;

/** The console's own files: URL path → file in `assetsDir`. */
const OWN_FILES: Readonly<Record<string, { file: string; type: keyof typeof TYPES; page?: true }>> = {
  '/': { file: 'console.html', type: 'html', page: true },
  '/legacy': { file: 'legacy.html', type: 'html', page: true },
  '/assets/console.css': { file: 'console.css', type: 'css' },
  '/assets/console.js': { file: 'console.js', type: 'js' },
  '/assets/connection.js': { file: 'connection.js', type: 'js' },
  '/assets/i18n.js': { file: 'i18n.js', type: 'js' },
  '/assets/legacy.js': { file: 'legacy.js', type: 'js' },
};

/** uPlot's browser build (an IIFE that defines `window.uPlot`) and its stylesheet, from the installed package. */
const UPLOT_FILES: Readonly<Record<string, { file: string; type: keyof typeof TYPES }>> = {
  '/assets/uplot/uPlot.iife.min.js': { file: 'dist/uPlot.iife.min.js', type: 'js' },
  '/assets/uplot/uPlot.min.css': { file: 'dist/uPlot.min.css', type: 'css' },
};

const DEFAULT_ASSETS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'assets');

/** Where the installed uplot package is (its package.json has no `exports`, so its folder is found by name). */
function uplotDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('uplot/package.json'));
}

/**
 * Builds the handler, reading every file now (a missing file is a broken installation: better to fail at
 * startup than on the first visit).
 * @throws Error naming the file that cannot be read.
 */
export function createConsoleHandler(options: ConsoleHandlerOptions = {}): ConsoleHandler {
  const assetsDir = options.assetsDir ?? DEFAULT_ASSETS_DIR;
  const assets = new Map<string, Asset>();
  const load = (path: string, file: string, type: keyof typeof TYPES, page: boolean) => {
    try {
      assets.set(path, { body: readFileSync(file), type: TYPES[type], page });
    } catch (error) {
      throw new Error(`the web console cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
  };
  for (const [path, a] of Object.entries(OWN_FILES))
    load(path, join(assetsDir, a.file), a.type, a.page === true);
  const uplot = uplotDir();
  for (const [path, a] of Object.entries(UPLOT_FILES)) load(path, join(uplot, a.file), a.type, false);
  const auth: AuthOptions = { token: options.token, allowedOrigins: options.allowedOrigins };

  return (req, res) => {
    const path = pathOf(req.url);
    if (path === '/favicon.ico') {
      // Browsers ask for it on every page; the console has none. No content, rather than a 426 in the log.
      res.writeHead(204, { ...COMMON_HEADERS, 'Cache-Control': 'max-age=86400' }).end();
      return true;
    }
    const asset = path === undefined ? undefined : assets.get(path === '/index.html' ? '/' : path);
    if (!asset) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, TYPES.html, 'only GET and HEAD are served here\n', { Allow: 'GET, HEAD' });
      return true;
    }
    const verdict = checkUpgrade(req, asset.page ? auth : { allowedOrigins: auth.allowedOrigins });
    if (!verdict.ok) {
      const headers: Record<string, string> =
        verdict.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="meterlab relay"' } : {};
      send(
        res,
        verdict.status,
        'text/plain; charset=utf-8',
        refusal(verdict.status, verdict.reason),
        headers,
      );
      return true;
    }
    const headers: Record<string, string> = {
      'Content-Length': String(asset.body.length),
      // Pages change with the token in their URL and must not be kept; assets change only with a new version.
      'Cache-Control': asset.page ? 'no-store' : 'no-cache',
    };
    if (asset.page) headers['Content-Security-Policy'] = contentSecurityPolicy(req);
    res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': asset.type, ...headers });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  };
}

const COMMON_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
} as const;

/**
 * Scripts, styles and connections from this origin only (the WebSocket by its ws:/wss: URL of the same host),
 * no inline script, no framing.
 */
function contentSecurityPolicy(req: IncomingMessage): string {
  const host = req.headers.host;
  const ws = host && /^[A-Za-z0-9.:[\]-]+$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${ws}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function refusal(status: number, reason: string): string {
  const what = status === 401 ? 'this page needs the relay token: open it as /?token=<token>' : 'not allowed';
  return `meterlab console: ${status} ${what} (${reason})\n`;
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'Content-Type': type,
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(body);
}

/** The path of a request URL without query, or undefined for a URL that is not a plain path. */
function pathOf(url: string | undefined): string | undefined {
  if (url === undefined || !url.startsWith('/')) return undefined;
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/** Parses "HOST:PORT" (or ":PORT", or "PORT") into an endpoint, naming the flag when it is malformed. */
export function parseEndpoint(
  text: string,
  flag: string,
  defaultHost = '127.0.0.1',
): { host: string; port: number } {
  const match = /^(?:(.*):)?(\d+)$/.exec(text.trim());
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port > 65535)
    throw new TypeError(`${flag} must be HOST:PORT (e.g. 127.0.0.1:9093), got "${text}"`);
  return { host: match[1] || defaultHost, port };
}

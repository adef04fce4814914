/**
 * The id an error reply echoes when the request's own id is not a valid one (issue 13 item 9: ids of up to
 * 64 KiB — the whole `maxPayload` — were sent back as they came, so one bad message cost its full size again on
 * the way out, and a log or page printing it).
 *
 * Rule (README "Error replies"): a valid request id (1–128 characters without control characters,
 * `protocols/point-read/fields.ts`) is echoed exactly, so the client can match the reply; any other string id is
 * echoed as its first {@link REPLY_ID_KEEP} characters, control characters replaced by `?`, followed by `…` when
 * it was longer, and the reply's `message` says so (the flag: `(id shortened from N characters)`). The shortened
 * id is itself a valid id, so a strict client still decodes the reply.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** Characters of an invalid id kept in a reply. */
export const REPLY_ID_KEEP = 64;

/** What to echo for `id`, and the note to add to the reply's message when it was changed. */
export function replyId(id: string): { id: string; note?: string } {
  const valid = id.length >= 1 && id.length <= 128 && !CONTROL.test(id);
  CONTROL.lastIndex = 0;
  if (valid) return { id };
  const kept = id.slice(0, REPLY_ID_KEEP).replace(CONTROL, '?');
  if (id.length <= REPLY_ID_KEEP)
    return kept === id ? { id } : { id: kept, note: '(id shown with ? for control characters)' };
  return {
    id: `${kept}…`,
    note: `(id shortened from ${id.length.toLocaleString('en-US')} characters)`,
  };
}

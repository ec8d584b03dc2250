// Quoting what a client sent inside an answer, bounded: an error message names the offending key or value, but a
// 1 MB key must not come back as a 1 MB response (nor a thousand keys as a thousand quotes).

/** Characters of one quoted value; longer ones are cut and say how long they were. */
export const ECHOED_CHARS = 64;
/** Items of a list quoted in one message; the rest are counted. */
export const ECHOED_ITEMS = 10;

/** `text` in single quotes, control characters escaped, cut to `max` characters: 'abc…' (1048576 characters). */
export function echo(text: string, max = ECHOED_CHARS): string {
  const inner = JSON.stringify(text.length <= max ? text : text.slice(0, max)).slice(1, -1);
  return text.length <= max ? `'${inner}'` : `'${inner}…' (${text.length} characters)`;
}

/** A list of client strings as JSON, each cut to ECHOED_CHARS: ["a","b…"] (and 12 more). */
export function echoList(items: readonly string[], maxItems = ECHOED_ITEMS): string {
  const shown = items.slice(0, maxItems).map((s) => (s.length <= ECHOED_CHARS ? s : `${s.slice(0, ECHOED_CHARS)}…`));
  return `${JSON.stringify(shown)}${items.length > maxItems ? ` (and ${items.length - maxItems} more)` : ''}`;
}

/** A message built from client input, cut to `max` characters. */
export function bounded(message: string, max = 1_000): string {
  return message.length <= max ? message : `${message.slice(0, max)}… (cut at ${max} of ${message.length} characters)`;
}

/** Text safe in an HTTP header value: printable ASCII only (Node refuses anything else), other characters escaped. */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

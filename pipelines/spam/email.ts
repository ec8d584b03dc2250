// RFC 822 / MIME parsing of a raw email: unfolded headers, encoded words, multipart trees flattened to their
// leaf parts, and text parts decoded (base64, quoted-printable, charsets). Written for speed (it runs per
// request when the model serves) and for messy real mail: nothing here throws on malformed input.
import { TextDecoder } from 'node:util';

export interface MimePart {
  /** Lower-case media type, `text/plain` when the part does not say. */
  contentType: string;
  /** Lower-case charset parameter, or null. */
  charset: string | null;
  /** Lower-case Content-Transfer-Encoding, `7bit` when absent. */
  transferEncoding: string;
  /** Attachment file name, or null. */
  filename: string | null;
  /** Decoded text of text/* parts; null for other parts (images, archives, ...). */
  text: string | null;
}

export interface ParsedEmail {
  /** Header values by lower-case name, in order of appearance, unfolded (encoded words left as they are). */
  headers: Map<string, string[]>;
  /** Subject with encoded words decoded. */
  subject: string;
  /** From header with encoded words decoded. */
  from: string;
  /** Leaf parts in document order (multipart containers flattened, attached messages included). */
  parts: MimePart[];
}

const MAX_DEPTH = 8;
const MAX_PARTS = 64;
/** Longest text kept per part: enough for any real message body, and it bounds the work on hostile input. */
const MAX_PART_CHARS = 256 * 1024;

/** First value of a header (lower-case name), or ''. */
export function header(email: ParsedEmail, name: string): string {
  return email.headers.get(name)?.[0] ?? '';
}

export function parseEmail(raw: string): ParsedEmail {
  let text = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw;
  // An mbox "From " separator line is not a header.
  if (text.startsWith('From ')) {
    const nl = text.indexOf('\n');
    text = nl < 0 ? '' : text.slice(nl + 1);
  }
  const { headers, body } = splitHeaders(text);
  const parts: MimePart[] = [];
  collectParts(headers, body, 0, 'text/plain', parts);
  return {
    headers,
    subject: decodeWords(headers.get('subject')?.[0] ?? ''),
    from: decodeWords(headers.get('from')?.[0] ?? ''),
    parts,
  };
}

/** Splits a message (or a part) at its first empty line and parses the header block. */
export function splitHeaders(text: string): { headers: Map<string, string[]>; body: string } {
  const headers = new Map<string, string[]>();
  // A part that starts with an empty line has no headers; one whose first line is not a header is all body.
  if (text.startsWith('\n') || !/^[!-9;-~]+:/.test(text)) return { headers, body: text.startsWith('\n') ? text.slice(1) : text };
  const end = text.indexOf('\n\n');
  const block = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 2);
  let name = '';
  let value = '';
  const flush = () => {
    if (!name) return;
    const list = headers.get(name);
    if (list) list.push(value.trim());
    else headers.set(name, [value.trim()]);
  };
  for (const line of block.split('\n')) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // A folded continuation: unfolding removes only the line break.
      if (name) value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    flush();
    name = line.slice(0, colon).trim().toLowerCase();
    value = line.slice(colon + 1);
  }
  flush();
  return { headers, body };
}

export interface ContentType {
  type: string;
  params: Map<string, string>;
}

/** `text/html; charset="utf-8"` → { type: 'text/html', params: { charset: 'utf-8' } }; RFC 2231 `name*=` values decoded. */
export function parseContentType(value: string, fallback = 'text/plain'): ContentType {
  const params = new Map<string, string>();
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const re = /;\s*([^=\s;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value))) {
    let key = m[1].toLowerCase();
    let v = m[2].trim();
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    if (key.endsWith('*')) {
      // RFC 2231: charset'language'percent-encoded
      key = key.slice(0, -1);
      const q = /^([^']*)'[^']*'(.*)$/.exec(v);
      if (q) v = decodeBytes(percentBytes(q[2]), q[1] || 'utf-8');
    }
    if (!params.has(key)) params.set(key, v);
  }
  return { type: /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(type) ? type : fallback, params };
}

function collectParts(headers: Map<string, string[]>, body: string, depth: number, defaultType: string, out: MimePart[]): void {
  if (out.length >= MAX_PARTS) return;
  const ct = parseContentType(headers.get('content-type')?.[0] ?? '', defaultType);
  const boundary = ct.params.get('boundary');
  if (ct.type.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
    const childDefault = ct.type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    for (const chunk of splitMultipart(body, boundary)) {
      const part = splitHeaders(chunk);
      collectParts(part.headers, part.body, depth + 1, childDefault, out);
    }
    return;
  }
  if (ct.type === 'message/rfc822' && depth < MAX_DEPTH) {
    const inner = splitHeaders(body);
    const subject = decodeWords(inner.headers.get('subject')?.[0] ?? '');
    if (subject) out.push({ contentType: 'text/plain', charset: null, transferEncoding: '7bit', filename: null, text: subject });
    collectParts(inner.headers, inner.body, depth + 1, 'text/plain', out);
    return;
  }
  const transferEncoding = (headers.get('content-transfer-encoding')?.[0] ?? '7bit').trim().toLowerCase();
  const disposition = parseContentType(headers.get('content-disposition')?.[0] ?? '', 'inline');
  const rawName = disposition.params.get('filename') ?? ct.params.get('name') ?? null;
  const charset = ct.params.get('charset')?.trim().toLowerCase() || null;
  let text: string | null = null;
  if (ct.type.startsWith('text/') || ct.type.startsWith('multipart/')) {
    const content = body.length > MAX_PART_CHARS ? body.slice(0, MAX_PART_CHARS) : body;
    text = decodeBody(content, transferEncoding, charset);
  }
  out.push({ contentType: ct.type.startsWith('multipart/') ? 'text/plain' : ct.type, charset, transferEncoding, filename: rawName === null ? null : decodeWords(rawName), text });
}

/** The bodies between `--boundary` delimiter lines, up to the closing `--boundary--` (or the end). */
export function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = '--' + boundary;
  const parts: string[] = [];
  let at = findDelimiter(body, delimiter, 0);
  while (at >= 0 && parts.length < MAX_PARTS) {
    const afterDelimiter = at + delimiter.length;
    if (body.startsWith('--', afterDelimiter)) break;
    const lineEnd = body.indexOf('\n', afterDelimiter);
    if (lineEnd < 0) break;
    const next = findDelimiter(body, delimiter, lineEnd);
    parts.push(next < 0 ? body.slice(lineEnd + 1) : body.slice(lineEnd + 1, Math.max(lineEnd + 1, next - 1)));
    at = next;
  }
  return parts;
}

/** Index of the next line that is `delimiter` (optionally followed by `--` or white space), at or after `from`. */
function findDelimiter(body: string, delimiter: string, from: number): number {
  let i = from === 0 && body.startsWith(delimiter) ? 0 : body.indexOf('\n' + delimiter, from);
  while (i >= 0) {
    const start = i === 0 && body.startsWith(delimiter) ? 0 : i + 1;
    // The delimiter, optionally `--`, then only white space to the line end: not a longer boundary that starts with this one.
    let end = start + delimiter.length;
    if (body.startsWith('--', end)) end += 2;
    while (body.charCodeAt(end) === 32 || body.charCodeAt(end) === 9) end++;
    if (end >= body.length || body.charCodeAt(end) === 10) return start;
    i = body.indexOf('\n' + delimiter, start + 1);
  }
  return -1;
}

/** Text of a part body after its transfer encoding and charset. */
export function decodeBody(body: string, transferEncoding: string, charset: string | null): string {
  if (transferEncoding === 'base64') return decodeBytes(Buffer.from(body, 'base64'), charset);
  if (transferEncoding === 'quoted-printable') return decodeBytes(quotedPrintableBytes(body), charset);
  // 7bit/8bit/binary: the text is already characters (the raw message was decoded when it was read).
  return body;
}

const HEX: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) t[65 + i] = t[97 + i] = 10 + i;
  return t;
})();

/** Quoted-printable (RFC 2045 §6.7) to bytes; characters beyond ASCII in the input are kept as UTF-8. */
export function quotedPrintableBytes(text: string, underscoreIsSpace = false): Uint8Array {
  const out = new Uint8Array(text.length * 3);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 61 /* = */) {
      const h = HEX[text.charCodeAt(i + 1)] ?? -1;
      const l = HEX[text.charCodeAt(i + 2)] ?? -1;
      if (h >= 0 && l >= 0) {
        out[n++] = (h << 4) | l;
        i += 2;
        continue;
      }
      // A soft line break: '=' then optional white space then the line end.
      let j = i + 1;
      while (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9) j++;
      if (text.charCodeAt(j) === 10 || j >= text.length) {
        i = j;
        continue;
      }
      out[n++] = 61;
    } else if (c === 95 /* _ */ && underscoreIsSpace) {
      out[n++] = 32;
    } else if (c < 128) {
      out[n++] = c;
    } else {
      n += Buffer.from(text[i], 'utf8').copy(out, n);
    }
  }
  return out.subarray(0, n);
}

const decoders = new Map<string, TextDecoder>();

/** Bytes in `charset` (any label the WHATWG Encoding standard knows) to text; unknown labels read as windows-1252. */
export function decodeBytes(bytes: Uint8Array, charset: string | null): string {
  const label = (charset ?? 'utf-8').replace(/^["']|["']$/g, '').toLowerCase();
  let decoder = decoders.get(label);
  if (!decoder) {
    try {
      decoder = new TextDecoder(label);
    } catch {
      decoder = decoders.get('windows-1252') ?? new TextDecoder('windows-1252');
    }
    decoders.set(label, decoder);
  }
  return decoder.decode(bytes);
}

function percentBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const h = HEX[text.charCodeAt(i + 1)] ?? -1;
    const l = HEX[text.charCodeAt(i + 2)] ?? -1;
    if (text[i] === '%' && h >= 0 && l >= 0) {
      out.push((h << 4) | l);
      i += 2;
    } else out.push(text.charCodeAt(i) & 0xff);
  }
  return Uint8Array.from(out);
}

/** RFC 2047 encoded words (`=?utf-8?B?...?=`, `=?iso-8859-1?Q?...?=`) decoded; white space between two of them dropped. */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g, (whole, charset: string, enc: string, data: string) => {
      const cs = charset.split('*')[0];
      const bytes = enc.toLowerCase() === 'b' ? Buffer.from(data, 'base64') : quotedPrintableBytes(data, true);
      return decodeBytes(bytes, cs);
    });
}

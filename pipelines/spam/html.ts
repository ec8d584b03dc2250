// HTML to plain text for tokenizing: tags, comments, scripts and styles removed, entities decoded; the tag
// names and link targets are kept aside because they say a lot about spam.

export interface HtmlText {
  text: string;
  /** Lower-case names of the elements used, each once, in order of first use. */
  tags: string[];
  /** href/src attribute values, in order. */
  links: string[];
}

const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', trade: '™', euro: '€', pound: '£',
  yen: '¥', cent: '¢', sect: '§', deg: '°', plusmn: '±', times: '×', divide: '÷', middot: '·', bull: '•', hellip: '…',
  mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«', raquo: '»', iexcl: '¡', iquest: '¿',
  agrave: 'à', aacute: 'á', acirc: 'â', atilde: 'ã', auml: 'ä', aring: 'å', aelig: 'æ', ccedil: 'ç', egrave: 'è', eacute: 'é',
  ecirc: 'ê', euml: 'ë', igrave: 'ì', iacute: 'í', icirc: 'î', iuml: 'ï', ntilde: 'ñ', ograve: 'ò', oacute: 'ó', ocirc: 'ô',
  otilde: 'õ', ouml: 'ö', oslash: 'ø', ugrave: 'ù', uacute: 'ú', ucirc: 'û', uuml: 'ü', yacute: 'ý', yuml: 'ÿ', szlig: 'ß',
  Agrave: 'À', Aacute: 'Á', Acirc: 'Â', Auml: 'Ä', Ccedil: 'Ç', Eacute: 'É', Egrave: 'È', Ntilde: 'Ñ', Ouml: 'Ö', Uuml: 'Ü',
};

/** Decodes named (common set), decimal and hexadecimal character references; unknown names stay as written. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z][a-zA-Z0-9]{1,31});?/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : ' ';
    }
    return NAMED[ref] ?? NAMED[ref.toLowerCase()] ?? whole;
  });
}

// One pass: comments, script/style elements (with content), and tags (attributes may quote '>').
const MARKUP = /<!--[\s\S]*?(?:-->|$)|<(script|style)\b[^>]*>[\s\S]*?(?:<\/\1\s*>|$)|<!?\/?([a-zA-Z][a-zA-Z0-9:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/gi;
const LINK = /\b(?:href|src|background|action)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi;

export function htmlToText(html: string): HtmlText {
  const tags: string[] = [];
  const seen = new Set<string>();
  const links: string[] = [];
  const stripped = html.replace(MARKUP, (whole, block: string | undefined, tag: string | undefined, attrs: string | undefined) => {
    const name = (block ?? tag ?? '').toLowerCase();
    if (name && !seen.has(name)) {
      seen.add(name);
      tags.push(name);
    }
    if (attrs && attrs.length > 4) {
      LINK.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = LINK.exec(attrs))) links.push(decodeEntities(m[1] ?? m[2] ?? m[3]));
    }
    return ' ';
  });
  return { text: decodeEntities(stripped), tags, links };
}

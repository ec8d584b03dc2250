// Tokens of a parsed email: words of the body text (HTML stripped), and prefixed tokens for what the headers
// and the MIME structure say (subject words, sender domain, mailer, content types, link domains, HTML tags).
import { header, type ParsedEmail } from './email.ts';
import { htmlToText } from './html.ts';

/** Changes whenever the tokens change, so that a vocabulary cannot be used with a featurizer that disagrees. */
export const TOKENIZER_VERSION = 'spam-tokens/1';

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu;
const URL_HOST = /\b(?:https?|ftp):\/\/(?:[^\s/@"'<>]*@)?([a-z0-9.-]+)/gi;
const EMAIL_HOST = /\b[\w.+-]+@([a-z0-9-]+(?:\.[a-z0-9-]+)+)/gi;
const MONEY = /[$£€]\s?\d/g;
const SHOUT = /!{2,}/g;
/** Headers whose mere presence is informative (replies, lists, bulk-mail software). */
const PRESENCE = ['in-reply-to', 'references', 'list-id', 'list-unsubscribe', 'reply-to', 'x-mailing-list', 'mailing-list', 'x-priority', 'x-msmail-priority', 'organization', 'user-agent', 'x-mailer'];

/** Lower-case words of `text`; long digit runs become `#num`, and over-long runs (encoded junk) are dropped. */
export function words(text: string, out: string[] = [], prefix = ''): string[] {
  const lower = text.toLowerCase();
  WORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = WORD.exec(lower))) {
    const w = m[0];
    if (w.length > 30) continue;
    out.push(prefix + (w.length > 4 && /^\d+$/.test(w) ? '#num' : w));
  }
  return out;
}

function host(name: string): string {
  const h = name.toLowerCase().replace(/\.+$/, '');
  return h.startsWith('www.') ? h.slice(4) : h;
}

/** The tokens of an email, with repeats (their counts are the term frequencies). */
export function emailTokens(email: ParsedEmail): string[] {
  const out: string[] = [];
  words(email.subject, out, 'subject:');
  const fromAddress = /<([^>]*)>/.exec(email.from)?.[1] ?? email.from;
  const fromDomain = /@([a-z0-9.-]+)/i.exec(fromAddress)?.[1];
  if (fromDomain) {
    const d = host(fromDomain);
    out.push('from:' + d, 'fromtld:' + d.slice(d.lastIndexOf('.') + 1));
  }
  const displayName = email.from.replace(/<[^>]*>/g, ' ').replace(/\S+@\S+/g, ' ');
  words(displayName, out, 'fromname:');
  const mailer = header(email, 'x-mailer') || header(email, 'user-agent');
  if (mailer) words(mailer.split(/[\s/(]/).slice(0, 2).join(' '), out, 'mailer:');
  for (const name of PRESENCE) if (email.headers.has(name)) out.push('header:' + name);

  for (const part of email.parts) {
    out.push('ctype:' + part.contentType);
    if (part.charset) out.push('charset:' + part.charset);
    if (part.transferEncoding !== '7bit') out.push('cte:' + part.transferEncoding);
    if (part.filename !== null) out.push('attach:' + part.contentType);
    if (part.text === null) continue;
    let text = part.text;
    if (part.contentType === 'text/html' || (part.contentType === 'text/plain' && /<(?:html|body|table|font|div|p|br|a)\b/i.test(text.slice(0, 2000)))) {
      const html = htmlToText(text);
      for (const tag of html.tags) out.push('html:' + tag);
      for (const link of html.links) {
        const m = /^(?:https?|ftp):\/\/(?:[^/@]*@)?([a-z0-9.-]+)/i.exec(link.trim());
        if (m) out.push('url:' + host(m[1]));
        else if (/^mailto:/i.test(link)) out.push('link:mailto');
      }
      text = html.text;
    }
    URL_HOST.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = URL_HOST.exec(text))) out.push('url:' + host(m[1]));
    EMAIL_HOST.lastIndex = 0;
    while ((m = EMAIL_HOST.exec(text))) out.push('mailto:' + host(m[1]));
    const money = text.match(MONEY);
    if (money) for (let i = 0; i < money.length; i++) out.push('shape:money');
    const shout = text.match(SHOUT);
    if (shout) for (let i = 0; i < shout.length; i++) out.push('shape:!!');
    words(text, out);
  }
  return out;
}

// The spam pipeline's email parsing and tokens, on hand-written messages covering the MIME cases real mail
// has: multipart/alternative, base64 and quoted-printable text, HTML-only bodies, folded and encoded headers.
import { describe, expect, it } from 'vitest';
import { decodeWords, header, parseContentType, parseEmail, splitMultipart } from '../../pipelines/spam/email.ts';
import { decodeEntities, htmlToText } from '../../pipelines/spam/html.ts';
import { emailTokens } from '../../pipelines/spam/tokenize.ts';

const alternative = `From sender@example.com  Mon Sep  2 12:00:00 2002
Return-Path: <sender@example.com>
From: "Ann Example" <ann@mail.Example.COM>
To: bob@example.org
Subject: Lunch
 tomorrow?
MIME-Version: 1.0
Content-Type: multipart/alternative;
	boundary="----=_NextPart_000"

This is a multi-part message in MIME format.

------=_NextPart_000
Content-Type: text/plain; charset=us-ascii

Shall we meet at noon?
------=_NextPart_000
Content-Type: text/html; charset=us-ascii

<html><body><p>Shall we meet at <b>noon</b>?</p></body></html>
------=_NextPart_000--
epilogue text that is not a part
`;

describe('parseEmail', () => {
  it('splits multipart/alternative into its text and HTML parts, skipping preamble and epilogue', () => {
    const email = parseEmail(alternative);
    expect(email.parts.map((p) => p.contentType)).toEqual(['text/plain', 'text/html']);
    expect(email.parts[0].text).toBe('Shall we meet at noon?');
    expect(email.parts[1].text).toBe('<html><body><p>Shall we meet at <b>noon</b>?</p></body></html>');
    expect(email.parts.every((p) => p.charset === 'us-ascii')).toBe(true);
  });

  it('unfolds headers folded over lines and ignores the mbox From line', () => {
    const email = parseEmail(alternative);
    expect(email.subject).toBe('Lunch tomorrow?');
    expect(header(email, 'content-type')).toBe('multipart/alternative;\tboundary="----=_NextPart_000"');
    expect(email.headers.has('from sender@example.com  mon sep  2 12')).toBe(false);
    expect(header(email, 'return-path')).toBe('<sender@example.com>');
  });

  it('decodes a base64 text part in its charset', () => {
    const body = Buffer.from('Grüße aus Köln – 5 € only', 'utf8').toString('base64').replace(/(.{20})/g, '$1\n');
    const email = parseEmail(`Subject: b64\nContent-Type: text/plain; charset="UTF-8"\nContent-Transfer-Encoding: base64\n\n${body}\n`);
    expect(email.parts[0].transferEncoding).toBe('base64');
    expect(email.parts[0].text).toBe('Grüße aus Köln – 5 € only');
  });

  it('decodes quoted-printable with soft line breaks in a Latin-1 charset', () => {
    const email = parseEmail('Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: Quoted-Printable\r\n\r\nCaf=E9 cr=E8me: a very long line that was wr=\r\napped, and 3D=3D3D.\r\n');
    expect(email.parts[0].text).toBe('Café crème: a very long line that was wrapped, and 3D=3D.\n');
  });

  it('strips an HTML-only body: tags, comments, scripts, styles removed; entities decoded; links kept', () => {
    const html = `<HTML><HEAD><STYLE>p { color: red }</STYLE><script type="text/javascript">alert("<b>x</b>")</script></HEAD>
<BODY><!-- tracking <img src="http://t.example/x.gif"> -->
<TABLE><TR><TD><FONT size=3D"4">Caf&eacute; &amp; cr&egrave;me &#8364;5 &#x41;&#66;C &nbsp;&bogus;</FONT></TD></TR></TABLE>
<A HREF=3D"http://WWW.Cheap-Meds.biz/buy?id=3D1">Click here</A> <img src=3D'http://img.example.net/a.gif'></BODY></HTML>`;
    const email = parseEmail(`From: x@spam.biz\nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n${html}`);
    const text = htmlToText(email.parts[0].text!);
    expect(text.text.replace(/\s+/g, ' ').trim()).toBe('Café & crème €5 ABC &bogus; Click here');
    expect(text.tags).toEqual(['html', 'head', 'style', 'script', 'body', 'table', 'tr', 'td', 'font', 'a', 'img']);
    expect(text.links).toEqual(['http://WWW.Cheap-Meds.biz/buy?id=1', 'http://img.example.net/a.gif']);
  });

  it('flattens nested multiparts, keeps attachment names, and reads attached messages', () => {
    const raw = `Subject: =?utf-8?B?UmU6IEdyw7zDn2U=?= =?iso-8859-1?Q?_caf=E9?=
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/alternative; boundary=outer-inner

--outer-inner
Content-Type: text/plain

plain body
--outer-inner--
--outer
Content-Type: application/pdf; name="=?utf-8?Q?r=C3=A9sum=C3=A9.pdf?="
Content-Disposition: attachment
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer
Content-Type: message/rfc822

Subject: forwarded one
Content-Type: text/plain

inner body
--outer--
`;
    const email = parseEmail(raw);
    expect(email.subject).toBe('Re: Grüße café');
    expect(email.parts.map((p) => [p.contentType, p.filename, p.text])).toEqual([
      ['text/plain', null, 'plain body'],
      ['application/pdf', 'résumé.pdf', null],
      ['text/plain', null, 'forwarded one'],
      ['text/plain', null, 'inner body'],
    ]);
  });

  it('survives malformed mail: no headers, a missing closing boundary, a boundary never used', () => {
    expect(parseEmail('just a body line\nand another').parts[0].text).toBe('just a body line\nand another');
    expect(parseEmail('').parts).toHaveLength(1);
    const unclosed = parseEmail('Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\nContent-Type: text/html\n\n<p>last</p>');
    expect(unclosed.parts.map((p) => p.text)).toEqual(['first', '<p>last</p>']);
    const unused = parseEmail('Content-Type: multipart/mixed; boundary=zzz\n\nno delimiter anywhere');
    expect(unused.parts).toEqual([]);
  });
});

describe('MIME helpers', () => {
  it('parses Content-Type parameters, quoted and RFC 2231-encoded', () => {
    const ct = parseContentType(`Text/HTML; charset="ISO-8859-1"; name*=utf-8''%E2%82%AC.txt; format=flowed`);
    expect(ct.type).toBe('text/html');
    expect(Object.fromEntries(ct.params)).toEqual({ charset: 'ISO-8859-1', name: '€.txt', format: 'flowed' });
    expect(parseContentType('garbage', 'text/plain').type).toBe('text/plain');
  });

  it('does not take a longer boundary for a shorter one', () => {
    expect(splitMultipart('--ab\n\none\n--abc\n\nnot a delimiter\n--ab--\n', 'ab')).toEqual(['\none\n--abc\n\nnot a delimiter']);
  });

  it.each([
    ['=?UTF-8?B?w6l0w6k=?=', 'été'],
    ['=?iso-8859-1?q?a_b=E9?= =?iso-8859-1?q?c?=', 'a bée'.replace('ée', 'éc')],
    ['plain', 'plain'],
    ['=?unknown-charset?Q?x=41?=', 'xA'],
  ])('decodes encoded words %s', (input, want) => {
    expect(decodeWords(input)).toBe(want);
  });

  it('decodes HTML entities, leaving unknown ones', () => {
    expect(decodeEntities('&lt;a&gt; &AMP; &#39;q&#x27; &copy &madeup; &#0;')).toBe("<a> & 'q' © &madeup;  ");
  });
});

describe('emailTokens', () => {
  it('prefixes header and structure tokens and lower-cases words', () => {
    const raw = `From: "Cheap Meds" <deals@WWW.Cheap-Meds.biz>
Subject: FREE pills!!!
X-Mailer: Microsoft Outlook Express 6.00
Reply-To: other@example.com
Content-Type: text/html; charset=windows-1252

<html><body><table><tr><td>Only $5 today!!! Visit <a href="http://www.cheap-meds.biz/x">our shop</a> 1234567</td></tr></table></body></html>`;
    const tokens = emailTokens(parseEmail(raw));
    expect(tokens).toEqual(expect.arrayContaining(['subject:free', 'subject:pills', 'from:cheap-meds.biz', 'fromtld:biz', 'fromname:cheap', 'fromname:meds', 'mailer:microsoft', 'mailer:outlook', 'header:reply-to', 'header:x-mailer', 'ctype:text/html', 'charset:windows-1252', 'html:table', 'url:cheap-meds.biz', 'shape:money', 'shape:!!', 'only', 'today', 'shop', '#num']));
    // Markup is not text: no tokens from tag names or attributes.
    expect(tokens).not.toContain('href');
    expect(tokens).not.toContain('td');
    expect(tokens.filter((t) => t === 'shape:!!')).toHaveLength(1);
  });
});

// Building the page from data without ever parsing it as markup: every string becomes a text node or an attribute
// value, so a node description or run tag like <img onerror=…> shows as the text it is.
export type Child = Node | string | number | null | undefined | false | Child[];

type Handler = (e: Event) => void;

export interface Props {
  [attr: string]: string | number | boolean | null | undefined | Record<string, Handler>;
  on?: Record<string, Handler>;
}

function append(parent: Node, c: Child): void {
  if (c === null || c === undefined || c === false) return;
  if (Array.isArray(c)) for (const x of c) append(parent, x);
  else parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
}

function setProps(e: Element, props: Props): void {
  for (const [k, v] of Object.entries(props)) {
    if (k === 'on') {
      for (const [type, h] of Object.entries(v as Record<string, Handler>)) e.addEventListener(type, h);
      continue;
    }
    // Handlers only through `on`: an attribute named on… set from data would be a script.
    if (/^on/i.test(k)) throw new Error(`refusing attribute ${k}`);
    if (v === null || v === undefined || v === false) continue;
    if (k === 'href' && !/^(#|api\/)/.test(String(v))) throw new Error('links go to views (#) or the API only');
    e.setAttribute(k, v === true ? '' : String(v));
  }
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  setProps(e, props);
  append(e, children);
  return e;
}

const SVG = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  setProps(e, props);
  append(e, children);
  return e;
}

export function replace(target: Element, ...children: Child[]): void {
  target.replaceChildren();
  append(target, children);
}

/** A value as text: strings as they are, everything else as JSON. */
export function text(v: unknown): string {
  if (v === null || v === undefined) return '-';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (!Number.isFinite(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}

export function formatDuration(start: number, end: number | null): string {
  if (end === null) return 'running';
  const ms = Math.max(0, end - start);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return s < 3600 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatTime(ms: number | null): string {
  if (ms === null) return '-';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** A table from rows of cells; the header cells say what each column is for screen readers too. */
export function table(headers: Child[], rows: Child[][], props: Props = {}): HTMLTableElement {
  return el('table', props, el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, rows.map((r) => el('tr', {}, r.map((c) => el('td', {}, c))))));
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return el('section', { 'aria-label': title }, el('h2', {}, title), children);
}

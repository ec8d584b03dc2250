// Handlebars setup: templates from src/codegen/templates, no HTML escaping (every value is pre-escaped by view.ts).
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';

const hb = Handlebars.create();
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);

const dir = new URL('./templates/', import.meta.url);
const cache = new Map<string, HandlebarsTemplateDelegate>();

function source(name: string): string {
  return readFileSync(new URL(`${name}.hbs`, dir), 'utf8');
}

hb.registerPartial('nodeTable', source('nodeTable'));

export type TemplateName = 'pipeline' | 'model' | 'datasets' | 'parameters' | 'index';

export function render(name: TemplateName, view: object): string {
  let t = cache.get(name);
  if (!t) {
    t = hb.compile(source(name), { noEscape: true, strict: true, preventIndent: false });
    cache.set(name, t);
  }
  return t(view);
}

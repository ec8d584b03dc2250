// Writes docs/diagnostics.md: every KILN code of the catalogue with its severity, message and hint, and an example
// that triggers it. Examples are the diagnostic fixtures (test/fixtures/diagnostics/<case>/): their expected.txt is
// what kiln prints on that project, checked against kiln's real output by test/config/diagnostics.test.ts, so an
// example here cannot drift from kiln. A code no fixture triggers points at the tests that expect it.
import fs from 'node:fs';
import path from 'node:path';
import { catalogue } from '../../src/diagnostics/catalogue.ts';
import type { CodeDefinition } from '../../src/diagnostics/types.ts';
import { prose } from './markdown.ts';
import { repoRoot } from './repo.ts';

const casesDir = path.join(repoRoot, 'test', 'fixtures', 'diagnostics');

/** The catalogue's ranges (src/diagnostics/catalogue.ts), by their first digit. */
const RANGES: Record<string, string> = {
  '1': 'Configuration: reading and validating declaration files',
  '2': 'Compiler: checks, code generation and type-checking',
  '3': 'Runtime: running pipelines and datasets',
  '4': 'Tracking: the run store and git stamps',
  '5': 'ML: TensorFlow.js backends and training helpers',
  '6': 'Artifacts and serving',
  '7': 'GitOps: plan, report, publish and the registry',
  '8': 'kiln ui: the web app over a project and its run store',
  '9': 'Command line',
};

interface Example {
  name: string;
  command: string;
  /** What the case does to the project first, if anything. */
  setup?: string;
  output: string;
}

/** How a fixture case runs (test/helpers/cases.ts). */
interface CaseSpec {
  command?: string[];
  filter?: Record<string, string | string[]>;
  pad?: { file: string; bytes: number };
}

/** The command a reader would type to see a case's output. */
function commandOf(spec: CaseSpec): { command: string; setup?: string } {
  if (spec.filter) {
    // The case applies kiln run's node filter directly; the flags are the option names in kebab case.
    const { pipeline, ...filter } = spec.filter;
    const flags = Object.entries(filter).map(([k, v]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${[v].flat().join(',')}`);
    return { command: `kiln run ${pipeline} ${flags.join(' ')}`, setup: 'its node filter, which reports before anything runs' };
  }
  const command = `kiln ${(spec.command ?? ['validate']).join(' ')}`;
  // A file over the size limit is not committed: the case grows it with comment lines first.
  return spec.pad ? { command, setup: `after growing ${spec.pad.file} to ${spec.pad.bytes} bytes` } : { command };
}

/** The fixture case that shows a code best: the one whose output starts with it, else the first that contains it. */
function examples(): Map<string, Example> {
  const found = new Map<string, { example: Example; first: boolean }>();
  const names = fs.readdirSync(casesDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const name of names) {
    const expected = path.join(casesDir, name, 'expected.txt');
    if (!fs.existsSync(expected)) continue;
    const output = fs.readFileSync(expected, 'utf8');
    const specFile = path.join(casesDir, name, 'case.json');
    const spec = fs.existsSync(specFile) ? (JSON.parse(fs.readFileSync(specFile, 'utf8')) as CaseSpec) : {};
    const codes = [...output.matchAll(/(?:error|warning) (KILN\d{4}):/g)].map((m) => m[1]);
    codes.forEach((code, i) => {
      const had = found.get(code);
      if (!had || (i === 0 && !had.first)) found.set(code, { example: { name, ...commandOf(spec), output }, first: i === 0 });
    });
  }
  return new Map([...found].map(([code, f]) => [code, f.example]));
}

function testFiles(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'fixtures' && e.name !== 'node_modules') testFiles(p, out);
    else if (e.name.endsWith('.test.ts') && e.name !== 'codes.test.ts' && e.name !== 'coverage.test.ts') out.push(p);
  }
  return out.sort();
}

interface Mentions {
  tests: string[];
  /** The first test line that expects the code with its rendered message ("KILN7006: cannot publish: ..."). */
  line: string | null;
}

/** For each code, the tests that expect it: "file › test name" of the it() before each mention. */
function triggeringTests(): Map<string, Mentions> {
  const byCode = new Map<string, Mentions>();
  for (const file of testFiles(path.join(repoRoot, 'test'))) {
    const text = fs.readFileSync(file, 'utf8');
    const rel = path.relative(repoRoot, file).split(path.sep).join('/');
    for (const m of text.matchAll(/KILN\d{4}/g)) {
      const before = text.slice(0, m.index);
      const names = [...before.matchAll(/\b(?:it|test)(?:\.each\([^)]*\))?\(\s*(['"`])(.+?)\1/g)];
      const test = names.length ? `${rel} › ${names[names.length - 1][2]}` : rel;
      const line = text.slice(before.lastIndexOf('\n') + 1, text.indexOf('\n', m.index)).trim();
      const had = byCode.get(m[0]) ?? { tests: [], line: null };
      // A test named after the code is about it; one that only passes by it comes later.
      if (!had.tests.includes(test)) had.tests[test.includes(m[0]) ? 'unshift' : 'push'](test);
      const rendered = text.startsWith(': ', m.index! + m[0].length) && !/^(it|test|describe)\b/.test(line);
      if (had.line === null && rendered) had.line = line;
      byCode.set(m[0], had);
    }
  }
  return byCode;
}

function entry(code: string, def: CodeDefinition, example: Example | undefined, mentions: Mentions | undefined): string[] {
  const tests = mentions?.tests ?? [];
  const out = [`### ${code}`, '', `**${def.severity}**: ${prose(def.message)}`, '', `**How to fix it:** ${prose(def.hint)}`, ''];
  if (example) {
    out.push(
      `**Example** ([test/fixtures/diagnostics/${example.name}](../test/fixtures/diagnostics/${example.name})): \`${example.command}\` in that project${example.setup ? ` (${example.setup})` : ''} prints`,
      '',
      '```text',
      example.output.trimEnd(),
      '```',
      '',
    );
  }
  else if (mentions?.line) out.push('**Expected by a test as:**', '', '```ts', mentions.line.length > 400 ? `${mentions.line.slice(0, 400)}…` : mentions.line, '```', '');
  if (tests.length) out.push(`Triggered in: ${tests.slice(0, 3).map((t) => `\`${t}\``).join('; ')}.`, '');
  return out;
}

export function diagnosticsIndex(): string {
  const found = examples();
  const tests = triggeringTests();
  const codes = Object.keys(catalogue).sort();
  const withExample = codes.filter((c) => found.has(c)).length;
  const body: string[] = [];
  let range = '';
  for (const code of codes) {
    if (code[4] !== range) {
      range = code[4];
      body.push(`## KILN${range}xxx: ${RANGES[range] ?? 'Other'}`, '');
    }
    body.push(...entry(code, catalogue[code as keyof typeof catalogue], found.get(code), tests.get(code)));
  }
  return [
    '<!-- Generated by `npm run docs` from the diagnostic catalogue and test/fixtures/diagnostics (scripts/docs/diagnostics-index.ts). DO NOT EDIT. -->',
    '# Diagnostics index',
    '',
    'Every diagnostic kiln reports has a stable code. Each entry gives the message (`{name}` marks what is filled in),',
    'the hint kiln prints with it, and an example: a small project under `test/fixtures/diagnostics/` and what kiln',
    'prints on it, character for character (the test suite checks that output against kiln). Codes without such a',
    'project name the tests that trigger them. `--json` gives the same diagnostics as data (`code`, `severity`,',
    '`message`, `hint`, `location`). Exit code 1 means an error diagnostic was reported.',
    '',
    `${codes.length} codes; ${withExample} with a worked example.`,
    '',
    ...body,
  ].join('\n');
}

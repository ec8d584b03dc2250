// Diagnostic fixture cases: one folder per failure under test/fixtures/diagnostics/<case>/, holding a minimal
// project, an optional case.json saying how to run it, and expected.txt, the output a person sees (colour off,
// paths relative to the case folder).
import fs from 'node:fs';
import path from 'node:path';
import { analyzeProject } from '../../src/project.ts';
import { filterNodes, type NodeFilter } from '../../src/ir/filter.ts';
import { isKilnError } from '../../src/diagnostics/diagnostic.ts';
import { report } from '../../src/cli/io.ts';
import { fixturesDir, copyProject } from './project.ts';
import { memoryIo, runMain } from './cli.ts';

export const casesDir = path.join(fixturesDir, 'diagnostics');

export interface CaseSpec {
  /** The kiln command run in the case folder (default: validate); `--project .` is added. */
  command?: string[];
  /** Instead of a command: resolve the project and apply this run filter to one pipeline with filterNodes. */
  filter?: NodeFilter & { pipeline: string };
  /** Grow a file to this many bytes in a temporary copy first (files over the size limit are not committed). */
  pad?: { file: string; bytes: number };
  /** Expected exit code (default 1). */
  exit?: number;
}

export function caseNames(): string[] {
  return fs
    .readdirSync(casesDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

export function readSpec(name: string): CaseSpec {
  const file = path.join(casesDir, name, 'case.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as CaseSpec) : {};
}

/** Runs a case and returns its exit code and the text a person would see on stderr. */
export async function runCase(name: string): Promise<{ code: number; output: string }> {
  const spec = readSpec(name);
  let dir = path.join(casesDir, name);
  if (spec.pad) {
    dir = copyProject(dir, `kiln-case-${name}-`);
    const file = path.join(dir, spec.pad.file);
    const text = fs.readFileSync(file, 'utf8');
    // YAML comment lines, so that only the size is wrong.
    const line = `#${'x'.repeat(99)}\n`;
    const missing = spec.pad.bytes - Buffer.byteLength(text);
    fs.writeFileSync(file, text + line.repeat(Math.floor(missing / line.length)) + '#'.repeat(missing % line.length));
  }
  let code: number;
  let output: string;
  if (spec.filter) {
    const { pipeline, ...filter } = spec.filter;
    const analyzed = await analyzeProject(dir);
    const m = memoryIo({ cwd: dir });
    const p = analyzed.ir?.pipelines[pipeline];
    if (!analyzed.ok || !p) throw new Error(`case ${name}: the project must be valid and have pipeline '${pipeline}'`);
    try {
      const nodes = filterNodes(p.nodes, filter);
      m.io.err(`selected: ${nodes.map((n) => n.name).join(', ')}\n`);
      code = 0;
    } catch (e) {
      if (!isKilnError(e)) throw e;
      code = report(m.io, e.diagnostics, { root: dir });
    }
    output = m.stderr();
  } else {
    const r = await runMain([...(spec.command ?? ['validate']), '--project', '.'], { cwd: dir });
    code = r.code;
    output = r.stderr + r.stdout;
  }
  // Absolute paths (a missing kiln.yaml is named by its full path) depend on where the repository lives.
  output = output.split(dir).join('<project>');
  return { code, output };
}

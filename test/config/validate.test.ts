// Schema validation of declaration files: each ajv error becomes one located diagnostic in the user's words.
import { describe, expect, it } from 'vitest';
import { parseYamlFile } from '../../src/config/yaml.ts';
import { validateDeclaration } from '../../src/config/validate.ts';
import type { DeclarationKind } from '../../src/config/schemas.ts';

function check(kind: DeclarationKind, text: string): string[] {
  const { file, diagnostics } = parseYamlFile('f.yaml', text);
  expect(diagnostics).toEqual([]);
  return validateDeclaration(kind, file).map((d) => `${d.location?.line}:${d.location?.column} ${d.code} ${d.message}`).sort();
}

const node = (extra: string) => `pipeline: p\nnodes:\n  - name: n\n    run: ./nodes.ts#f\n${extra}`;

describe('validateDeclaration', () => {
  it.each<[string, DeclarationKind, string, string[]]>([
    ['a valid pipeline', 'pipeline', node('    inputs: { a: x, b: params:k.j }\n    outputs: [y, z]\n    tags: [t1, t-2]\n'), []],
    ['a misspelt key, with a suggestion', 'pipeline', node('    inptus: x\n'), ["5:5 KILN1007 unknown key 'inptus' in node 'n'. did you mean 'inputs'?"]],
    ['an unknown key with nothing close', 'pipeline', node('    colour: red\n'), ["5:5 KILN1007 unknown key 'colour' in node 'n'."]],
    ['an unknown top-level key', 'pipeline', 'pipeline: p\nnodes: []\nmodels: {}\n', ["3:1 KILN1007 unknown key 'models' in the pipeline file. did you mean 'model'?"]],
    ['a missing required key', 'pipeline', 'pipeline: p\nnodes:\n  - name: n\n', ["3:5 KILN1006 node 'n' is missing the required key 'run'"]],
    ['a missing key at the top', 'pipeline', 'nodes: []\n', ["1:1 KILN1006 the pipeline file is missing the required key 'pipeline'"]],
    ['a number where bindings go', 'pipeline', node('    outputs: 42\n'), ["5:14 KILN1005 'outputs' of node 'n' must be a string, a list or a mapping, but is the integer 42"]],
    ['an empty value where bindings go (marked where the value belongs)', 'pipeline', node('    inputs:\n'), ["5:12 KILN1005 'inputs' of node 'n' must be a string, a list or a mapping, but is null (empty)"]],
    ['a bad dataset name in the single form', 'pipeline', node('    outputs: my-data\n'), ['5:14 KILN1008 "my-data" in \'outputs\' of node \'n\' is not a valid dataset reference']],
    ['a bad item in the list form, by position', 'pipeline', node('    outputs: [ok, 2x, 3]\n'), ['5:19 KILN1008 "2x" in output #2 of node \'n\' is not a valid dataset reference', "5:23 KILN1005 output #3 of node 'n' must be a string, but is the integer 3"]],
    ['a bad argument name and a bad value in the map form', 'pipeline', node('    inputs: { 1st: a, b: c-d }\n'), ['5:15 KILN1008 "1st" in \'inputs\' of node \'n\' is not a valid argument name', '5:26 KILN1008 "c-d" in input \'b\' of node \'n\' is not a valid dataset reference']],
    ['a reserved argument name', 'pipeline', node('    inputs: { __proto__: a }\n'), ['5:15 KILN1008 "__proto__" in \'inputs\' of node \'n\' is not a valid argument name']],
    ['a bad run reference', 'pipeline', 'pipeline: p\nnodes:\n  - run: nodes.ts#f\n', ["3:10 KILN1010 bad function reference 'nodes.ts#f'"]],
    ['a run reference leaving the project layout', 'pipeline', 'pipeline: p\nnodes:\n  - run: /abs/nodes.ts#f\n', ["3:10 KILN1010 bad function reference '/abs/nodes.ts#f'"]],
    ['tags that are not a list', 'pipeline', node('    tags: one\n'), ["5:11 KILN1005 'tags' of node 'n' must be a list, but is the string \"one\""]],
    ['a bad tag', 'pipeline', node('    tags: [ok, "no spaces"]\n'), ['5:16 KILN1008 "no spaces" in tag #2 of node \'n\' is not a valid tag']],
    ['a reuse with an unknown key', 'pipeline', 'pipeline: p\nnodes:\n  - pipeline: q\n    namspace: x\n', ["4:5 KILN1007 unknown key 'namspace' in reuse of pipeline 'q'. did you mean 'namespace'?"]],
    ['a bad gate threshold', 'pipeline', 'pipeline: p\nnodes: []\nmodel:\n  name: m\n  input: a\n  output: b\n  gate: { metrics: { accuracy: "about 0.9" } }\n', ['7:32 KILN1008 "about 0.9" in \'model.gate.metrics.accuracy\' is not a valid gate threshold']],
    ['an unknown dataset type, with suggestions', 'catalog', 'x:\n  type: csvv\n  path: a.csv\n', ["2:9 KILN1009 unknown dataset type 'csvv' for 'x'. did you mean 'csv'?"]],
    ['a catalog entry that is not a mapping', 'catalog', 'x: json\n', ["1:4 KILN1005 dataset 'x' must be a mapping, but is the string \"json\""]],
    ['a reserved dataset name', 'catalog', 'constructor:\n  type: memory\n', ['1:1 KILN1008 "constructor" in the catalog is not a valid dataset name']],
    ['a too long dataset name', 'catalog', `${'d'.repeat(201)}:\n  type: memory\n`, [`1:1 KILN1008 key '${'d'.repeat(201)}' in the catalog must NOT have more than 200 characters`]],
    ['a csv delimiter of two characters', 'catalog', 'x:\n  type: csv\n  path: a.csv\n  options: { delimiter: ";;" }\n', ["4:25 KILN1008 'options.delimiter' of dataset 'x' must NOT have more than 1 characters"]],
    ['parameters of every JSON type but null', 'parameters', 'a: 1\nb: [x, 2, true, {c: d}]\nc: {d: {e: null}}\n', ["3:12 KILN1005 parameter 'c.d.e' must be a string, a number, true or false, a list or a mapping, but is null (empty)"]],
    ['a parameter key with a dot', 'parameters', 'a.b: 1\n', ['1:1 KILN1008 "a.b" in the parameters file is not a valid parameter key']],
    ['a nested reserved parameter key', 'parameters', 'a:\n  __proto__: 1\n', ['2:3 KILN1008 "__proto__" in parameter \'a\' is not a valid parameter key']],
    ['a project name with a space', 'project', 'name: my project\n', ['1:7 KILN1008 "my project" in \'name\' in kiln.yaml is not a valid project name']],
    ['an unknown backend', 'project', 'name: p\nbackend: tpu\n', ["2:10 KILN1008 'backend' in kiln.yaml is the string \"tpu\", which is not one of: auto, tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu. did you mean 'cpu'?"]],
    ['a misspelt project key', 'project', 'name: p\ngenerate: out\n', ["2:1 KILN1007 unknown key 'generate' in kiln.yaml. did you mean 'generated'?"]],
    ['a bad hook reference', 'project', 'name: p\nhooks: [hooks.ts]\n', ["2:9 KILN1010 bad function reference 'hooks.ts'"]],
  ])('%s', (_what, kind, text, expected) => {
    expect(check(kind, text)).toEqual([...expected].sort());
  });

  it('takes an empty catalog or parameters file as declaring nothing, but not an empty pipeline or project file', () => {
    expect(check('catalog', '# no datasets yet\n')).toEqual([]);
    expect(check('parameters', '')).toEqual([]);
    expect(check('pipeline', '# nothing\n')).toEqual(['1:1 KILN1005 the pipeline file must be a mapping, but is null (empty)']);
    expect(check('project', '')).toEqual(['1:1 KILN1005 kiln.yaml must be a mapping, but is null (empty)']);
  });

  it('reports every error of a file, not just the first', () => {
    const text = 'pipeline: p\nnodes:\n  - name: a\n    inptus: x\n  - name: b\n    run: bad\n  - run: ./n.ts#c\n    tags: x\n';
    expect(check('pipeline', text).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['3:5 KILN1006', '4:5 KILN1007', '6:10 KILN1010', '8:11 KILN1005']);
  });

  it('names the key range of an unknown key and the value range of a wrong value', () => {
    const { file } = parseYamlFile('p.yaml', node('    inptus: x\n    tags: 7\n'));
    const [unknown, wrong] = validateDeclaration('pipeline', file);
    expect(unknown.location).toEqual({ file: 'p.yaml', line: 5, column: 5, endLine: 5, endColumn: 11, pointer: '/nodes/0/inptus' });
    expect(wrong.location).toEqual({ file: 'p.yaml', line: 6, column: 11, endLine: 6, endColumn: 12, pointer: '/nodes/0/tags' });
    expect(unknown.hint).toBe('Valid keys here: name, run, inputs, outputs, tags, namespace, description, inference, pod, resources, retries, timeout.');
  });
});

// kiln.yaml `objects:` (the OCI repository sharing node outputs) and its environment override KILN_OBJECTS: a
// malformed one is a located diagnostic (KILN1040 at its line; KILN1041 naming the variable), never a failure later.
import { describe, expect, it } from 'vitest';
import { analyzeProject } from '../../src/project.ts';
import { objectsRemoteOf, objectsSettingOf } from '../../src/config/objects-remote.ts';
import { isKilnError } from '../../src/diagnostics/diagnostic.ts';
import { makeProject } from '../helpers/project.ts';
import { runMain } from '../helpers/cli.ts';

const project = (kiln: string) =>
  makeProject({
    'kiln.yaml': kiln,
    'pipelines/demo/pipeline.yaml': 'pipeline: demo\nnodes:\n  - name: make\n    run: ./nodes.ts#make\n    outputs: numbers\n',
    'pipelines/demo/nodes.ts': 'export function make(): number[] {\n  return [1, 2, 3];\n}\n',
  });

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (isKilnError(e)) return `${e.diagnostics[0].code}: ${e.diagnostics[0].message}`;
    throw e;
  }
  return 'no error';
};

describe('objects: in kiln.yaml', () => {
  it.each([
    ['s3://bucket/cache', 'the scheme s3:// is not supported (only oci://)'],
    ['ghcr.io/acme/cache', 'it is not an oci:// URL'],
    ['oci://ghcr.io', 'names no repository'],
    ['oci://ghcr.io/Acme/cache', "the repository path component 'Acme' is not lowercase"],
    ['oci://ghcr.io/acme/cache:latest', 'it names a tag or digest'],
  ])('refuses %s with KILN1040 at its line, saying why', async (value, why) => {
    const root = project(`name: team\nobjects: ${value}\n`);
    const analyzed = await analyzeProject(root);
    expect(analyzed.diagnostics.map((d) => `${d.code} ${d.location?.file}:${d.location?.line}:${d.location?.column}`)).toEqual(['KILN1040 kiln.yaml:2:10']);
    expect(analyzed.diagnostics[0].message).toContain(why);
    const r = await runMain(['validate', '--project', root], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`kiln.yaml:2:10 error KILN1040: objects '${value}' is not an OCI repository`);
  });

  it('accepts an OCI repository, and none at all (the default: outputs stay local)', async () => {
    expect((await analyzeProject(project('name: team\nobjects: oci://127.0.0.1:5000/acme/cache\n'))).diagnostics).toEqual([]);
    const none = await analyzeProject(project('name: team\n'));
    expect(none.ir?.settings.objects).toBeNull();
    expect(objectsRemoteOf(none.ir!.settings, {})).toBeNull();
  });

  it('KILN_OBJECTS overrides kiln.yaml; a malformed one is KILN1041 naming the variable', async () => {
    const root = project('name: team\nobjects: oci://ghcr.io/acme/cache\n');
    const settings = (await analyzeProject(root)).ir!.settings;
    expect(objectsRemoteOf(settings, {})).toEqual({ registry: 'ghcr.io', repository: 'acme/cache' });
    expect(objectsRemoteOf(settings, { KILN_OBJECTS: 'oci://127.0.0.1:5000/ci/cache' })).toEqual({ registry: '127.0.0.1:5000', repository: 'ci/cache' });
    expect(objectsRemoteOf(settings, { KILN_OBJECTS: '' })).toEqual({ registry: 'ghcr.io', repository: 'acme/cache' });
    expect(codeOf(() => objectsRemoteOf(settings, { KILN_OBJECTS: 'https://ghcr.io/acme/cache' }))).toBe("KILN1041: KILN_OBJECTS='https://ghcr.io/acme/cache' is not an OCI repository kiln can share outputs through: the scheme https:// is not supported (only oci://)");
    // A command that reads kiln.yaml without validating it (kiln runs get) still refuses a malformed one, unlocated.
    expect(objectsSettingOf(root)).toBe('oci://ghcr.io/acme/cache');
    expect(codeOf(() => objectsRemoteOf({ objects: 'oci://ghcr.io/acme/cache@sha256:' + 'a'.repeat(64) }, {}))).toContain('KILN1040');
  });

  it('kiln run refuses a malformed KILN_OBJECTS before running anything (exit 1, no stack trace)', async () => {
    const root = project('name: team\n');
    const before = process.env.KILN_OBJECTS;
    process.env.KILN_OBJECTS = 'oci://nowhere';
    try {
      const r = await runMain(['run', '--project', root], { cwd: root });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('KILN1041');
      expect(r.stderr).not.toContain('[1/1]');
    } finally {
      if (before === undefined) delete process.env.KILN_OBJECTS;
      else process.env.KILN_OBJECTS = before;
    }
  });
});

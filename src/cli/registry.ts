// `kiln registry list|show|alias|rollback`: the registered models, their versions and aliases.
import path from 'node:path';
import type { Command } from 'commander';
import type { CommandModule } from './main.ts';
import { EXIT_OK, handleFailure, type Io } from './io.ts';
import type { ModelDetail, RegisteredModel } from '../tracking/registry.ts';
import type { AliasMove } from '../gitops/registry.ts';
import type { Tracking } from '../tracking/index.ts';
import { diag, KilnError } from '../diagnostics/diagnostic.ts';

interface Common {
  project: string;
  json?: boolean;
}

function columns(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

const aliasText = (aliases: Record<string, number>) => Object.entries(aliases).map(([a, v]) => `${a}→v${v}`).join(', ') || '-';
const date = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

function listText(models: RegisteredModel[]): string {
  if (!models.length) return 'no registered models yet (kiln publish registers one)\n';
  return columns([['MODEL', 'LATEST', 'VERSIONS', 'ALIASES'], ...models.map((m) => [m.name, m.latestVersion ? `v${m.latestVersion}` : '-', String(m.versionCount), aliasText(m.aliases)])]);
}

function showText(m: ModelDetail): string {
  const head = `${m.name}: ${m.versionCount} version(s); aliases: ${aliasText(m.aliases)}\n\n`;
  // Versions that are not what main declared say so, under the table, in full.
  const overridden = m.versions.filter((v) => v.overrides.length).map((v) => `v${v.version} published with --allow-overrides: ${v.overrides.join('; ')}\n`);
  return head + columns([['VERSION', 'ALIASES', 'CREATED', 'COMMIT', 'RUN', 'ARTIFACT'], ...m.versions.map((v) => [`v${v.version}`, v.aliases.join(', ') || '-', date(v.createdAt), v.commit?.slice(0, 7) ?? '-', v.runId ?? '-', v.artifactPath])]) + (overridden.length ? `\n${overridden.join('')}` : '');
}

const moveText = (m: AliasMove, verb: string) => `${verb} ${m.model}@${m.alias}: ${m.previous === null ? '(unset)' : `v${m.previous}`} → v${m.version} (${m.artifact})\n`;

/** Runs `fn` with the project's tracking store; reading commands get null instead of creating a store. */
async function withStore<T>(io: Io, opts: Common, create: boolean, fn: (t: Tracking | null, root: string) => Promise<T>): Promise<T> {
  const root = path.resolve(io.cwd, opts.project);
  const { projectSettings } = await import('../gitops/registry.ts');
  const settings = await projectSettings(root);
  const { openProjectTracking } = await import('../tracking/index.ts');
  const tracking = await openProjectTracking(root, { create });
  try {
    return await fn(tracking, root);
  } finally {
    tracking?.close();
  }
}

/** The OCI target of kiln.yaml (then the registry is that repository, not the store), or null. */
async function ociTarget(io: Io, opts: Common): Promise<{ target: string; root: string } | null> {
  const root = path.resolve(io.cwd, opts.project);
  const { projectSettings } = await import('../gitops/registry.ts');
  const { isOciReference } = await import('../oci/reference.ts');
  const target = (await projectSettings(root)).publish.target;
  return target !== null && isOciReference(target) ? { target, root } : null;
}

async function ociRepository(target: string, model: string, push = false) {
  const { OciModelRepository } = await import('../gitops/oci-registry.ts');
  return new OciModelRepository(target, model, { push });
}

/** The models the project declares: an OCI registry is asked about those, as registries need not list repositories. */
async function declaredModels(root: string): Promise<string[]> {
  const { analyzeProject } = await import('../project.ts');
  const analyzed = await analyzeProject(root, { checks: false });
  if (!analyzed.ir) throw new KilnError(analyzed.diagnostics);
  return Object.values(analyzed.ir.pipelines).flatMap((p) => (p.model ? [p.model.name] : [])).sort();
}

function action<A extends unknown[]>(io: Io, setExit: (c: number | Promise<number>) => void, body: (...args: A) => Promise<void>) {
  return (...args: A) => {
    const opts = args.find((a): a is Common => typeof a === 'object' && a !== null && 'project' in a);
    setExit(
      body(...args).then(
        () => EXIT_OK,
        (e: unknown) => handleFailure(io, e, opts?.json),
      ),
    );
  };
}

const common = (cmd: Command) => cmd.option('--project <dir>', 'project root (the folder with kiln.yaml)', '.').option('--json', 'print JSON');

export const registryCommand: CommandModule = {
  register(program, io, setExit) {
    const registry = program.command('registry').description('registered models: versions published by kiln publish, and aliases such as production');
    const print = (json: boolean | undefined, value: unknown, text: string) => io.out(json ? JSON.stringify(value, null, 2) + '\n' : text);

    common(registry.command('list').description('list the registered models with their latest version and aliases')).action(
      action(io, setExit, async (opts: Common) => {
        const oci = await ociTarget(io, opts);
        if (oci) {
          const models: RegisteredModel[] = [];
          for (const name of await declaredModels(oci.root)) {
            const d = await (await ociRepository(oci.target, name)).detail();
            if (d) models.push({ name: d.name, createdAt: d.createdAt, description: d.description, latestVersion: d.latestVersion, versionCount: d.versionCount, aliases: d.aliases });
          }
          return print(opts.json, models, listText(models));
        }
        await withStore(io, opts, false, async (t) => {
          const models = t ? await t.registry.listModels() : [];
          print(opts.json, models, listText(models));
        });
      }),
    );

    common(registry.command('show <model>').description('show the versions of a model: run, commit, artifact and aliases')).action(
      action(io, setExit, async (model: string, opts: Common) => {
        const oci = await ociTarget(io, opts);
        if (oci) {
          const repo = await ociRepository(oci.target, model);
          const detail = await repo.detail();
          if (!detail) throw new KilnError(diag('KILN7057', { ref: repo.ref(), repository: repo.client.repository, registry: repo.client.registry, what: 'version', name: 'v1', available: '(none: nothing published yet)' }));
          return print(opts.json, detail, showText(detail));
        }
        await withStore(io, opts, false, async (t) => {
          if (!t) throw new KilnError(diag('KILN4012', { model, suggestion: '', available: '(none yet)' }));
          const detail = await t.registry.showModel(model);
          print(opts.json, detail, showText(detail));
        });
      }),
    );

    common(registry.command('alias <model> <alias> <version>').description('point an alias at a version (3 or v3) whose artifact is intact')).action(
      action(io, setExit, async (model: string, alias: string, version: string, opts: Common) => {
        const { moveAlias, parseVersion } = await import('../gitops/registry.ts');
        const oci = await ociTarget(io, opts);
        if (oci) {
          const n = parseVersion(model, version);
          const { checkAliasName } = await import('../tracking/registry.ts');
          checkAliasName(alias);
          const moved = await (await ociRepository(oci.target, model, true)).setAlias(alias, n);
          return print(opts.json, { model, alias, version: n, ...moved }, moveText({ model, alias, version: n, ...moved }, 'moved'));
        }
        await withStore(io, opts, true, async (t, root) => {
          const moved = await moveAlias(t!.registry, root, model, alias, parseVersion(model, version));
          print(opts.json, moved, moveText(moved, 'moved'));
        });
      }),
    );

    common(
      registry
        .command('rollback <model>')
        .description('move an alias back to the version it pointed at before the current one (or to --to)')
        .option('--alias <alias>', 'the alias to move back', 'production')
        .option('--to <version>', 'the version to move it to (3 or v3)'),
    ).action(
      action(io, setExit, async (model: string, opts: Common & { alias: string; to?: string }) => {
        const { rollbackAlias, parseVersion } = await import('../gitops/registry.ts');
        const oci = await ociTarget(io, opts);
        if (oci) {
          const moved = await (await ociRepository(oci.target, model, true)).rollback(opts.alias, opts.to === undefined ? undefined : parseVersion(model, opts.to));
          const move = { model, alias: opts.alias, ...moved };
          return print(opts.json, move, moveText(move, 'rolled back'));
        }
        await withStore(io, opts, true, async (t, root) => {
          const moved = await rollbackAlias(t!.registry, root, model, opts.alias, opts.to === undefined ? undefined : parseVersion(model, opts.to));
          print(opts.json, moved, moveText(moved, 'rolled back'));
        });
      }),
    );
  },
};

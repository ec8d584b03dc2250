// The model registry: registered models, numbered versions (each an artifact from a run at a commit) and aliases such as
// `production` that point at a version. Lives in the run store's database (migration 2); `kiln publish` and `kiln registry` use it.
import { diag, didYouMean, KilnError } from '../diagnostics/index.ts';
import { HASH_PATTERN } from './objects.ts';
import type { SqliteDatabase } from './sqlite.ts';

export interface NewModelVersion {
  model: string;
  /** Where the built artifact is (a path or URL, as the publisher chose). */
  artifactPath: string;
  artifactSha256: string;
  runId: string | null;
  commit: string | null;
  description?: string;
  createdAt?: number;
  /** Departures from the committed declarations that the publisher accepted (kiln publish --allow-overrides). */
  overrides?: string[];
}

/**
 * Puts the artifact of `version` in place before the version is committed (throwing registers nothing); returns
 * where it now is and how to take it back should the registration still fail.
 */
export type PlaceArtifact = (version: number) => { artifactPath: string; undo: () => void };

export interface ModelVersion {
  model: string;
  version: number;
  artifactPath: string;
  artifactSha256: string;
  runId: string | null;
  commit: string | null;
  createdAt: number;
  description: string | null;
  /** Departures from the committed declarations accepted when it was published (empty: none). */
  overrides: string[];
  /** Aliases pointing at this version, sorted. */
  aliases: string[];
}

export interface RegisteredModel {
  name: string;
  createdAt: number;
  description: string | null;
  latestVersion: number | null;
  versionCount: number;
  /** alias → version */
  aliases: Record<string, number>;
}

export interface ModelDetail extends RegisteredModel {
  /** Newest first. */
  versions: ModelVersion[];
}

export interface AliasChange {
  alias: string;
  /** null when the alias was removed. */
  version: number | null;
  changedAt: number;
}

export type ModelSelector = { kind: 'latest' } | { kind: 'version'; version: number } | { kind: 'alias'; alias: string };

export interface ModelRegistry {
  /** Adds the next version (1, 2, …) of `model`, registering the model on its first version. */
  registerVersion(v: NewModelVersion): Promise<ModelVersion>;
  /**
   * Registers `v` once per artifact digest: when `v.model` already has a version with `v.artifactSha256`, returns it
   * (`existing`), else places the artifact and adds the next version in the same write transaction, so that two
   * publishers never take one number and no version is committed without its artifact in place.
   */
  publishVersion(v: Omit<NewModelVersion, 'artifactPath'>, place: PlaceArtifact): Promise<{ version: ModelVersion; existing: boolean }>;
  /** Points `alias` at `version`; returns where it pointed before. */
  setAlias(model: string, alias: string, version: number): Promise<{ previous: number | null }>;
  removeAlias(model: string, alias: string): Promise<{ previous: number | null }>;
  /** `model`, `model@latest`, `model@v3` or `model@production`. */
  resolve(ref: string): Promise<ModelVersion>;
  getVersion(model: string, version: number): Promise<ModelVersion>;
  listModels(): Promise<RegisteredModel[]>;
  showModel(name: string): Promise<ModelDetail>;
  /** Every move of `alias`, oldest first: what a rollback reads. */
  aliasHistory(model: string, alias: string): Promise<AliasChange[]>;
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ALIAS_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const VERSION_REF = /^v(\d+)$/;

function checkModelName(name: string): void {
  if (!MODEL_NAME.test(name)) {
    throw new KilnError(diag('KILN4011', { what: 'model name', name, reason: 'a model name is letters, digits, dots, dashes and underscores, starting with a letter or digit', fix: 'Rename the model in the pipeline declaration (model.name).' }));
  }
}

export function checkAliasName(alias: string): void {
  const fix = 'Alias names start with a letter and hold letters, digits, - and _; v<number> and latest are taken by versions.';
  if (!ALIAS_NAME.test(alias)) throw new KilnError(diag('KILN4011', { what: 'alias', name: alias, reason: 'it is not a valid alias name', fix }));
  if (VERSION_REF.test(alias) || alias === 'latest') throw new KilnError(diag('KILN4011', { what: 'alias', name: alias, reason: 'it would read as a version', fix }));
}

/** Splits `model@selector`; KILN4014 when it cannot be read. */
export function parseModelRef(ref: string): { model: string; selector: ModelSelector } {
  const at = ref.indexOf('@');
  const model = at < 0 ? ref : ref.slice(0, at);
  const sel = at < 0 ? 'latest' : ref.slice(at + 1);
  if (!MODEL_NAME.test(model) || sel === '' || sel.includes('@')) throw new KilnError(diag('KILN4014', { ref }));
  if (sel === 'latest') return { model, selector: { kind: 'latest' } };
  const v = VERSION_REF.exec(sel);
  if (v) {
    const version = Number(v[1]);
    if (!Number.isSafeInteger(version) || version < 1) throw new KilnError(diag('KILN4014', { ref }));
    return { model, selector: { kind: 'version', version } };
  }
  if (!ALIAS_NAME.test(sel)) throw new KilnError(diag('KILN4014', { ref }));
  return { model, selector: { kind: 'alias', alias: sel } };
}

interface VersionRow {
  model: string;
  version: number;
  artifact_path: string;
  artifact_sha256: string;
  run_id: string | null;
  git_commit: string | null;
  created_at: number;
  description: string | null;
  /** Absent in a store at schema version 2 or older. */
  overrides?: string | null;
}

export class SqliteModelRegistry implements ModelRegistry {
  private readonly database: SqliteDatabase;

  constructor(database: SqliteDatabase) {
    this.database = database;
  }

  private get db() {
    return this.database.db;
  }

  private modelNames(): string[] {
    return (this.db.prepare('SELECT name FROM registered_models ORDER BY name').all() as Array<{ name: string }>).map((r) => r.name);
  }

  private assertModel(name: string): void {
    if (this.db.prepare('SELECT 1 FROM registered_models WHERE name = ?').get(name)) return;
    const names = this.modelNames();
    throw new KilnError(diag('KILN4012', { model: name, suggestion: didYouMean(name, names).replace(/^ did/, ' Did'), available: names.length ? names.join(', ') : '(none yet)' }));
  }

  private aliasesOf(model: string, version: number): string[] {
    return (this.db.prepare('SELECT alias FROM model_aliases WHERE model = ? AND version = ? ORDER BY alias').all(model, version) as Array<{ alias: string }>).map((r) => r.alias);
  }

  private toVersion(r: VersionRow): ModelVersion {
    return {
      model: r.model,
      version: r.version,
      artifactPath: r.artifact_path,
      artifactSha256: r.artifact_sha256,
      runId: r.run_id,
      commit: r.git_commit,
      createdAt: r.created_at,
      description: r.description,
      overrides: r.overrides == null ? [] : (JSON.parse(r.overrides) as string[]),
      aliases: this.aliasesOf(r.model, r.version),
    };
  }

  private versionRow(model: string, version: number): VersionRow {
    const row = this.db.prepare('SELECT * FROM model_versions WHERE model = ? AND version = ?').get(model, version) as VersionRow | undefined;
    if (row) return row;
    this.assertModel(model);
    const known = (this.db.prepare('SELECT version FROM model_versions WHERE model = ? ORDER BY version').all(model) as Array<{ version: number }>).map((r) => `v${r.version}`);
    throw new KilnError(diag('KILN4013', { model, what: 'version', whats: 'versions', ref: `v${version}`, available: known.join(', ') || '(none)' }));
  }

  private checkNewVersion(v: Omit<NewModelVersion, 'artifactPath'>): void {
    checkModelName(v.model);
    if (!HASH_PATTERN.test(v.artifactSha256)) {
      throw new KilnError(diag('KILN4011', { what: 'artifact hash', name: v.artifactSha256, reason: 'it is not a sha256 (64 lowercase hexadecimal characters)', fix: 'Pass the sha256 of the built artifact.' }));
    }
  }

  /** Inside a write transaction: adds the next version of `v.model` and returns its number. */
  private insertVersion(v: Omit<NewModelVersion, 'artifactPath'>, now: number, artifactPath: string | ((version: number) => string)): { version: number } {
    if (v.runId !== null && !this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(v.runId)) {
      throw new KilnError(diag('KILN4002', { id: v.runId, store: this.database.file }));
    }
    this.db.prepare('INSERT INTO registered_models (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(v.model, now);
    // Inside the IMMEDIATE transaction no other process can take the same number.
    const next = (this.db.prepare('SELECT coalesce(max(version), 0) + 1 AS n FROM model_versions WHERE model = ?').get(v.model) as { n: number }).n;
    const where = typeof artifactPath === 'string' ? artifactPath : artifactPath(next);
    this.db
      .prepare('INSERT INTO model_versions (model, version, artifact_path, artifact_sha256, run_id, git_commit, created_at, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(v.model, next, where, v.artifactSha256, v.runId, v.commit, now, v.description ?? null);
    // Set apart, as the run's invocation: a store at an older schema version can still register plain versions.
    if (v.overrides?.length) this.db.prepare('UPDATE model_versions SET overrides = ? WHERE model = ? AND version = ?').run(JSON.stringify(v.overrides), v.model, next);
    return { version: next };
  }

  async registerVersion(v: NewModelVersion): Promise<ModelVersion> {
    this.checkNewVersion(v);
    const now = v.createdAt ?? Date.now();
    const { version } = this.database.write(() => this.insertVersion(v, now, v.artifactPath));
    return this.toVersion(this.versionRow(v.model, version));
  }

  async publishVersion(v: Omit<NewModelVersion, 'artifactPath'>, place: PlaceArtifact): Promise<{ version: ModelVersion; existing: boolean }> {
    this.checkNewVersion(v);
    const now = v.createdAt ?? Date.now();
    let undo: (() => void) | null = null;
    let outcome: { version: number; existing: boolean };
    try {
      outcome = this.database.write(() => {
        const same = this.db.prepare('SELECT version FROM model_versions WHERE model = ? AND artifact_sha256 = ? ORDER BY version LIMIT 1').get(v.model, v.artifactSha256) as { version: number } | undefined;
        if (same) return { version: same.version, existing: true };
        const added = this.insertVersion(v, now, (n) => {
          const placed = place(n);
          undo = placed.undo;
          return placed.artifactPath;
        });
        return { version: added.version, existing: false };
      });
    } catch (e) {
      // The transaction rolled back: the artifact placed for it must not stay behind under a number nobody holds.
      (undo as (() => void) | null)?.();
      throw e;
    }
    return { version: this.toVersion(this.versionRow(v.model, outcome.version)), existing: outcome.existing };
  }

  private moveAlias(model: string, alias: string, version: number | null): { previous: number | null } {
    return this.database.write(() => {
      this.assertModel(model);
      if (version !== null) this.versionRow(model, version);
      const old = this.db.prepare('SELECT version FROM model_aliases WHERE model = ? AND alias = ?').get(model, alias) as { version: number } | undefined;
      if (version === null && !old) throw new KilnError(diag('KILN4013', { model, what: 'alias', whats: 'aliases', ref: alias, available: this.aliasList(model) }));
      const now = Date.now();
      if (version === null) this.db.prepare('DELETE FROM model_aliases WHERE model = ? AND alias = ?').run(model, alias);
      else {
        this.db
          .prepare('INSERT INTO model_aliases (model, alias, version, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at')
          .run(model, alias, version, now);
      }
      this.db.prepare('INSERT INTO model_alias_history (model, alias, version, changed_at) VALUES (?, ?, ?, ?)').run(model, alias, version, now);
      return { previous: old?.version ?? null };
    });
  }

  private aliasList(model: string): string {
    const rows = this.db.prepare('SELECT alias, version FROM model_aliases WHERE model = ? ORDER BY alias').all(model) as Array<{ alias: string; version: number }>;
    return rows.map((r) => `${r.alias} (v${r.version})`).join(', ') || '(none)';
  }

  async setAlias(model: string, alias: string, version: number): Promise<{ previous: number | null }> {
    checkAliasName(alias);
    return this.moveAlias(model, alias, version);
  }

  async removeAlias(model: string, alias: string): Promise<{ previous: number | null }> {
    return this.moveAlias(model, alias, null);
  }

  async resolve(ref: string): Promise<ModelVersion> {
    const { model, selector } = parseModelRef(ref);
    this.assertModel(model);
    if (selector.kind === 'version') return this.toVersion(this.versionRow(model, selector.version));
    if (selector.kind === 'latest') {
      const row = this.db.prepare('SELECT * FROM model_versions WHERE model = ? ORDER BY version DESC LIMIT 1').get(model) as VersionRow | undefined;
      if (!row) throw new KilnError(diag('KILN4013', { model, what: 'version', whats: 'versions', ref: 'latest', available: '(none)' }));
      return this.toVersion(row);
    }
    const a = this.db.prepare('SELECT version FROM model_aliases WHERE model = ? AND alias = ?').get(model, selector.alias) as { version: number } | undefined;
    if (!a) throw new KilnError(diag('KILN4013', { model, what: 'alias', whats: 'aliases', ref: selector.alias, available: this.aliasList(model) }));
    return this.toVersion(this.versionRow(model, a.version));
  }

  async getVersion(model: string, version: number): Promise<ModelVersion> {
    return this.toVersion(this.versionRow(model, version));
  }

  private summaryOf(name: string): RegisteredModel {
    const m = this.db.prepare('SELECT * FROM registered_models WHERE name = ?').get(name) as { name: string; created_at: number; description: string | null };
    const counts = this.db.prepare('SELECT max(version) AS latest, count(*) AS n FROM model_versions WHERE model = ?').get(name) as { latest: number | null; n: number };
    const aliases: Record<string, number> = {};
    for (const a of this.db.prepare('SELECT alias, version FROM model_aliases WHERE model = ? ORDER BY alias').all(name) as Array<{ alias: string; version: number }>) aliases[a.alias] = a.version;
    return { name: m.name, createdAt: m.created_at, description: m.description, latestVersion: counts.latest, versionCount: counts.n, aliases };
  }

  async listModels(): Promise<RegisteredModel[]> {
    return this.database.read(() => this.modelNames().map((n) => this.summaryOf(n)));
  }

  async showModel(name: string): Promise<ModelDetail> {
    return this.database.read(() => {
      this.assertModel(name);
      const rows = this.db.prepare('SELECT * FROM model_versions WHERE model = ? ORDER BY version DESC').all(name) as VersionRow[];
      return { ...this.summaryOf(name), versions: rows.map((r) => this.toVersion(r)) };
    });
  }

  async aliasHistory(model: string, alias: string): Promise<AliasChange[]> {
    this.assertModel(model);
    const rows = this.db.prepare('SELECT alias, version, changed_at FROM model_alias_history WHERE model = ? AND alias = ? ORDER BY id').all(model, alias) as Array<{
      alias: string;
      version: number | null;
      changed_at: number;
    }>;
    return rows.map((r) => ({ alias: r.alias, version: r.version, changedAt: r.changed_at }));
  }
}

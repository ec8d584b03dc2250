// One SQLite connection to the run store, set up for several processes at once: WAL, a busy timeout, foreign keys,
// writes in IMMEDIATE transactions retried while another process holds the write lock, and the schema migrated on open.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { diag, KilnError, isKilnError } from '../diagnostics/index.ts';
import { assertSupportedVersion, migrate } from './migrations.ts';
import { isDiskFull, rethrowStoreFull } from './disk-full.ts';

export interface SqliteOpenOptions {
  /** How long one attempt waits for another process's write lock (SQLite busy timeout). Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Attempts before giving up with KILN4008. Default 3. */
  attempts?: number;
  /** Stop at this schema version instead of the latest (tests of migrations). */
  schemaVersion?: number;
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

export class SqliteDatabase {
  readonly db: Database.Database;
  readonly file: string;
  private readonly busyTimeoutMs: number;
  private readonly attempts: number;

  private constructor(db: Database.Database, file: string, busyTimeoutMs: number, attempts: number) {
    this.db = db;
    this.file = file;
    this.busyTimeoutMs = busyTimeoutMs;
    this.attempts = attempts;
  }

  static open(file: string, opts: SqliteOpenOptions = {}): SqliteDatabase {
    const busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
    const attempts = Math.max(1, opts.attempts ?? 3);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(file, { timeout: busyTimeoutMs });
    } catch (e) {
      throw new KilnError(diag('KILN4009', { path: file, reason: (e as Error).message }));
    }
    const store = new SqliteDatabase(db, file, busyTimeoutMs, attempts);
    try {
      // Switching to WAL takes a lock of its own, and the busy handler is not always consulted for it.
      store.retry(() => db.pragma('journal_mode = WAL'));
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      assertSupportedVersion(db, file);
      store.retry(() => migrate(db, file, opts.schemaVersion));
    } catch (e) {
      db.close();
      if (isKilnError(e)) throw e;
      if (isDiskFull(e)) rethrowStoreFull(e, file, 'opening the run database');
      const code = (e as { code?: unknown }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY') {
        throw new KilnError(diag('KILN4009', { path: file, reason: (e as Error).message }));
      }
      throw e;
    }
    return store;
  }

  /** Runs `fn` again while the database is busy, up to the configured attempts; then KILN4008. */
  retry<T>(fn: () => T): T {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return fn();
      } catch (e) {
        if (!isBusy(e)) throw e;
        if (attempt >= this.attempts) throw new KilnError(diag('KILN4008', { path: this.file, ms: Date.now() - started }));
        // A little random back-off so that waiting processes do not retry in lock step.
        sleep(10 + Math.floor(Math.random() * 40));
      }
    }
  }

  /**
   * `fn` inside BEGIN IMMEDIATE: the write lock is taken up front, so the transaction never fails half-way on a busy lock.
   * A full disk rolls the transaction back and is KILN4019, not an internal error.
   */
  write<T>(fn: () => T): T {
    const tx = this.db.transaction(fn);
    try {
      return this.retry(() => tx.immediate());
    } catch (e) {
      return rethrowStoreFull(e, this.file, 'writing the run database');
    }
  }

  /** `fn` inside a read transaction: one consistent snapshot for queries made of several statements. */
  read<T>(fn: () => T): T {
    const tx = this.db.transaction(fn);
    return this.retry(() => tx.deferred());
  }

  get busyTimeout(): number {
    return this.busyTimeoutMs;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// One pool of connections to a PostgreSQL run store, and what its failures mean to a user: a server that cannot be
// reached, credentials it refuses, a connection lost in the middle of a command. Every message shows the URL masked.
import pg from 'pg';
import { diag, KilnError, isKilnError } from '../../diagnostics/index.ts';
import { maskUrlsIn } from '../store-url.ts';

export interface PostgresTarget {
  url: string;
  /** The URL with its password masked. */
  display: string;
  /** The environment variables the URL was read from (KILN_STORE, or those kiln.yaml's ${NAME} named). */
  variables: string[];
}

// Times are milliseconds since the epoch in BIGINT columns, and counts are BIGINT: both fit a JavaScript number.
const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

/** SQLSTATEs and socket errors of a server that cannot be used now (as opposed to a bug in a query). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '3D000']);
const AUTH = new Set(['28P01', '28000']);

function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

const reasonOf = (e: unknown) => maskUrlsIn(e instanceof Error ? e.message : String(e)) || 'the connection ended';

/** Whether `e` says the server went away or cannot be reached (and the command can be retried once it is back). */
export function isConnectionFailure(e: unknown): boolean {
  const code = errorCode(e);
  if (code && UNREACHABLE.has(code)) return true;
  const message = e instanceof Error ? e.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection/i.test(message);
}

/** The diagnostic for a failure of the store at `target` while `doing`; other errors are returned unchanged. */
export function storeFailure(e: unknown, target: PostgresTarget, doing: string): unknown {
  if (isKilnError(e)) return e;
  const code = errorCode(e);
  if (code && AUTH.has(code)) {
    const variable = target.variables.length ? target.variables.join(' or ') : 'KILN_STORE';
    return new KilnError(diag('KILN4034', { store: target.display, reason: reasonOf(e), variable }));
  }
  if (isConnectionFailure(e)) return new KilnError(diag('KILN4033', { store: target.display, doing, reason: reasonOf(e) }));
  return e;
}

/** A pool for `target`: small (a kiln process writes from one place at a time), quick to give up on a dead server. */
export function openPool(target: PostgresTarget): pg.Pool {
  const pool = new pg.Pool({ connectionString: target.url, max: 4, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 10_000, allowExitOnIdle: true, types, application_name: 'kiln' } as pg.PoolConfig);
  // An idle connection the server closes (a restart) must not crash the process: the next query reports it.
  pool.on('error', () => {});
  return pool;
}

/** `fn` inside BEGIN … COMMIT on one connection; rolled back on any error. */
export async function inTransaction<T>(pool: pg.Pool, target: PostgresTarget, doing: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    throw storeFailure(e, target, doing);
  }
  let broken = false;
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    broken = isConnectionFailure(e);
    if (!broken) await client.query('ROLLBACK').catch(() => {});
    throw storeFailure(e, target, doing);
  } finally {
    client.release(broken);
  }
}

/** One statement outside an explicit transaction (PostgreSQL makes each statement atomic). */
export async function query<R extends pg.QueryResultRow>(pool: pg.Pool, target: PostgresTarget, doing: string, text: string, values: unknown[] = [], name?: string): Promise<R[]> {
  try {
    return (await pool.query<R>(name ? { name, text, values } : { text, values })).rows;
  } catch (e) {
    throw storeFailure(e, target, doing);
  }
}

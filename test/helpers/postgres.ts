// A throw-away PostgreSQL cluster for tests: initdb and pg_ctl of Debian's PostgreSQL 15 (CI installs it, .ci/run) on
// a temporary folder and a free loopback port, password authentication on, stopped and deleted after. initdb and
// pg_ctl refuse to run as root, so as root they run as the postgres user. Without PostgreSQL the tests fail, unless
// KILN_TEST_SKIP_POSTGRES=1 says to skip them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';
export const SKIP_POSTGRES_ENV = 'KILN_TEST_SKIP_POSTGRES';

/** True when PostgreSQL is missing and the environment says to skip its tests; throws when it is missing otherwise. */
export function skipPostgres(): boolean {
  if (fs.existsSync(path.join(POSTGRES_BIN, 'initdb'))) return false;
  if (process.env[SKIP_POSTGRES_ENV] === '1') return true;
  throw new Error(`${POSTGRES_BIN}/initdb is missing: these tests need a real PostgreSQL; install it with apt-get install -y postgresql (.ci/run does), or set ${SKIP_POSTGRES_ENV}=1 to skip them`);
}

export interface TestPostgres {
  port: number;
  user: string;
  password: string;
  /** URL of the cluster's database with the right password. */
  url: string;
  /** A URL of a fresh, empty store (its own schema, through search_path), for one test. */
  freshStore(): Promise<string>;
  /** Stops the server (fast shutdown) and starts it again on the same port and data. */
  stopServer(): void;
  startServer(): void;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function runAsPostgres(bin: string, args: string[]): void {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(POSTGRES_BIN, bin), ...args]] : [path.join(POSTGRES_BIN, bin), args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
}

let schemas = 0;

export async function startPostgres(): Promise<TestPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-pg-'));
  fs.chmodSync(dir, 0o755);
  if (asRoot) spawnSync('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  const user = 'kiln';
  const password = 'kiln-test-secret';
  const pwfile = path.join(dir, 'pwfile');
  fs.writeFileSync(pwfile, password);
  if (asRoot) spawnSync('chown', ['postgres:postgres', pwfile]);
  runAsPostgres('initdb', ['-D', data, '-U', user, `--pwfile=${pwfile}`, '-A', 'scram-sha-256', '--locale=C', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60`;
  const startServer = () => runAsPostgres('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'start']);
  const stopServer = () => runAsPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  startServer();
  const url = `postgres://${user}:${password}@127.0.0.1:${port}/postgres`;
  return {
    port,
    user,
    password,
    url,
    async freshStore() {
      const schema = `kiln_test_${process.pid}_${++schemas}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.end();
      return `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    },
    stopServer,
    startServer,
    async stop() {
      try {
        stopServer();
      } catch {
        // Already stopped by the test.
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}


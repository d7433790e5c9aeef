// A throw-away PostgreSQL from Debian's own package, for the tests, the benchmarks and trying the
// PostgreSQL backend: initdb + pg_ctl under a temporary directory, on 127.0.0.1 and a free port, with a
// generated password (scram-sha-256, no trust auth even here). As root it runs as the 'postgres' user,
// since the server refuses to run as root.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempPostgres {
  /** postgres://dc:PASSWORD@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  dir: string;
  /** pg_ctl stop -m immediate|fast (a crash or a clean stop), then `start()` brings the same data back. */
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
  /** Stops the server and removes its directory. */
  destroy(): void;
}

/** The newest installed server's bin directory (Debian: /usr/lib/postgresql/<major>/bin). */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!majors.length) throw new Error(`PostgreSQL server not found under ${root}: apt-get install postgresql`);
  return join(root, majors[0]!, 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A new, empty database on the server at `url` (a postgres:// URL); resolves with its URL. */
export async function createDatabase(url: string, name = `dc_${randomBytes(6).toString('hex')}`): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a database name: ${name}`);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** `durable`: fsync and full page writes on, as in production (the tests turn them off: a throw-away server). */
export async function startTempPostgres(o: { port?: number; durable?: boolean } = {}): Promise<TempPostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'dc-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? Number(execFileSync('id', ['-u', 'postgres']).toString()) : undefined;
  const gid = asRoot ? Number(execFileSync('id', ['-g', 'postgres']).toString()) : undefined;
  const run = (cmd: string, args: string[]) =>
    execFileSync(join(bin, cmd), args, { stdio: ['ignore', 'pipe', 'pipe'], uid, gid, cwd: dir, timeout: 60_000 });
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (asRoot) {
    chownSync(dir, uid!, gid!);
    chownSync(pwfile, uid!, gid!);
  }
  run('initdb', ['-D', data, '-U', 'dc', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--no-sync', '-E', 'UTF8', '--locale=C']);
  rmSync(pwfile);
  const port = o.port ?? (await freePort());
  const speed = o.durable ? '' : ' -c fsync=off -c full_page_writes=off';
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}${speed} -c max_connections=200`;
  const start = () => {
    run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  };
  const stop = (mode: 'fast' | 'immediate' = 'fast') => {
    if (existsSync(join(data, 'postmaster.pid'))) run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
  };
  start();
  const url = `postgres://dc:${password}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    dir,
    start,
    stop,
    destroy() {
      try {
        stop('immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

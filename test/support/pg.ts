// The catalog backends under test. `npm test` runs the store-level suites twice: on SQLite, and with
// DC_TEST_PG_URL naming a throw-away PostgreSQL (scripts/lib/postgres.ts) on which each caller gets a fresh
// database of its own.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';

export const PG_URL = process.env.DC_TEST_PG_URL;
export const BACKEND = PG_URL ? 'postgres' : 'sqlite';

/** A new, empty database on `server` (a postgres:// URL); resolves with its URL. */
export async function freshDatabase(server: string): Promise<string> {
  const name = `dc_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: server });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Where a test's catalog lives: a fresh PostgreSQL database when the run is on PostgreSQL, else a file in `dir`. */
export async function catalogLocation(dir: string, file = 'catalog.sqlite'): Promise<string> {
  return PG_URL ? freshDatabase(PG_URL) : join(dir, file);
}

/** The service's environment for that catalog (DC_DATABASE_URL, or DC_CATALOG_FILE). */
export function catalogEnv(location: string, dir: string): Record<string, string> {
  return location.startsWith('postgres')
    ? { DC_DATABASE_URL: location, DC_CATALOG_FILE: join(dir, 'catalog.sqlite') }
    : { DC_CATALOG_FILE: location };
}

// The catalog backends under test. `npm test` runs the store-level suites twice: on SQLite, and with
// DC_TEST_PG_URL naming a throw-away PostgreSQL (scripts/lib/postgres.ts) on which each caller gets a fresh
// database of its own.
import { join } from 'node:path';
import { createDatabase } from '../../scripts/lib/postgres';

export const PG_URL = process.env.DC_TEST_PG_URL;
export const BACKEND = PG_URL ? 'postgres' : 'sqlite';

/** Where a test's catalog lives: a fresh PostgreSQL database when the run is on PostgreSQL, else a file in `dir`. */
export async function catalogLocation(dir: string, file = 'catalog.sqlite'): Promise<string> {
  return PG_URL ? createDatabase(PG_URL) : join(dir, file);
}

/** The service's environment for that catalog (DC_DATABASE_URL, or DC_CATALOG_FILE). */
export function catalogEnv(location: string, dir: string): Record<string, string> {
  return location.startsWith('postgres')
    ? { DC_DATABASE_URL: location, DC_CATALOG_FILE: join(dir, 'catalog.sqlite') }
    : { DC_CATALOG_FILE: location };
}

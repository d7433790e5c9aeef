import type { Sql, SqlDb } from './sql';

// The catalog's schema, one numbered step per release, written once in SQLite's dialect and translated for
// PostgreSQL (the few differences are types: integer keys become identities, integers BIGINT for epoch
// milliseconds). Applied at start-up under a lock so that two companions starting together apply each once.

/** The schema, one step per release; applied in order, each once (exported for the upgrade tests). */
export const MIGRATIONS: string[] = [
  `CREATE TABLE recordings (
     id TEXT PRIMARY KEY,
     uniqueid TEXT,
     linkedid TEXT,
     ani TEXT NOT NULL,
     dnis TEXT NOT NULL,
     started_at TEXT,
     answered_at TEXT,
     ended_at TEXT,
     duration_ms INTEGER NOT NULL,
     path TEXT NOT NULL,
     format TEXT NOT NULL,
     size_bytes INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     cpa_result TEXT,
     cpa_events TEXT NOT NULL DEFAULT '[]',
     source TEXT NOT NULL CHECK (source IN ('ari', 'agi', 'upload')),
     created_at TEXT NOT NULL,
     UNIQUE (source, uniqueid)
   );
   CREATE INDEX recordings_created ON recordings (created_at);
   CREATE INDEX recordings_ani ON recordings (ani);
   CREATE INDEX recordings_dnis ON recordings (dnis);
   CREATE TABLE deliveries (
     id INTEGER PRIMARY KEY,
     recording_id TEXT NOT NULL REFERENCES recordings (id),
     route TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('webhook', 'email')),
     target TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'dead')),
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     lease_until INTEGER,
     last_error TEXT,
     delivered_at TEXT,
     created_at TEXT NOT NULL,
     UNIQUE (recording_id, route)
   );
   CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
   CREATE TABLE delivery_attempts (
     id INTEGER PRIMARY KEY,
     delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
     at TEXT NOT NULL,
     outcome TEXT NOT NULL,
     http_status INTEGER,
     error TEXT,
     duration_ms INTEGER NOT NULL
   );`,
  `CREATE TABLE users (
     username TEXT PRIMARY KEY,
     password_hash TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE INDEX recordings_cpa ON recordings (cpa_result);`,
  `CREATE TABLE outages (
     id INTEGER PRIMARY KEY,
     target TEXT NOT NULL,
     kind TEXT NOT NULL,
     started_at TEXT NOT NULL,
     ended_at TEXT,
     duration_ms INTEGER,
     error TEXT NOT NULL,
     alerted_at TEXT
   );
   CREATE INDEX outages_started ON outages (started_at);`,
  `ALTER TABLE recordings ADD COLUMN purged_at TEXT;`,
  `ALTER TABLE recordings ADD COLUMN state TEXT NOT NULL DEFAULT 'complete';
   ALTER TABLE recordings ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX recordings_state ON recordings (state);
   CREATE INDEX recordings_uniqueid ON recordings (uniqueid);`,
  `CREATE TABLE cpa_configs (
     key TEXT PRIMARY KEY,
     config TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );`,
  // 7: roles (accounts made before them are admins), server-side sessions, the audit trail.
  `ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'supervisor', 'agent'));
   ALTER TABLE users ADD COLUMN extensions TEXT NOT NULL DEFAULT '';
   ALTER TABLE users ADD COLUMN disabled_at TEXT;
   CREATE TABLE sessions (
     id_hash TEXT PRIMARY KEY,
     username TEXT NOT NULL,
     csrf TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     remote TEXT
   );
   CREATE INDEX sessions_user ON sessions (username);
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY,
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT,
     remote TEXT,
     detail TEXT
   );
   CREATE INDEX audit_at ON audit (at);
   CREATE INDEX audit_actor ON audit (actor, id);
   CREATE INDEX audit_target ON audit (target, id);`,
  // 8: the call picture (levels over time, computed once at registration); keyset paging by date and length.
  `ALTER TABLE recordings ADD COLUMN picture TEXT;
   CREATE INDEX recordings_created_id ON recordings (created_at, id);
   CREATE INDEX recordings_duration_id ON recordings (duration_ms, id);
   CREATE INDEX recordings_ani_created ON recordings (ani, created_at, id);
   CREATE INDEX recordings_dnis_created ON recordings (dnis, created_at, id);
   DROP INDEX recordings_ani;
   DROP INDEX recordings_dnis;`,
  // 9: several companions on one database: which instance holds a recording's file (until it is in the
  // bucket: object_key), and which instance saw an outage.
  `ALTER TABLE recordings ADD COLUMN node TEXT;
   ALTER TABLE recordings ADD COLUMN object_key TEXT;
   ALTER TABLE outages ADD COLUMN instance TEXT;`,
  // 10: the archive: when the local copy of an archived recording was removed (recordings.keepLocal off).
  `ALTER TABLE recordings ADD COLUMN local_removed_at TEXT;
   CREATE INDEX recordings_archive ON recordings (object_key, state);`,
  // 11: the portal's failed-login counts, shared by every companion (and kept over a restart).
  `CREATE TABLE login_counts (
     key TEXT PRIMARY KEY,
     failures INTEGER NOT NULL,
     in_flight INTEGER NOT NULL,
     since INTEGER NOT NULL,
     blocked_until INTEGER NOT NULL,
     strikes INTEGER NOT NULL
   );`,
];

/** A step in PostgreSQL's dialect: the same tables, columns, checks and indexes. */
export function postgresMigration(sql: string): string {
  return sql.replace(/\bINTEGER PRIMARY KEY\b/g, 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY').replace(/\bINTEGER\b/g, 'BIGINT');
}

// Any fixed number: every companion sharing a database takes the same advisory lock for its migrations.
const MIGRATION_LOCK = 0x64630001;

/**
 * Applies the missing steps under the database's write lock, reading what is applied only once the lock is
 * held: two processes opening a new catalog together (two companions, serve and a CLI command) apply each
 * step once instead of both trying and one failing. SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-level
 * advisory lock (its DDL is transactional, so a step that fails leaves nothing half-applied on either).
 */
export async function migrate(db: SqlDb, now = () => new Date()): Promise<number[]> {
  return db.tx(async (t: Sql) => {
    if (t.dialect === 'postgres') await t.get('SELECT pg_advisory_xact_lock(?)', MIGRATION_LOCK);
    await t.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const done = new Set((await t.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const [i, sql] of MIGRATIONS.entries()) {
      if (done.has(i + 1)) continue;
      await t.exec(t.dialect === 'postgres' ? postgresMigration(sql) : sql);
      await t.run('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', i + 1, now().toISOString());
      applied.push(i + 1);
    }
    return applied;
  });
}

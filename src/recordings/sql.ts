import Database from 'better-sqlite3';
import pg from 'pg';

// One small async SQL surface over the two databases the catalog runs on, so every store is written once:
// SQLite (better-sqlite3, the embedded default) and PostgreSQL (pg, for several companions sharing one
// catalog). Statements use `?` placeholders; the PostgreSQL side numbers them. Only src/recordings and
// src/transport hold SQL.

export type Dialect = 'sqlite' | 'postgres';
export type Row = Record<string, unknown>;

export interface Sql {
  readonly dialect: Dialect;
  /** `FOR UPDATE SKIP LOCKED` on PostgreSQL; nothing on SQLite, whose transactions already hold the write lock. */
  readonly skipLocked: string;
  /** `FOR UPDATE` on PostgreSQL (rows read to be changed in the same transaction); nothing on SQLite. */
  readonly forUpdate: string;
  all<T = Row>(sql: string, ...args: unknown[]): Promise<T[]>;
  get<T = Row>(sql: string, ...args: unknown[]): Promise<T | undefined>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, ...args: unknown[]): Promise<number>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlDb extends Sql {
  /**
   * Runs `fn` in one transaction on one connection (a throw rolls it back). SQLite takes the write lock at
   * BEGIN (IMMEDIATE: no lock upgrade that could deadlock two processes); PostgreSQL row locks are the
   * statements' own (FOR UPDATE ... SKIP LOCKED where two companions could take the same row).
   */
  tx<T>(fn: (t: Sql) => Promise<T>): Promise<T>;
  /** Where the database is, without credentials (for logs and doctor). */
  readonly where: string;
  close(): Promise<void>;
}

/**
 * Switches a database to WAL. The switch needs an exclusive lock for a moment, and SQLite answers "database is
 * locked" at once (no busy wait, to avoid a deadlock) when another process opening the same new file holds a
 * lock: retried for up to 5 s. Start-up only, so the synchronous waits hold nothing else up.
 */
function walMode(db: Database.Database): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; ; i++) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (e) {
      if (!/locked|busy/i.test((e as Error).message) || i >= 100) throw e;
      Atomics.wait(pause, 0, 0, 20 + Math.floor(Math.random() * 30));
    }
  }
}

/** better-sqlite3 is synchronous: each call completes before the promise is returned. */
class SqliteStatements implements Sql {
  readonly dialect = 'sqlite' as const;
  readonly skipLocked = '';
  readonly forUpdate = '';
  constructor(protected readonly db: Database.Database) {}
  async all<T>(sql: string, ...args: unknown[]): Promise<T[]> {
    return this.db.prepare(sql).all(...args) as T[];
  }
  async get<T>(sql: string, ...args: unknown[]): Promise<T | undefined> {
    return this.db.prepare(sql).get(...args) as T | undefined;
  }
  async run(sql: string, ...args: unknown[]): Promise<number> {
    return this.db.prepare(sql).run(...args).changes;
  }
  async exec(sql: string): Promise<void> {
    this.db.exec(sql);
  }
}

/**
 * SQLite on one connection. A transaction's body awaits between its statements, and other callers' statements
 * would otherwise land inside it on the same connection: while one is open, everyone else waits for it.
 */
export class SqliteDb extends SqliteStatements implements SqlDb {
  /** The transaction running now (resolves when it ends). */
  private active: Promise<void> | undefined;
  /** The tail of the transactions waiting their turn. */
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly where: string) {
    super(new Database(where));
    this.db.pragma('busy_timeout = 5000');
    walMode(this.db);
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
  }

  private async idle(): Promise<void> {
    while (this.active) await this.active;
  }

  override async all<T>(sql: string, ...args: unknown[]): Promise<T[]> {
    if (this.active) await this.idle();
    return super.all<T>(sql, ...args);
  }
  override async get<T>(sql: string, ...args: unknown[]): Promise<T | undefined> {
    if (this.active) await this.idle();
    return super.get<T>(sql, ...args);
  }
  override async run(sql: string, ...args: unknown[]): Promise<number> {
    if (this.active) await this.idle();
    return super.run(sql, ...args);
  }
  override async exec(sql: string): Promise<void> {
    if (this.active) await this.idle();
    return super.exec(sql);
  }

  async tx<T>(fn: (t: Sql) => Promise<T>): Promise<T> {
    // One at a time, in the order asked: each waits for the one before it.
    const before = this.queue;
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    this.queue = before.then(() => mine);
    await before;
    this.active = mine;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(new SqliteStatements(this.db));
        this.db.exec('COMMIT');
        return out;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    } finally {
      this.active = undefined;
      done();
    }
  }

  async close(): Promise<void> {
    await this.queue;
    this.db.close();
  }
}

// `?` -> `$1, $2, ...` (no statement of ours has a `?` inside a literal), computed once per statement text.
const numbered = new Map<string, string>();
function toPg(sql: string): string {
  let out = numbered.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    numbered.set(sql, out);
  }
  return out;
}

// Counts and epoch milliseconds are BIGINT (int8) and SUM() of them NUMERIC: JavaScript numbers here, as in SQLite.
const NUMERIC_OIDS = new Set([20, 1700]);
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    NUMERIC_OIDS.has(oid) ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

class PgStatements implements Sql {
  readonly dialect = 'postgres' as const;
  readonly skipLocked = 'FOR UPDATE SKIP LOCKED';
  readonly forUpdate = 'FOR UPDATE';
  constructor(protected readonly q: pg.Pool | pg.PoolClient) {}
  async all<T>(sql: string, ...args: unknown[]): Promise<T[]> {
    return (await this.q.query(toPg(sql), args)).rows as T[];
  }
  async get<T>(sql: string, ...args: unknown[]): Promise<T | undefined> {
    return (await this.q.query(toPg(sql), args)).rows[0] as T | undefined;
  }
  async run(sql: string, ...args: unknown[]): Promise<number> {
    return (await this.q.query(toPg(sql), args)).rowCount ?? 0;
  }
  async exec(sql: string): Promise<void> {
    await this.q.query(sql);
  }
}

/** A catalog location naming PostgreSQL (anything else is a SQLite file). */
export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//.test(location);

/**
 * `AND (column = ? OR column IS NULL)` and its argument: one companion instance's rows, with those from before
 * instances were named (anyone's: there was one); no condition without `instance`.
 */
export function ofInstance(column: string, instance: string | undefined): { sql: string; args: string[] } {
  return instance === undefined ? { sql: '', args: [] } : { sql: `AND (${column} = ? OR ${column} IS NULL)`, args: [instance] };
}

/** `postgres://user:pw@host:port/db` -> `postgres://user@host:port/db` (no password in logs). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

/**
 * PostgreSQL through a pool. A lost connection (server restarted, network) fails the statements in flight;
 * the pool opens new connections for the next ones, so callers retry as they do for any error.
 */
export class PostgresDb extends PgStatements implements SqlDb {
  readonly where: string;
  private readonly pool: pg.Pool;
  private readonly onError: ((e: Error) => void) | undefined;

  constructor(url: string, o: { max?: number; onError?: (e: Error) => void } = {}) {
    const pool = new pg.Pool({
      connectionString: url,
      max: o.max ?? 10,
      types,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      // A statement that hangs (a lock held by a dead session's transaction) fails instead of holding a call up.
      statement_timeout: 30_000,
      application_name: 'dialplan-companion',
    });
    super(pool);
    this.pool = pool;
    this.where = redactUrl(url);
    // An idle connection dropped by the server must not crash the process: the next query gets a new one.
    pool.on('error', (e) => o.onError?.(e));
    this.onError = o.onError;
  }

  async tx<T>(fn: (t: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out connection that the server drops (a restart) emits 'error' on the client, which nobody else
    // listens to while it is ours: unhandled, that would end the process. The statement in flight fails anyway.
    const onError = (e: Error) => {
      broken = e;
      this.onError?.(e);
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      try {
        const out = await fn(new PgStatements(client));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        // A connection that cannot even roll back is dropped from the pool, not handed to the next caller.
        await client.query('ROLLBACK').catch((r: Error) => (broken = r));
        throw e;
      }
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

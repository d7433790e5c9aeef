import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { UserStore } from './users';
import { OutageLog } from './outages';
import { CpaConfigTable } from './cpa-configs';
import { SessionStore } from './sessions';
import { AuditLog } from './audit';
import { readPicture, type CallPicture } from './picture';

// The catalog: every recording is a row here before anything else touches it, and every delivery is an
// outbox row next to it, so a crash or a restart resumes where it stopped. SQLite (WAL) is the embedded
// default; the Catalog interface is what a PostgreSQL implementation would provide.

import { type DeliveryKind, type RecordingSource } from './kinds';
export { RECORDING_SOURCES, DELIVERY_KINDS, ANI_PATTERN, DNIS_PATTERN, type DeliveryKind, type RecordingSource } from './kinds';
export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'dead';
/**
 * recording: written ahead when the call entered Stasis, the file is still being written (or the service
 * died before the hangup); complete: the closed file is measured and its deliveries are queued;
 * no_audio: the call ended without any audio in the file (busy, no answer before media), nothing to deliver.
 */
export type RecordingState = 'recording' | 'complete' | 'no_audio';

/** What the catalog knows of a call as it starts: enough to finish it after a crash. */
export interface StartedRecording {
  uniqueid: string;
  linkedid?: string | null;
  ani: string;
  dnis: string;
  startedAt?: Date | null;
  /** Path relative to the recordings root, where MixMonitor will close the file. */
  path: string;
  source: RecordingSource;
}

export interface NewRecording {
  uniqueid: string | null;
  linkedid?: string | null;
  ani: string;
  dnis: string;
  startedAt?: Date | null;
  answeredAt?: Date | null;
  endedAt?: Date | null;
  durationMs: number;
  /** Path relative to the recordings root. */
  path: string;
  format: string;
  sizeBytes: number;
  sha256: string;
  cpaResult?: string | null;
  cpaEvents?: unknown[];
  source: RecordingSource;
  /** 'complete' unless the file held no audio ('no_audio': catalogued, nothing delivered). */
  state?: Exclude<RecordingState, 'recording'>;
  /** Found by the recovery sweep (no hangup was seen for it): its CPA events were lost. */
  recovered?: boolean;
  /** The call picture (levels over time), computed at registration. */
  picture?: CallPicture | null;
}

export interface Recording extends Omit<
  NewRecording,
  'startedAt' | 'answeredAt' | 'endedAt' | 'cpaEvents' | 'state' | 'recovered' | 'picture'
> {
  picture: CallPicture | undefined;
  state: RecordingState;
  recovered: boolean;
  id: string;
  startedAt: string | null;
  answeredAt: string | null;
  endedAt: string | null;
  cpaEvents: unknown[];
  createdAt: string;
  /** When the retention rule deleted the audio file (the row, its metadata and CPA events stay). */
  purgedAt: string | null;
}

export interface NewDelivery {
  route: string;
  kind: DeliveryKind;
  target: string;
}

export interface Delivery extends NewDelivery {
  id: number;
  recordingId: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  leaseUntil: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

export interface Attempt {
  deliveryId: number;
  at: string;
  outcome: 'delivered' | 'retry' | 'dead';
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
}

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
];

type Row = Record<string, unknown>;

function toRecording(r: Row): Recording {
  return {
    id: r.id as string,
    uniqueid: r.uniqueid as string | null,
    linkedid: r.linkedid as string | null,
    ani: r.ani as string,
    dnis: r.dnis as string,
    startedAt: r.started_at as string | null,
    answeredAt: r.answered_at as string | null,
    endedAt: r.ended_at as string | null,
    durationMs: r.duration_ms as number,
    path: r.path as string,
    format: r.format as string,
    sizeBytes: r.size_bytes as number,
    sha256: r.sha256 as string,
    cpaResult: r.cpa_result as string | null,
    cpaEvents: JSON.parse(r.cpa_events as string) as unknown[],
    source: r.source as RecordingSource,
    createdAt: r.created_at as string,
    purgedAt: (r.purged_at as string | null | undefined) ?? null,
    state: (r.state as RecordingState | undefined) ?? 'complete',
    recovered: r.recovered === 1,
    picture: readPicture(r.picture as string | null | undefined),
  };
}

function toDelivery(r: Row): Delivery {
  return {
    id: r.id as number,
    recordingId: r.recording_id as string,
    route: r.route as string,
    kind: r.kind as DeliveryKind,
    target: r.target as string,
    status: r.status as DeliveryStatus,
    attempts: r.attempts as number,
    nextAttemptAt: r.next_attempt_at as number,
    leaseUntil: r.lease_until as number | null,
    lastError: r.last_error as string | null,
    deliveredAt: r.delivered_at as string | null,
    createdAt: r.created_at as string,
  };
}

export interface RecordingQuery {
  ani?: string;
  dnis?: string;
  since?: string;
  until?: string;
  cpaResult?: string;
  source?: RecordingSource;
  /** Calls still being recorded are left out unless asked for. */
  state?: RecordingState;
  minDurationMs?: number;
  maxDurationMs?: number;
  /** Recordings with a delivery in this state ('failing': pending or sending after a failed attempt). */
  delivery?: 'pending' | 'failing' | 'delivered' | 'dead';
  /** Only calls from or to one of these (an agent's extensions); [] matches nothing. */
  extensions?: string[];
  /** Newest first (date) or longest first (duration). */
  sort?: 'date' | 'duration';
  /** Keyset paging: rows after this one in the sort order (from the last row of the previous page). */
  after?: { key: string | number; id: string };
  limit?: number;
  /** Kept for the CLI's simple paging; the portal pages by `after`. */
  offset?: number;
}

// Search filters: the query field and its SQL condition (values always bound as parameters).
const FILTERS: [keyof RecordingQuery, string][] = [
  ['ani', 'ani = ?'],
  ['dnis', 'dnis = ?'],
  ['since', 'created_at >= ?'],
  ['until', 'created_at < ?'],
  ['cpaResult', 'cpa_result = ?'],
  ['source', 'source = ?'],
  ['state', 'state = ?'],
  ['minDurationMs', 'duration_ms >= ?'],
  ['maxDurationMs', 'duration_ms <= ?'],
];

const DELIVERY_FILTER: Record<NonNullable<RecordingQuery['delivery']>, string> = {
  pending: `d.status = 'pending' AND d.attempts = 0`,
  failing: `d.status IN ('pending', 'sending') AND d.attempts > 0`,
  delivered: `d.status = 'delivered'`,
  dead: `d.status = 'dead'`,
};

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

/** Recordings and their delivery outbox. Every statement is parameterised. */
export class Catalog {
  private readonly db: Database.Database;
  /** Portal accounts (same database). */
  readonly users: UserStore;
  /** The connectivity monitor's outages (same database). */
  readonly outages: OutageLog;
  /** Named CPA configurations saved through the CPA server (same database). */
  readonly cpaConfigs: CpaConfigTable;
  /** Portal sessions (same database: logout and disabling reach every instance). */
  readonly sessions: SessionStore;
  /** Who saw, played, downloaded or changed what. */
  readonly audit: AuditLog;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('busy_timeout = 5000');
    walMode(this.db);
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.users = new UserStore(this.db);
    this.outages = new OutageLog(this.db);
    this.cpaConfigs = new CpaConfigTable(this.db);
    this.sessions = new SessionStore(this.db);
    this.audit = new AuditLog(this.db);
  }

  close(): void {
    this.db.close();
  }

  /** Throws unless the database takes a write lock now (a read-only file or mount, a locked database). */
  checkWritable(): void {
    this.db.exec('BEGIN IMMEDIATE');
    this.db.exec('ROLLBACK');
  }

  /**
   * Applies the missing migrations under the database's write lock (BEGIN IMMEDIATE), reading what is applied
   * only once the lock is held: two processes opening a new catalog together (two companions, serve and a CLI
   * command) apply each step once instead of both trying and one crashing.
   */
  private migrate(): void {
    this.db
      .transaction(() => {
        this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
        const done = new Set(
          (this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
        );
        MIGRATIONS.forEach((sql, i) => {
          if (done.has(i + 1)) return;
          this.db.exec(sql);
          this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(i + 1, new Date().toISOString());
        });
      })
      .immediate();
  }

  /**
   * Catalogues a recording and queues its deliveries in one transaction. The same (source, uniqueid) twice
   * returns the existing row: registration after a restart must not duplicate.
   */
  addRecording(r: NewRecording, deliveries: NewDelivery[], now = Date.now()): Recording {
    return this.db.transaction(() => {
      const existing = r.uniqueid
        ? (this.db.prepare('SELECT * FROM recordings WHERE source = ? AND uniqueid = ?').get(r.source, r.uniqueid) as Row | undefined)
        : undefined;
      if (existing && existing.state !== 'recording') return toRecording(existing);
      const state = r.state ?? 'complete';
      const created = new Date(now).toISOString();
      const values = [
        r.linkedid ?? null,
        r.ani,
        r.dnis,
        r.startedAt?.toISOString() ?? null,
        r.answeredAt?.toISOString() ?? null,
        r.endedAt?.toISOString() ?? null,
        Math.round(r.durationMs),
        r.path,
        r.format,
        r.sizeBytes,
        r.sha256,
        r.cpaResult ?? null,
        JSON.stringify(r.cpaEvents ?? []),
        state,
        r.recovered ? 1 : 0,
        r.picture ? JSON.stringify(r.picture) : null,
      ];
      let id: string;
      if (existing) {
        // The row written ahead when the call started is completed in place (same id, same created_at).
        id = existing.id as string;
        this.db
          .prepare(
            `UPDATE recordings SET linkedid = COALESCE(?, linkedid), ani = ?, dnis = ?, started_at = COALESCE(?, started_at), answered_at = ?, ended_at = ?,
               duration_ms = ?, path = ?, format = ?, size_bytes = ?, sha256 = ?, cpa_result = ?, cpa_events = ?, state = ?, recovered = ?, picture = ? WHERE id = ?`,
          )
          .run(...values, id);
      } else {
        id = `rec_${randomBytes(9).toString('base64url')}`;
        this.db
          .prepare(
            `INSERT INTO recordings (linkedid, ani, dnis, started_at, answered_at, ended_at, duration_ms, path, format,
               size_bytes, sha256, cpa_result, cpa_events, state, recovered, picture, id, uniqueid, source, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(...values, id, r.uniqueid, r.source, created);
      }
      if (state === 'complete') {
        const ins = this.db.prepare(
          `INSERT INTO deliveries (recording_id, route, kind, target, status, attempts, next_attempt_at, created_at)
           VALUES (?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (recording_id, route) DO NOTHING`,
        );
        for (const d of deliveries) ins.run(id, d.route, d.kind, d.target, now, created);
      }
      return toRecording(this.db.prepare('SELECT * FROM recordings WHERE id = ?').get(id) as Row);
    })();
  }

  /**
   * Write ahead: the call's row, in state 'recording', as soon as the call is known. The hangup (or, after
   * a crash, the recovery sweep) completes it. A second call for the same (source, uniqueid) is a no-op.
   */
  beginRecording(r: StartedRecording, now = Date.now()): Recording {
    const id = `rec_${randomBytes(9).toString('base64url')}`;
    this.db
      .prepare(
        `INSERT INTO recordings (id, uniqueid, linkedid, ani, dnis, started_at, duration_ms, path, format, size_bytes, sha256, source, created_at, state)
         VALUES (?, ?, ?, ?, ?, ?, 0, ?, 'wav', 0, '', ?, ?, 'recording') ON CONFLICT (source, uniqueid) DO NOTHING`,
      )
      .run(
        id,
        r.uniqueid,
        r.linkedid ?? null,
        r.ani,
        r.dnis,
        r.startedAt?.toISOString() ?? null,
        r.path,
        r.source,
        new Date(now).toISOString(),
      );
    return toRecording(this.db.prepare('SELECT * FROM recordings WHERE source = ? AND uniqueid = ?').get(r.source, r.uniqueid) as Row);
  }

  /** Rows written ahead whose call has not been completed yet. */
  openRecordings(limit = 10_000): Recording[] {
    return (this.db.prepare(`SELECT * FROM recordings WHERE state = 'recording' ORDER BY created_at LIMIT ?`).all(limit) as Row[]).map(
      toRecording,
    );
  }

  /** The recording of a call by its uniqueid, from any door (ARI, AGI). */
  recordingOfCall(uniqueid: string): Recording | undefined {
    const r = this.db.prepare('SELECT * FROM recordings WHERE uniqueid = ? ORDER BY created_at LIMIT 1').get(uniqueid) as Row | undefined;
    return r && toRecording(r);
  }

  getRecording(id: string): Recording | undefined {
    const r = this.db.prepare('SELECT * FROM recordings WHERE id = ?').get(id) as Row | undefined;
    return r && toRecording(r);
  }

  listRecordings(q: RecordingQuery = {}): Recording[] {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const [key, clause] of FILTERS) {
      const v = q[key];
      if (v !== undefined && v !== '') {
        where.push(clause);
        args.push(v);
      }
    }
    if (!q.state) where.push(`state <> 'recording'`);
    if (q.delivery)
      // Driven from the deliveries' status index: dead or failing ones are few among a million delivered.
      where.push(`id IN (SELECT d.recording_id FROM deliveries d WHERE ${DELIVERY_FILTER[q.delivery]})`);
    if (q.extensions) {
      if (!q.extensions.length) where.push('0');
      else {
        const marks = q.extensions.map(() => '?').join(', ');
        where.push(`(ani IN (${marks}) OR dnis IN (${marks}))`);
        args.push(...q.extensions, ...q.extensions);
      }
    }
    const col = q.sort === 'duration' ? 'duration_ms' : 'created_at';
    if (q.after) {
      where.push(`(${col}, id) < (?, ?)`);
      args.push(q.after.key, q.after.id);
    }
    args.push(Math.min(Math.max(q.limit ?? 50, 1), 1000), Math.max(q.offset ?? 0, 0));
    const sql = `SELECT * FROM recordings ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${col} DESC, id DESC LIMIT ? OFFSET ?`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(toRecording);
  }

  /** Deliveries by state for the admin page ('failing': pending or sending after a failed attempt). */
  deliveriesIn(state: 'pending' | 'failing' | 'dead', limit = 200): (Delivery & { ani: string; dnis: string })[] {
    const cond = state === 'dead' ? `d.status = 'dead'` : DELIVERY_FILTER[state];
    return (
      this.db
        .prepare(
          `SELECT d.*, r.ani, r.dnis FROM deliveries d JOIN recordings r ON r.id = d.recording_id WHERE ${cond} ORDER BY d.id DESC LIMIT ?`,
        )
        .all(limit) as Row[]
    ).map((r) => ({ ...toDelivery(r), ani: r.ani as string, dnis: r.dnis as string }));
  }

  /** How many deliveries each admin tab holds. */
  deliveryStateCounts(): Record<'pending' | 'failing' | 'dead', number> {
    const r = this.db
      .prepare(
        `SELECT SUM(${DELIVERY_FILTER.pending}) pending, SUM(${DELIVERY_FILTER.failing}) failing, SUM(d.status = 'dead') dead
         FROM deliveries d WHERE d.status IN ('pending', 'sending', 'dead')`,
      )
      .get() as Record<string, number | null>;
    return { pending: r.pending ?? 0, failing: r.failing ?? 0, dead: r.dead ?? 0 };
  }

  getDelivery(id: number): Delivery | undefined {
    const r = this.db.prepare('SELECT * FROM deliveries WHERE id = ?').get(id) as Row | undefined;
    return r && toDelivery(r);
  }

  /** Every dead delivery back in the queue now; returns how many. */
  retryAllDead(now = Date.now()): number {
    return this.db
      .prepare(`UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_until = NULL WHERE status = 'dead'`)
      .run(now).changes;
  }

  deliveriesOf(recordingId: string): Delivery[] {
    return (this.db.prepare('SELECT * FROM deliveries WHERE recording_id = ? ORDER BY id').all(recordingId) as Row[]).map(toDelivery);
  }

  listDeliveries(status?: DeliveryStatus, limit = 100): Delivery[] {
    const rows = status
      ? this.db.prepare('SELECT * FROM deliveries WHERE status = ? ORDER BY id DESC LIMIT ?').all(status, limit)
      : this.db.prepare('SELECT * FROM deliveries ORDER BY id DESC LIMIT ?').all(limit);
    return (rows as Row[]).map(toDelivery);
  }

  attemptsOf(deliveryId: number): Attempt[] {
    return (this.db.prepare('SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY id').all(deliveryId) as Row[]).map((r) => ({
      deliveryId: r.delivery_id as number,
      at: r.at as string,
      outcome: r.outcome as Attempt['outcome'],
      httpStatus: r.http_status as number | null,
      error: r.error as string | null,
      durationMs: r.duration_ms as number,
    }));
  }

  /**
   * Takes up to `max` due deliveries for this worker: pending ones whose time has come, and ones left
   * 'sending' by a worker that died (lease expired). The lease keeps two workers off the same delivery.
   */
  claimDue(max: number, leaseMs: number, now = Date.now()): Delivery[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare(
          `SELECT * FROM deliveries
           WHERE (status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until <= ?)
           ORDER BY next_attempt_at, id LIMIT ?`,
        )
        .all(now, now, max) as Row[];
      const lease = this.db.prepare(`UPDATE deliveries SET status = 'sending', lease_until = ?, attempts = attempts + 1 WHERE id = ?`);
      for (const r of rows) lease.run(now + leaseMs, r.id);
      return rows.map((r) => ({
        ...toDelivery(r),
        status: 'sending' as const,
        attempts: (r.attempts as number) + 1,
        leaseUntil: now + leaseMs,
      }));
    })();
  }

  /** Records an attempt's outcome and moves the delivery on: delivered, retry at `retryAt`, or dead. */
  finishAttempt(
    d: Delivery,
    a: { outcome: Attempt['outcome']; httpStatus?: number | null; error?: string | null; durationMs: number; retryAt?: number },
    now = Date.now(),
  ): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO delivery_attempts (delivery_id, at, outcome, http_status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)')
        .run(d.id, new Date(now).toISOString(), a.outcome, a.httpStatus ?? null, a.error ?? null, Math.round(a.durationMs));
      if (a.outcome === 'delivered') {
        this.db
          .prepare(`UPDATE deliveries SET status = 'delivered', lease_until = NULL, delivered_at = ?, last_error = NULL WHERE id = ?`)
          .run(new Date(now).toISOString(), d.id);
      } else if (a.outcome === 'retry') {
        this.db
          .prepare(`UPDATE deliveries SET status = 'pending', lease_until = NULL, next_attempt_at = ?, last_error = ? WHERE id = ?`)
          .run(a.retryAt ?? now, a.error ?? null, d.id);
      } else {
        this.db
          .prepare(`UPDATE deliveries SET status = 'dead', lease_until = NULL, last_error = ? WHERE id = ?`)
          .run(a.error ?? null, d.id);
      }
    })();
  }

  /** Puts dead (or any) deliveries back in the queue now (CLI `deliveries retry`). */
  retryDelivery(id: number, now = Date.now()): boolean {
    return (
      this.db
        .prepare(
          `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_until = NULL WHERE id = ? AND status IN ('dead', 'pending')`,
        )
        .run(now, id).changes === 1
    );
  }

  /**
   * Recordings past retention whose audio may go: catalogued before `before`, not purged yet, and no delivery
   * still pending or being sent (a recording is never deleted before every route had its chance).
   */
  purgeable(before: string, limit = 500): Recording[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM recordings r WHERE r.created_at < ? AND r.purged_at IS NULL AND r.state <> 'recording'
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.recording_id = r.id AND d.status IN ('pending', 'sending'))
           ORDER BY r.created_at LIMIT ?`,
        )
        .all(before, limit) as Row[]
    ).map(toRecording);
  }

  markPurged(id: string, at: Date): void {
    this.db.prepare('UPDATE recordings SET purged_at = ? WHERE id = ? AND purged_at IS NULL').run(at.toISOString(), id);
  }

  counts(): Record<DeliveryStatus, number> {
    const out: Record<DeliveryStatus, number> = { pending: 0, sending: 0, delivered: 0, dead: 0 };
    for (const r of this.db.prepare('SELECT status, COUNT(*) n FROM deliveries GROUP BY status').all() as {
      status: DeliveryStatus;
      n: number;
    }[])
      out[r.status] = r.n;
    return out;
  }
}

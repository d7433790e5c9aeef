import { randomBytes } from 'node:crypto';
import { UserStore } from './users';
import { OutageLog } from './outages';
import { CpaConfigTable } from './cpa-configs';
import { SessionStore } from './sessions';
import { AuditLog } from './audit';
import { LoginCountTable } from './login-counts';
import { readPicture, type CallPicture } from './picture';
import { migrate } from './migrations';
import { isPostgresUrl, ofInstance, PostgresDb, SqliteDb, type Dialect, type Row, type SqlDb } from './sql';

// The catalog: every recording is a row here before anything else touches it, and every delivery is an
// outbox row next to it, so a crash or a restart resumes where it stopped. SQLite (WAL) is the embedded
// default; PostgreSQL (DC_DATABASE_URL) lets several companions share one catalog and one outbox.

import { type DeliveryKind, type RecordingSource } from './kinds';
export { MIGRATIONS } from './migrations';
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
  /** The companion instance whose disk holds the file. */
  node?: string | null;
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
  /** The companion instance whose disk holds the file (its outbox delivers it until it is in the bucket). */
  node?: string | null;
}

export interface Recording extends Omit<
  NewRecording,
  'startedAt' | 'answeredAt' | 'endedAt' | 'cpaEvents' | 'state' | 'recovered' | 'picture' | 'node'
> {
  picture: CallPicture | undefined;
  node: string | null;
  /** The object's key in the bucket once uploaded and verified (null: local file only). */
  objectKey: string | null;
  /** When the local copy was removed after archiving (recordings.keepLocal off). */
  localRemovedAt: string | null;
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
    node: (r.node as string | null | undefined) ?? null,
    objectKey: (r.object_key as string | null | undefined) ?? null,
    localRemovedAt: (r.local_removed_at as string | null | undefined) ?? null,
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

const toCount = (v: unknown): number => Number(v ?? 0);

/** Opens the catalog named by a location: a `postgres://` URL or a SQLite file. */
export function openSqlDb(location: string, o: { onError?: (e: Error) => void } = {}): SqlDb {
  return isPostgresUrl(location) ? new PostgresDb(location, o) : new SqliteDb(location);
}

/**
 * Recordings and their delivery outbox, over SQLite or PostgreSQL (the same statements; `?` placeholders,
 * every value bound). Open it with `Catalog.open()`, which applies the migrations first.
 */
export class Catalog {
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
  /** The portal's failed-login counts (every companion counts the same guesses). */
  readonly loginCounts: LoginCountTable;

  private constructor(readonly db: SqlDb) {
    this.users = new UserStore(db);
    this.outages = new OutageLog(db);
    this.cpaConfigs = new CpaConfigTable(db);
    this.sessions = new SessionStore(db);
    this.audit = new AuditLog(db);
    this.loginCounts = new LoginCountTable(db);
  }

  /** `location`: a SQLite file, or `postgres://user:password@host:port/db`. */
  static async open(location: string, o: { onError?: (e: Error) => void } = {}): Promise<Catalog> {
    const db = openSqlDb(location, o);
    try {
      await migrate(db);
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
    return new Catalog(db);
  }

  get dialect(): Dialect {
    return this.db.dialect;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** Throws unless the database takes a write now (a read-only file or mount, a locked database, a standby). */
  async checkWritable(): Promise<void> {
    if (this.db.dialect === 'postgres') {
      const r = await this.db.get<{ ro: string }>('SHOW transaction_read_only');
      if (r?.ro === 'on') throw new Error(`${this.db.where} is read-only (a standby?)`);
      return;
    }
    await this.db.tx(async () => undefined);
  }

  /**
   * Catalogues a recording and queues its deliveries in one transaction. The same (source, uniqueid) twice
   * returns the existing row: registration after a restart must not duplicate.
   */
  addRecording(r: NewRecording, deliveries: NewDelivery[], now = Date.now()): Promise<Recording> {
    return this.db.tx(async (t) => {
      // Locked: two companions finishing the same call (a restart's sweep and the other node) complete it once.
      const existing = r.uniqueid
        ? await t.get<Row>(`SELECT * FROM recordings WHERE source = ? AND uniqueid = ? ${this.db.forUpdate}`, r.source, r.uniqueid)
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
        r.node ?? null,
      ];
      let id: string;
      if (existing) {
        // The row written ahead when the call started is completed in place (same id, same created_at).
        id = existing.id as string;
        await t.run(
          `UPDATE recordings SET linkedid = COALESCE(?, linkedid), ani = ?, dnis = ?, started_at = COALESCE(?, started_at), answered_at = ?, ended_at = ?,
             duration_ms = ?, path = ?, format = ?, size_bytes = ?, sha256 = ?, cpa_result = ?, cpa_events = ?, state = ?, recovered = ?, picture = ?, node = COALESCE(?, node) WHERE id = ?`,
          ...values,
          id,
        );
      } else {
        id = `rec_${randomBytes(9).toString('base64url')}`;
        const inserted = await t.run(
          `INSERT INTO recordings (linkedid, ani, dnis, started_at, answered_at, ended_at, duration_ms, path, format,
             size_bytes, sha256, cpa_result, cpa_events, state, recovered, picture, node, id, uniqueid, source, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, uniqueid) DO NOTHING`,
          ...values,
          id,
          r.uniqueid,
          r.source,
          created,
        );
        // Another companion catalogued the same call between our read and our insert: theirs stands.
        if (inserted === 0)
          return toRecording((await t.get<Row>('SELECT * FROM recordings WHERE source = ? AND uniqueid = ?', r.source, r.uniqueid))!);
      }
      if (state === 'complete') {
        for (const d of deliveries)
          await t.run(
            `INSERT INTO deliveries (recording_id, route, kind, target, status, attempts, next_attempt_at, created_at)
             VALUES (?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (recording_id, route) DO NOTHING`,
            id,
            d.route,
            d.kind,
            d.target,
            now,
            created,
          );
      }
      return toRecording((await t.get<Row>('SELECT * FROM recordings WHERE id = ?', id))!);
    });
  }

  /**
   * Write ahead: the call's row, in state 'recording', as soon as the call is known. The hangup (or, after
   * a crash, the recovery sweep) completes it. A second call for the same (source, uniqueid) is a no-op.
   */
  async beginRecording(r: StartedRecording, now = Date.now()): Promise<Recording> {
    const id = `rec_${randomBytes(9).toString('base64url')}`;
    await this.db.run(
      `INSERT INTO recordings (id, uniqueid, linkedid, ani, dnis, started_at, duration_ms, path, format, size_bytes, sha256, source, created_at, state, node)
       VALUES (?, ?, ?, ?, ?, ?, 0, ?, 'wav', 0, '', ?, ?, 'recording', ?) ON CONFLICT (source, uniqueid) DO NOTHING`,
      id,
      r.uniqueid,
      r.linkedid ?? null,
      r.ani,
      r.dnis,
      r.startedAt?.toISOString() ?? null,
      r.path,
      r.source,
      new Date(now).toISOString(),
      r.node ?? null,
    );
    return toRecording((await this.db.get<Row>('SELECT * FROM recordings WHERE source = ? AND uniqueid = ?', r.source, r.uniqueid))!);
  }

  /**
   * Rows written ahead whose call has not been completed yet. With `node`, only that companion's (the others'
   * files are on their disks: only they can complete them).
   */
  async openRecordings(limit = 10_000, node?: string): Promise<Recording[]> {
    const own = ofInstance('node', node);
    return (
      await this.db.all<Row>(
        `SELECT * FROM recordings WHERE state = 'recording' ${own.sql} ORDER BY created_at LIMIT ?`,
        ...own.args,
        limit,
      )
    ).map(toRecording);
  }

  /** The recording of a call by its uniqueid, from any door (ARI, AGI); with `node`, one catalogued by that companion. */
  async recordingOfCall(uniqueid: string, node?: string): Promise<Recording | undefined> {
    const own = ofInstance('node', node);
    const r = await this.db.get<Row>(
      `SELECT * FROM recordings WHERE uniqueid = ? ${own.sql} ORDER BY created_at LIMIT 1`,
      uniqueid,
      ...own.args,
    );
    return r && toRecording(r);
  }

  async getRecording(id: string): Promise<Recording | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM recordings WHERE id = ?', id);
    return r && toRecording(r);
  }

  async listRecordings(q: RecordingQuery = {}): Promise<Recording[]> {
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
      if (!q.extensions.length) where.push('1 = 0');
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
    return (await this.db.all<Row>(sql, ...args)).map(toRecording);
  }

  /** Deliveries by state for the admin page ('failing': pending or sending after a failed attempt). */
  async deliveriesIn(state: 'pending' | 'failing' | 'dead', limit = 200): Promise<(Delivery & { ani: string; dnis: string })[]> {
    const cond = state === 'dead' ? `d.status = 'dead'` : DELIVERY_FILTER[state];
    return (
      await this.db.all<Row>(
        `SELECT d.*, r.ani, r.dnis FROM deliveries d JOIN recordings r ON r.id = d.recording_id WHERE ${cond} ORDER BY d.id DESC LIMIT ?`,
        limit,
      )
    ).map((r) => ({ ...toDelivery(r), ani: r.ani as string, dnis: r.dnis as string }));
  }

  /** How many deliveries each admin tab holds. */
  async deliveryStateCounts(): Promise<Record<'pending' | 'failing' | 'dead', number>> {
    const when = (cond: string) => `SUM(CASE WHEN ${cond} THEN 1 ELSE 0 END)`;
    const r = await this.db.get<Row>(
      `SELECT ${when(DELIVERY_FILTER.pending)} pending, ${when(DELIVERY_FILTER.failing)} failing, ${when(`d.status = 'dead'`)} dead
       FROM deliveries d WHERE d.status IN ('pending', 'sending', 'dead')`,
    );
    return { pending: toCount(r?.pending), failing: toCount(r?.failing), dead: toCount(r?.dead) };
  }

  async getDelivery(id: number): Promise<Delivery | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM deliveries WHERE id = ?', id);
    return r && toDelivery(r);
  }

  /** Every dead delivery back in the queue now; returns how many. */
  retryAllDead(now = Date.now()): Promise<number> {
    return this.db.run(`UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_until = NULL WHERE status = 'dead'`, now);
  }

  async deliveriesOf(recordingId: string): Promise<Delivery[]> {
    return (await this.db.all<Row>('SELECT * FROM deliveries WHERE recording_id = ? ORDER BY id', recordingId)).map(toDelivery);
  }

  async listDeliveries(status?: DeliveryStatus, limit = 100): Promise<Delivery[]> {
    const rows = status
      ? await this.db.all<Row>('SELECT * FROM deliveries WHERE status = ? ORDER BY id DESC LIMIT ?', status, limit)
      : await this.db.all<Row>('SELECT * FROM deliveries ORDER BY id DESC LIMIT ?', limit);
    return rows.map(toDelivery);
  }

  async attemptsOf(deliveryId: number): Promise<Attempt[]> {
    return (await this.db.all<Row>('SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY id', deliveryId)).map((r) => ({
      deliveryId: Number(r.delivery_id),
      at: r.at as string,
      outcome: r.outcome as Attempt['outcome'],
      httpStatus: r.http_status === null ? null : Number(r.http_status),
      error: r.error as string | null,
      durationMs: Number(r.duration_ms),
    }));
  }

  /**
   * Takes up to `max` due deliveries for this worker: pending ones whose time has come, and ones left
   * 'sending' by a worker that died (lease expired). The lease keeps two workers off the same delivery; on
   * PostgreSQL, SKIP LOCKED lets several companions claim at once, each getting different rows. With `node`,
   * only deliveries whose audio this companion can read: its own recordings, or any once in the bucket.
   */
  async claimDue(max: number, leaseMs: number, now = Date.now(), node?: string): Promise<Delivery[]> {
    const readable = node
      ? `AND EXISTS (SELECT 1 FROM recordings r WHERE r.id = d.recording_id AND (r.node IS NULL OR r.node = ? OR r.object_key IS NOT NULL))`
      : '';
    // One statement, atomic on its own on both backends (no transaction round trips around it).
    const rows = await this.db.all<Row>(
      `UPDATE deliveries SET status = 'sending', lease_until = ?, attempts = attempts + 1
       WHERE id IN (SELECT d.id FROM deliveries d
                    WHERE ((d.status = 'pending' AND d.next_attempt_at <= ?) OR (d.status = 'sending' AND d.lease_until <= ?)) ${readable}
                    ORDER BY d.next_attempt_at, d.id LIMIT ? ${this.db.skipLocked})
       RETURNING *`,
      Math.round(now + leaseMs),
      Math.round(now),
      Math.round(now),
      ...(node ? [node] : []),
      max,
    );
    return rows.map(toDelivery).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.id - b.id);
  }

  /**
   * Records an attempt's outcome and moves the delivery on: delivered, retry at `retryAt`, or dead. Only while
   * this worker's lease holds (`d.leaseUntil`): a companion that stalled past its lease, whose delivery another
   * one took over, does not overwrite the newer state. Returns false when the lease was lost.
   */
  async finishAttempt(
    d: Delivery,
    a: { outcome: Attempt['outcome']; httpStatus?: number | null; error?: string | null; durationMs: number; retryAt?: number },
    now = Date.now(),
  ): Promise<boolean> {
    const at = new Date(now).toISOString();
    const [set, setArgs]: [string, unknown[]] =
      a.outcome === 'delivered'
        ? [`status = 'delivered', lease_until = NULL, delivered_at = ?, last_error = NULL`, [at]]
        : a.outcome === 'retry'
          ? // Whole milliseconds: the backoff's jitter is fractional, and PostgreSQL's BIGINT refuses fractions.
            [`status = 'pending', lease_until = NULL, next_attempt_at = ?, last_error = ?`, [Math.round(a.retryAt ?? now), a.error ?? null]]
          : [`status = 'dead', lease_until = NULL, last_error = ?`, [a.error ?? null]];
    const update = `UPDATE deliveries SET ${set} WHERE id = ? AND status = 'sending' AND lease_until = ?`;
    const updateArgs = [...setArgs, d.id, d.leaseUntil];
    // The attempt is history either way (it happened); only the state change depends on the lease.
    const lost = `${a.error ? `${a.error}; ` : ''}lease lost: another worker had taken it over`;
    const attempt = [d.id, at, a.outcome, a.httpStatus ?? null];
    return this.db.tx(async (t) => {
      const changed = await t.run(update, ...updateArgs);
      await t.run(
        'INSERT INTO delivery_attempts (delivery_id, at, outcome, http_status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)',
        ...attempt,
        changed ? (a.error ?? null) : lost,
        Math.round(a.durationMs),
      );
      return changed === 1;
    });
  }

  /** Puts dead (or any) deliveries back in the queue now (CLI `deliveries retry`). */
  async retryDelivery(id: number, now = Date.now()): Promise<boolean> {
    return (
      (await this.db.run(
        `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_until = NULL WHERE id = ? AND status IN ('dead', 'pending')`,
        now,
        id,
      )) === 1
    );
  }

  /**
   * Recordings past retention whose audio may go: catalogued before `before`, not purged yet, and no delivery
   * still pending or being sent (a recording is never deleted before every route had its chance). With `node`,
   * only that companion's files.
   */
  async purgeable(before: string, limit = 500, node?: string): Promise<Recording[]> {
    const own = ofInstance('node', node);
    return (
      await this.db.all<Row>(
        `SELECT * FROM recordings r WHERE r.created_at < ? AND r.purged_at IS NULL AND r.state <> 'recording' ${own.sql}
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.recording_id = r.id AND d.status IN ('pending', 'sending'))
         ORDER BY r.created_at LIMIT ?`,
        before,
        ...own.args,
        limit,
      )
    ).map(toRecording);
  }

  /** Complete recordings whose file is not in the bucket yet (with `node`: that companion's), oldest first. */
  async toArchive(limit = 50, node?: string): Promise<Recording[]> {
    const own = ofInstance('node', node);
    return (
      await this.db.all<Row>(
        `SELECT * FROM recordings WHERE object_key IS NULL AND state = 'complete' AND purged_at IS NULL ${own.sql} ORDER BY created_at LIMIT ?`,
        ...own.args,
        limit,
      )
    ).map(toRecording);
  }

  /** The file is in the bucket under `key`, verified. */
  async markArchived(id: string, key: string): Promise<void> {
    await this.db.run('UPDATE recordings SET object_key = ? WHERE id = ? AND object_key IS NULL', key, id);
  }

  /**
   * Archived recordings whose local copy may go (recordings.keepLocal off): in the bucket, and no delivery still
   * pending or being sent (those read the local file while it is there).
   */
  async localRemovable(limit = 200, node?: string): Promise<Recording[]> {
    const own = ofInstance('node', node);
    return (
      await this.db.all<Row>(
        `SELECT * FROM recordings r WHERE r.object_key IS NOT NULL AND r.local_removed_at IS NULL AND r.purged_at IS NULL ${own.sql}
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.recording_id = r.id AND d.status IN ('pending', 'sending'))
         ORDER BY r.created_at LIMIT ?`,
        ...own.args,
        limit,
      )
    ).map(toRecording);
  }

  async markLocalRemoved(id: string, at: Date): Promise<void> {
    await this.db.run('UPDATE recordings SET local_removed_at = ? WHERE id = ? AND local_removed_at IS NULL', at.toISOString(), id);
  }

  async markPurged(id: string, at: Date): Promise<void> {
    await this.db.run('UPDATE recordings SET purged_at = ? WHERE id = ? AND purged_at IS NULL', at.toISOString(), id);
  }

  async counts(): Promise<Record<DeliveryStatus, number>> {
    const out: Record<DeliveryStatus, number> = { pending: 0, sending: 0, delivered: 0, dead: 0 };
    for (const r of await this.db.all<{ status: DeliveryStatus; n: number }>('SELECT status, COUNT(*) n FROM deliveries GROUP BY status'))
      out[r.status] = toCount(r.n);
    return out;
  }
}

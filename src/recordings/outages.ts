import type Database from 'better-sqlite3';

// The connectivity monitor's log: one row per outage of one target, opened when it goes down, closed when
// it answers again. Kept in the catalog's database so that an outage spanning a restart of the service is
// still one outage, and a restore alert that could not be mailed yet is sent later.

export interface Outage {
  id: number;
  target: string;
  kind: string;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  error: string;
  alertedAt: string | null;
}

type Row = {
  id: number;
  target: string;
  kind: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  error: string;
  alerted_at: string | null;
};

const toOutage = (r: Row): Outage => ({
  id: r.id,
  target: r.target,
  kind: r.kind,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  durationMs: r.duration_ms,
  error: r.error,
  alertedAt: r.alerted_at,
});

export class OutageLog {
  constructor(private readonly db: Database.Database) {}

  open(target: string, kind: string, startedAt: Date, error: string): Outage {
    const r = this.db
      .prepare('INSERT INTO outages (target, kind, started_at, error) VALUES (?, ?, ?, ?)')
      .run(target, kind, startedAt.toISOString(), error.slice(0, 500));
    return this.get(Number(r.lastInsertRowid))!;
  }

  /** The latest error of a continuing outage (what an admin sees while it lasts). */
  note(id: number, error: string): void {
    this.db.prepare('UPDATE outages SET error = ? WHERE id = ? AND ended_at IS NULL').run(error.slice(0, 500), id);
  }

  close(id: number, endedAt: Date): Outage | undefined {
    const o = this.get(id);
    if (!o || o.endedAt) return o;
    this.db
      .prepare('UPDATE outages SET ended_at = ?, duration_ms = ? WHERE id = ?')
      .run(endedAt.toISOString(), Math.max(0, endedAt.getTime() - Date.parse(o.startedAt)), id);
    return this.get(id);
  }

  get(id: number): Outage | undefined {
    const r = this.db.prepare('SELECT * FROM outages WHERE id = ?').get(id) as Row | undefined;
    return r && toOutage(r);
  }

  /** Outages still going on, by target (after a restart the monitor carries them on). */
  ongoing(): Outage[] {
    return (this.db.prepare('SELECT * FROM outages WHERE ended_at IS NULL ORDER BY id').all() as Row[]).map(toOutage);
  }

  /** Ended outages whose "restored" alert has not been sent. */
  unalerted(): Outage[] {
    return (this.db.prepare('SELECT * FROM outages WHERE ended_at IS NOT NULL AND alerted_at IS NULL ORDER BY id').all() as Row[]).map(
      toOutage,
    );
  }

  markAlerted(ids: number[], at: Date): void {
    const st = this.db.prepare('UPDATE outages SET alerted_at = ? WHERE id = ?');
    this.db.transaction(() => ids.forEach((id) => st.run(at.toISOString(), id)))();
  }

  /** Outages ever opened, per target (for the metrics). */
  countByTarget(): { target: string; n: number }[] {
    return this.db.prepare('SELECT target, COUNT(*) n FROM outages GROUP BY target').all() as { target: string; n: number }[];
  }

  list(q: { since?: string; target?: string; limit?: number } = {}): Outage[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.since) {
      where.push('started_at >= ?');
      args.push(q.since);
    }
    if (q.target) {
      where.push('target = ?');
      args.push(q.target);
    }
    args.push(Math.min(Math.max(q.limit ?? 100, 1), 10_000));
    return (
      this.db
        .prepare(`SELECT * FROM outages ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ?`)
        .all(...args) as Row[]
    ).map(toOutage);
  }
}

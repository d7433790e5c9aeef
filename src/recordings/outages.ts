import { ofInstance, type SqlDb } from './sql';

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
  /** The companion instance that saw it (several may share one catalog, each with its own view). */
  instance: string | null;
}

type Row = {
  instance?: string | null;
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
  id: Number(r.id),
  target: r.target,
  kind: r.kind,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  durationMs: r.duration_ms,
  error: r.error,
  alertedAt: r.alerted_at,
  instance: r.instance ?? null,
});

export class OutageLog {
  constructor(private readonly db: SqlDb) {}

  async open(target: string, kind: string, startedAt: Date, error: string, instance?: string): Promise<Outage> {
    const r = await this.db.get<Row>(
      'INSERT INTO outages (target, kind, started_at, error, instance) VALUES (?, ?, ?, ?, ?) RETURNING *',
      target,
      kind,
      startedAt.toISOString(),
      error.slice(0, 500),
      instance ?? null,
    );
    return toOutage(r!);
  }

  /** The latest error of a continuing outage (what an admin sees while it lasts). */
  async note(id: number, error: string): Promise<void> {
    await this.db.run('UPDATE outages SET error = ? WHERE id = ? AND ended_at IS NULL', error.slice(0, 500), id);
  }

  async close(id: number, endedAt: Date): Promise<Outage | undefined> {
    const o = await this.get(id);
    if (!o || o.endedAt) return o;
    await this.db.run(
      'UPDATE outages SET ended_at = ?, duration_ms = ? WHERE id = ? AND ended_at IS NULL',
      endedAt.toISOString(),
      Math.max(0, endedAt.getTime() - Date.parse(o.startedAt)),
      id,
    );
    return this.get(id);
  }

  async get(id: number): Promise<Outage | undefined> {
    const r = await this.db.get<Row>('SELECT * FROM outages WHERE id = ?', id);
    return r && toOutage(r);
  }

  /** Outages still going on, by target (after a restart the monitor carries them on); one instance's with `instance`. */
  async ongoing(instance?: string): Promise<Outage[]> {
    const own = ofInstance('instance', instance);
    return (await this.db.all<Row>(`SELECT * FROM outages WHERE ended_at IS NULL ${own.sql} ORDER BY id`, ...own.args)).map(toOutage);
  }

  /** Ended outages whose "restored" alert has not been sent (one instance's with `instance`). */
  async unalerted(instance?: string): Promise<Outage[]> {
    const own = ofInstance('instance', instance);
    return (
      await this.db.all<Row>(`SELECT * FROM outages WHERE ended_at IS NOT NULL AND alerted_at IS NULL ${own.sql} ORDER BY id`, ...own.args)
    ).map(toOutage);
  }

  async markAlerted(ids: number[], at: Date): Promise<void> {
    await this.db.tx(async (t) => {
      for (const id of ids) await t.run('UPDATE outages SET alerted_at = ? WHERE id = ?', at.toISOString(), id);
    });
  }

  /** Outages ever opened, per target (for the metrics). */
  async countByTarget(): Promise<{ target: string; n: number }[]> {
    return (await this.db.all<{ target: string; n: number }>('SELECT target, COUNT(*) n FROM outages GROUP BY target')).map((r) => ({
      target: r.target,
      n: Number(r.n),
    }));
  }

  async list(q: { since?: string; target?: string; limit?: number } = {}): Promise<Outage[]> {
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
      await this.db.all<Row>(
        `SELECT * FROM outages ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ?`,
        ...args,
      )
    ).map(toOutage);
  }
}

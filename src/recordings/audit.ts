import type { SqlDb } from './sql';

// Who listened to what: recordings are personal data. Append-only from the service's side (no update or
// delete statement exists here; retention of the trail is the database admin's decision).

export const AUDIT_ACTIONS = [
  'login',
  'login_failed',
  'logout',
  'recording_view',
  'play',
  'download',
  'user_add',
  'user_set',
  'user_disable',
  'user_enable',
  'user_password',
  'user_remove',
  'delivery_retry',
  'delivery_retry_dead',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  id: number;
  at: string;
  /** Who: a portal user, `cli` for the command line, or the name tried in a failed login. */
  actor: string;
  action: AuditAction;
  /** What: a recording id, a user name, a delivery id. */
  target: string | null;
  /** From where: the client address (or the Unix user for the CLI). */
  remote: string | null;
  detail: string | null;
}

export interface AuditQuery {
  actor?: string;
  action?: AuditAction;
  target?: string;
  since?: string;
  until?: string;
  /** Keyset paging: entries older than this id. */
  before?: number;
  limit?: number;
}

type Row = { id: number; at: string; actor: string; action: string; target: string | null; remote: string | null; detail: string | null };

export class AuditLog {
  constructor(private readonly db: SqlDb) {}

  record(
    e: Omit<AuditEntry, 'id' | 'at' | 'target' | 'remote' | 'detail'> & Partial<Pick<AuditEntry, 'target' | 'remote' | 'detail'>>,
    now = new Date(),
  ): Promise<void> {
    return this.db
      .run(
        'INSERT INTO audit (at, actor, action, target, remote, detail) VALUES (?, ?, ?, ?, ?, ?)',
        now.toISOString(),
        e.actor.slice(0, 64),
        e.action,
        e.target ?? null,
        e.remote ?? null,
        e.detail?.slice(0, 500) ?? null,
      )
      .then(() => undefined);
  }

  async list(q: AuditQuery = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (v: unknown, clause: string) => {
      if (v === undefined || v === '') return;
      where.push(clause);
      args.push(v);
    };
    add(q.actor, 'actor = ?');
    add(q.action, 'action = ?');
    add(q.target, 'target = ?');
    add(q.since, 'at >= ?');
    add(q.until, 'at < ?');
    add(q.before, 'id < ?');
    args.push(Math.min(Math.max(q.limit ?? 100, 1), 1000));
    return (
      await this.db.all<Row>(`SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`, ...args)
    ).map((r) => ({ ...r, id: Number(r.id), action: r.action as AuditAction }));
  }
}

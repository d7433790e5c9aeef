import { createHash, randomBytes } from 'node:crypto';
import type { SqlDb } from './sql';
import type { Role } from './users';

// Portal sessions, server side: the cookie holds only a random id; the database holds its SHA-256 (a copy of
// the database is not a set of live cookies), the user, the CSRF token, and when it was made and last used.
// Ending a session is deleting its row, so logout, a password change, disabling or removing a user take
// effect on the next request, in every tab and on every instance that shares the database.

export interface Session {
  username: string;
  role: Role;
  extensions: string[];
  /** The per-session token every form and POST carries. */
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionLimits {
  /** Ends a session unused this long. */
  idleMs: number;
  /** Ends a session this long after login, used or not. */
  absoluteMs: number;
}

const hash = (id: string) => createHash('sha256').update(id).digest('base64url');
// last_seen_at is written at most this often: a page with its audio and assets must not be a burst of writes.
const TOUCH_EVERY_MS = 60_000;

type Row = { username: string; role: string; extensions: string; csrf: string; created_at: number; last_seen_at: number };

export class SessionStore {
  constructor(private readonly db: SqlDb) {}

  /** A new session; returns the cookie's id (never stored) and its CSRF token. */
  async create(username: string, remote: string, now = Date.now()): Promise<{ id: string; csrf: string }> {
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    await this.db.run(
      'INSERT INTO sessions (id_hash, username, csrf, created_at, last_seen_at, remote) VALUES (?, ?, ?, ?, ?, ?)',
      hash(id),
      username,
      csrf,
      now,
      now,
      remote,
    );
    return { id, csrf };
  }

  /** The session of a cookie id if it is live and its user enabled; a dead one is deleted on the way. */
  async resolve(id: string, limits: SessionLimits, now = Date.now()): Promise<Session | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const h = hash(id);
    const r = await this.db.get<Row>(
      `SELECT s.username, s.csrf, s.created_at, s.last_seen_at, u.role, u.extensions
       FROM sessions s JOIN users u ON u.username = s.username AND u.disabled_at IS NULL WHERE s.id_hash = ?`,
      h,
    );
    if (!r || now - r.last_seen_at > limits.idleMs || now - r.created_at > limits.absoluteMs) {
      if (r) await this.db.run('DELETE FROM sessions WHERE id_hash = ?', h);
      return undefined;
    }
    if (now - r.last_seen_at > TOUCH_EVERY_MS) await this.db.run('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?', now, h);
    return {
      username: r.username,
      role: r.role as Role,
      extensions: r.extensions ? r.extensions.split(',') : [],
      csrf: r.csrf,
      createdAt: r.created_at,
      lastSeenAt: r.last_seen_at,
    };
  }

  async end(id: string): Promise<void> {
    await this.db.run('DELETE FROM sessions WHERE id_hash = ?', hash(id));
  }

  endAllOf(username: string): Promise<number> {
    return this.db.run('DELETE FROM sessions WHERE username = ?', username);
  }

  async countOf(username: string): Promise<number> {
    return Number((await this.db.get<{ n: number }>('SELECT COUNT(*) n FROM sessions WHERE username = ?', username))?.n ?? 0);
  }

  /** Deletes sessions past either limit (run now and then; resolve() also refuses them). */
  prune(limits: SessionLimits, now = Date.now()): Promise<number> {
    return this.db.run('DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?', now - limits.idleMs, now - limits.absoluteMs);
  }
}

import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';

// Portal accounts, next to the recordings they may see (same database, same migrations). Passwords are
// stored as scrypt hashes with a per-user salt; never in clear, never reversible.

export interface PortalUser {
  username: string;
  createdAt: string;
}

export class UserError extends Error {}

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,31}$/;
export const MIN_PASSWORD = 10;
// scrypt cost: ~50 ms per check on this machine kind; slow enough against guessing, fast enough to log in.
const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEYLEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (e, k) => (e ? reject(e) : resolve(k))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  if (password.length < MIN_PASSWORD) throw new UserError(`password: at least ${MIN_PASSWORD} characters`);
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, key] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !key) return false;
  const want = Buffer.from(key, 'base64url');
  const got = await scryptAsync(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
  return want.length === got.length && timingSafeEqual(want, got);
}

// A hash to check against when the user does not exist, so that "no such user" takes as long as "wrong password".
let decoy: Promise<string> | undefined;

export class UserStore {
  constructor(private readonly db: Database.Database) {}

  async add(username: string, password: string, now = new Date()): Promise<PortalUser> {
    if (!USERNAME.test(username))
      throw new UserError('username: 2-32 characters, lower-case letters, digits, . _ - (starting with a letter or digit)');
    const hash = await hashPassword(password);
    const r = this.db
      .prepare('INSERT OR IGNORE INTO users (username, password_hash, created_at) VALUES (?, ?, ?)')
      .run(username, hash, now.toISOString());
    if (r.changes === 0) throw new UserError(`username: '${username}' already exists`);
    return { username, createdAt: now.toISOString() };
  }

  async setPassword(username: string, password: string): Promise<void> {
    const hash = await hashPassword(password);
    const r = this.db.prepare('UPDATE users SET password_hash = ? WHERE username = ?').run(hash, username);
    if (r.changes === 0) throw new UserError(`username: no user '${username}'`);
  }

  remove(username: string): boolean {
    return this.db.prepare('DELETE FROM users WHERE username = ?').run(username).changes > 0;
  }

  list(): PortalUser[] {
    return (
      this.db.prepare('SELECT username, created_at FROM users ORDER BY username').all() as { username: string; created_at: string }[]
    ).map((u) => ({ username: u.username, createdAt: u.created_at }));
  }

  exists(username: string): boolean {
    return this.db.prepare('SELECT 1 FROM users WHERE username = ?').get(username) !== undefined;
  }

  /** The user when the password is right; undefined otherwise (in about the same time either way). */
  async check(username: string, password: string): Promise<PortalUser | undefined> {
    const row = this.db.prepare('SELECT username, password_hash, created_at FROM users WHERE username = ?').get(username) as
      { username: string; password_hash: string; created_at: string } | undefined;
    if (!row) {
      await verifyPassword(password, await (decoy ??= hashPassword(randomBytes(12).toString('base64url'))));
      return undefined;
    }
    return (await verifyPassword(password, row.password_hash)) ? { username: row.username, createdAt: row.created_at } : undefined;
  }
}

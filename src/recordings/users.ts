import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Sql, SqlDb } from './sql';

// Portal accounts, next to the recordings they may see (same database, same migrations). Passwords are
// stored as scrypt hashes with a per-user salt; never in clear, never reversible. A change that takes
// rights away (password, disable, remove) ends the user's sessions in the same transaction.

/** admin: everything, the admin pages too; supervisor: every recording; agent: calls of their extensions. */
export const ROLES = ['admin', 'supervisor', 'agent'] as const;
export type Role = (typeof ROLES)[number];

export interface PortalUser {
  username: string;
  createdAt: string;
  role: Role;
  /** An agent sees the recordings whose ANI or DNIS is one of these. */
  extensions: string[];
  disabled: boolean;
}

const EXTENSION = /^[0-9A-Za-z+*#]{1,32}$/;

/** "2001, 2002" -> ['2001', '2002'], each checked; the error names the bad one. */
export function parseExtensions(text: string): string[] {
  const list = text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = list.find((x) => !EXTENSION.test(x));
  if (bad !== undefined) throw new UserError(`extensions: '${bad}' is not an extension (digits, letters, + * #, up to 32)`);
  if (list.length > 200) throw new UserError('extensions: at most 200');
  return [...new Set(list)];
}

type UserRow = {
  username: string;
  password_hash: string;
  created_at: string;
  role: string;
  extensions: string;
  disabled_at: string | null;
};

function toUser(r: UserRow): PortalUser {
  return {
    username: r.username,
    createdAt: r.created_at,
    role: r.role as Role,
    extensions: r.extensions ? r.extensions.split(',') : [],
    disabled: r.disabled_at !== null,
  };
}

export class UserError extends Error {}

/** What a portal user name may be (checked on add, in searches and notices). */
export const USERNAME = /^[a-z0-9][a-z0-9._-]{1,31}$/;
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
  constructor(private readonly db: SqlDb) {}

  /**
   * A new account. The first one may omit the role (it is the admin who set the service up); every later one
   * names it, so nobody becomes an admin by leaving a flag out.
   */
  async add(username: string, password: string, o: { role?: Role; extensions?: string[] } = {}, now = new Date()): Promise<PortalUser> {
    if (!USERNAME.test(username))
      throw new UserError('username: 2-32 characters, lower-case letters, digits, . _ - (starting with a letter or digit)');
    const role = o.role ?? ((await this.count()) === 0 ? 'admin' : undefined);
    if (!role) throw new UserError(`role: give it (--role ${ROLES.join('|')}); only the first account defaults to admin`);
    if (!ROLES.includes(role)) throw new UserError(`role: one of ${ROLES.join(', ')}`);
    const hash = await hashPassword(password);
    const ext = (o.extensions ?? []).join(',');
    const changed = await this.db.run(
      'INSERT INTO users (username, password_hash, created_at, role, extensions) VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING',
      username,
      hash,
      now.toISOString(),
      role,
      ext,
    );
    if (changed === 0) throw new UserError(`username: '${username}' already exists`);
    return (await this.get(username))!;
  }

  /** Role and/or extensions; the sessions stay (rights are read on every request). */
  async set(username: string, o: { role?: Role; extensions?: string[] }): Promise<PortalUser> {
    if (o.role !== undefined && !ROLES.includes(o.role)) throw new UserError(`role: one of ${ROLES.join(', ')}`);
    return this.db.tx(async (t) => {
      const admins = await activeAdmins(t);
      const u = await userOf(t, username);
      if (!u) throw new UserError(`username: no user '${username}'`);
      if (u.role === 'admin' && o.role && o.role !== 'admin' && !u.disabled && admins === 1)
        throw new UserError(`role: '${username}' is the last active admin`);
      await t.run(
        'UPDATE users SET role = ?, extensions = ? WHERE username = ?',
        o.role ?? u.role,
        (o.extensions ?? u.extensions).join(','),
        username,
      );
      return (await userOf(t, username))!;
    });
  }

  async setPassword(username: string, password: string): Promise<void> {
    const hash = await hashPassword(password);
    await this.db.tx(async (t) => {
      const changed = await t.run('UPDATE users SET password_hash = ? WHERE username = ?', hash, username);
      if (changed === 0) throw new UserError(`username: no user '${username}'`);
      await t.run('DELETE FROM sessions WHERE username = ?', username);
    });
  }

  /** Disabled accounts cannot log in and their sessions end at once; enable() lets them log in again. */
  setDisabled(username: string, disabled: boolean, now = new Date()): Promise<PortalUser> {
    return this.db.tx(async (t) => {
      const admins = await activeAdmins(t);
      const u = await userOf(t, username);
      if (!u) throw new UserError(`username: no user '${username}'`);
      if (disabled && u.role === 'admin' && !u.disabled && admins === 1)
        throw new UserError(`username: '${username}' is the last active admin`);
      await t.run('UPDATE users SET disabled_at = ? WHERE username = ?', disabled ? now.toISOString() : null, username);
      if (disabled) await t.run('DELETE FROM sessions WHERE username = ?', username);
      return (await userOf(t, username))!;
    });
  }

  remove(username: string): Promise<boolean> {
    return this.db.tx(async (t) => {
      const admins = await activeAdmins(t);
      const u = await userOf(t, username);
      if (u?.role === 'admin' && !u.disabled && admins === 1) throw new UserError(`username: '${username}' is the last active admin`);
      await t.run('DELETE FROM sessions WHERE username = ?', username);
      return (await t.run('DELETE FROM users WHERE username = ?', username)) > 0;
    });
  }

  async list(): Promise<PortalUser[]> {
    return (await this.db.all<UserRow>('SELECT * FROM users ORDER BY username')).map(toUser);
  }

  get(username: string): Promise<PortalUser | undefined> {
    return userOf(this.db, username);
  }

  async count(): Promise<number> {
    return Number((await this.db.get<{ n: number }>('SELECT COUNT(*) n FROM users'))?.n ?? 0);
  }

  async exists(username: string): Promise<boolean> {
    return (await this.db.get('SELECT 1 FROM users WHERE username = ? AND disabled_at IS NULL', username)) !== undefined;
  }

  /** The user when the password is right and the account enabled; undefined otherwise (in about the same time). */
  async check(username: string, password: string): Promise<PortalUser | undefined> {
    const row = await this.db.get<UserRow>('SELECT * FROM users WHERE username = ?', username);
    if (!row) {
      await verifyPassword(password, await (decoy ??= hashPassword(randomBytes(12).toString('base64url'))));
      return undefined;
    }
    const ok = await verifyPassword(password, row.password_hash);
    return ok && row.disabled_at === null ? toUser(row) : undefined;
  }
}

async function userOf(t: Sql, username: string): Promise<PortalUser | undefined> {
  const r = await t.get<UserRow>('SELECT * FROM users WHERE username = ?', username);
  return r && toUser(r);
}

// Read first, locking the active admins' rows (always in the same order, so two such changes cannot deadlock):
// two admins demoting each other at once on two companions cannot leave none. SQLite's write lock already
// serialises them.
async function activeAdmins(t: Sql): Promise<number> {
  return (await t.all(`SELECT username FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY username ${t.forUpdate}`)).length;
}

// The portal's building blocks: byte ranges, sessions, roles, password hashes, the login throttle, file names.
import { parseRange } from '../../src/portal/range';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canSee, sessionCookie } from '../../src/portal/session';
import { LoginThrottle, MemoryLoginCounts } from '../../src/portal/login-throttle';
import { contentDisposition } from '../../src/portal/send-audio';
import { Catalog, parseExtensions, type Recording, type Role } from '../../src/recordings';
import { hashPassword, verifyPassword } from '../../src/recordings';

test('Range: first bytes, open end, suffix, clamped end, unsatisfiable, ignored forms', () => {
  expect(parseRange('bytes=0-99', 1000)).toEqual({ kind: 'partial', start: 0, end: 99 });
  expect(parseRange('bytes=900-', 1000)).toEqual({ kind: 'partial', start: 900, end: 999 });
  expect(parseRange('bytes=-100', 1000)).toEqual({ kind: 'partial', start: 900, end: 999 });
  expect(parseRange('bytes=-5000', 1000)).toEqual({ kind: 'partial', start: 0, end: 999 });
  expect(parseRange('bytes=500-99999', 1000)).toEqual({ kind: 'partial', start: 500, end: 999 });
  expect(parseRange('bytes=1000-', 1000)).toEqual({ kind: 'unsatisfiable' });
  expect(parseRange('bytes=-0', 1000)).toEqual({ kind: 'unsatisfiable' });
  for (const h of [undefined, 'bytes=0-1,5-9', 'items=0-5', 'bytes=9-3', 'garbage']) expect(parseRange(h, 1000)).toEqual({ kind: 'whole' });
});

test('sessions: a random id in the cookie, its hash in the catalog; idle and absolute limits; ended by logout, password, disable, remove', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-sessions-'));
  const c = await Catalog.open(join(dir, 'c.sqlite'));
  try {
    await c.users.add('alice', 'a long password', { role: 'admin' });
    await c.users.add('bob', 'a long password', { role: 'agent', extensions: ['2001'] });
    const limits = { idleMs: 30 * 60_000, absoluteMs: 12 * 3600_000 };
    const t0 = 1_000_000_000;
    const a = await c.sessions.create('alice', '127.0.0.1', t0);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await c.sessions.resolve(a.id, limits, t0 + 1000)).toMatchObject({ username: 'alice', role: 'admin', csrf: a.csrf });
    expect(await c.sessions.resolve(`${a.id.slice(0, -1)}x`, limits, t0 + 1000)).toBeUndefined();
    // used every 20 min it lives on, up to the absolute limit
    for (let t = t0; t < t0 + 11 * 3600_000; t += 20 * 60_000) expect(await c.sessions.resolve(a.id, limits, t)).toBeDefined();
    expect(await c.sessions.resolve(a.id, limits, t0 + 12 * 3600_000 + 1)).toBeUndefined();
    const b = await c.sessions.create('bob', '127.0.0.1', t0);
    expect(await c.sessions.resolve(b.id, limits, t0 + 31 * 60_000)).toBeUndefined(); // idle
    // what takes rights away ends every session of that user at once
    const b1 = await c.sessions.create('bob', '127.0.0.1', t0);
    const b2 = await c.sessions.create('bob', '127.0.0.2', t0);
    await c.users.setPassword('bob', 'another long password');
    expect([await c.sessions.resolve(b1.id, limits, t0), await c.sessions.resolve(b2.id, limits, t0)]).toEqual([undefined, undefined]);
    const b3 = await c.sessions.create('bob', '127.0.0.1', t0);
    await c.users.setDisabled('bob', true);
    expect(await c.sessions.resolve(b3.id, limits, t0)).toBeUndefined();
    await expect(c.users.check('bob', 'another long password')).resolves.toBeUndefined();
    await c.users.setDisabled('bob', false);
    await expect(c.users.check('bob', 'another long password')).resolves.toMatchObject({ role: 'agent', extensions: ['2001'] });
    const b4 = await c.sessions.create('bob', '127.0.0.1', t0);
    await c.users.remove('bob');
    expect(await c.sessions.resolve(b4.id, limits, t0)).toBeUndefined();
    // the last admin cannot be demoted, disabled or removed
    await expect(c.users.set('alice', { role: 'agent' })).rejects.toThrow(/last active admin/);
    await expect(c.users.setDisabled('alice', true)).rejects.toThrow(/last active admin/);
    await expect(c.users.remove('alice')).rejects.toThrow(/last active admin/);
    // only the first account may leave the role out
    await expect(c.users.add('carol', 'a long password')).rejects.toThrow(/role: give it/);
    expect(() => parseExtensions('2001, 20x;2')).toThrow(/'20x;2' is not an extension/);
    expect(parseExtensions(' 2001,2002,2001 ')).toEqual(['2001', '2002']);
    const cookie = sessionCookie(
      { secret: 's'.repeat(32), secure: true, idleMs: 1, absoluteMs: 3600_000, origins: [], trustProxy: [] },
      a.id,
    );
    expect(cookie).toBe(`dc_session=${a.id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure`);
  } finally {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an agent sees the calls of their extensions, as caller or as dialled number; others see all', () => {
  const s = (role: Role, extensions: string[]) => ({ username: 'x', role, extensions, csrf: '', createdAt: 0, lastSeenAt: 0 });
  const rec = { ani: '2001', dnis: '4175551234' } as Recording;
  expect(canSee(s('agent', ['2001']), rec)).toBe(true);
  expect(canSee(s('agent', ['4175551234']), rec)).toBe(true);
  expect(canSee(s('agent', ['2002']), rec)).toBe(false);
  expect(canSee(s('agent', []), rec)).toBe(false);
  expect(canSee(s('supervisor', []), rec)).toBe(true);
});

test('Content-Disposition: a caller id cannot end the quoted name or add parameters; the exact name goes in filename*', () => {
  expect(contentDisposition('attachment', 'a"; filename=evil.exe;\r\n-x.wav')).toBe(
    `attachment; filename="a__ filename=evil.exe_-x.wav"; filename*=UTF-8''a%22%3B%20filename%3Devil.exe%3B-x.wav`,
  );
  expect(contentDisposition('inline', 'José-4175551234-rec_1.wav')).toBe(
    `inline; filename="Jos_-4175551234-rec_1.wav"; filename*=UTF-8''Jos%C3%A9-4175551234-rec_1.wav`,
  );
});

test('passwords: scrypt with a salt per hash; the right one verifies, others do not; short ones are refused', async () => {
  const a = await hashPassword('correct horse battery');
  const b = await hashPassword('correct horse battery');
  expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
  expect(a).not.toBe(b);
  expect(a).not.toContain('correct');
  await expect(verifyPassword('correct horse battery', a)).resolves.toBe(true);
  await expect(verifyPassword('correct horse batterY', a)).resolves.toBe(false);
  await expect(verifyPassword('x', 'plain-text-in-db')).resolves.toBe(false);
  await expect(hashPassword('short')).rejects.toThrow(/password: at least 10/);
});

// The same arithmetic on the counts kept in this process and on the catalog's table (what the portal uses).
describe.each(['memory', 'catalog'] as const)('login throttle (%s counts)', (where) => {
  test('counted before the check, per account and address; blocks grow; another address and the account owner get in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-throttle-'));
    const c = where === 'catalog' ? await Catalog.open(join(dir, 'c.sqlite')) : undefined;
    try {
      const t = new LoginThrottle(c?.loginCounts ?? new MemoryLoginCounts(), {
        perPair: 5,
        perAddress: 30,
        windowMs: 60_000,
        firstBlockMs: 60_000,
        maxBlockMs: 3600_000,
      });
      // 40 at once (none finished): 5 admitted, 35 refused before any password is checked
      const tickets = await Promise.all(Array.from({ length: 40 }, () => t.admit('alice', '10.0.0.1', 1000)));
      expect(tickets.filter((x) => x.ok)).toHaveLength(5);
      expect(tickets.filter((x) => !x.ok).every((x) => !x.ok && x.reason === 'account' && x.retryAfterSec === 60)).toBe(true);
      for (const x of tickets) if (x.ok) await x.failed();
      // the attacker's own account, from the same address, logs in: alice's count is not reset
      const own = await t.admit('mallory', '10.0.0.1', 2000);
      expect(own.ok).toBe(true);
      if (own.ok) await own.succeeded();
      expect((await t.admit('alice', '10.0.0.1', 2000)).ok).toBe(false);
      // alice from her own address still gets in (with a delay: her account is being guessed)
      const mine = await t.admit('alice', '10.0.0.2', 2000);
      expect(mine).toMatchObject({ ok: true, delayMs: 0 });
      if (mine.ok) await mine.succeeded();
      // the block doubles when it is hit again after it ended
      const later = await t.admit('alice', '10.0.0.1', 62_000);
      expect(later.ok).toBe(true);
      for (let i = 0; i < 4; i++) {
        const x = await t.admit('alice', '10.0.0.1', 62_000);
        if (x.ok) await x.failed();
      }
      if (later.ok) await later.failed();
      const blocked = await t.admit('alice', '10.0.0.1', 62_001);
      expect(blocked).toMatchObject({ ok: false, retryAfterSec: 120 });
      // one address spraying many accounts is stopped after perAddress failures
      for (let i = 0; i < 30; i++) {
        const x = await t.admit(`user${i}`, '10.0.0.9', 5000);
        if (x.ok) await x.failed();
      }
      expect(await t.admit('someone-else', '10.0.0.9', 5000)).toMatchObject({ ok: false, reason: 'address' });
      // many addresses guessing one account: never refused there, but answered more and more slowly
      for (let i = 0; i < 8; i++) {
        const x = await t.admit('bob', `10.1.0.${i}`, 5000);
        if (x.ok) await x.failed();
      }
      expect(await t.admit('bob', '10.1.1.1', 5000)).toMatchObject({ ok: true, delayMs: 2000 });
      if (c) {
        // kept over a restart: a new process on the same catalog still refuses alice from the guessing address
        await c.close();
        const again = await Catalog.open(join(dir, 'c.sqlite'));
        const t2 = new LoginThrottle(again.loginCounts, {
          perPair: 5,
          perAddress: 30,
          windowMs: 60_000,
          firstBlockMs: 60_000,
          maxBlockMs: 3600_000,
        });
        expect(await t2.admit('alice', '10.0.0.1', 62_002)).toMatchObject({ ok: false, reason: 'account' });
        await again.close();
      }
    } finally {
      if (c && where === 'catalog') await c.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The portal's building blocks: byte ranges, session cookies, password hashes, the login throttle.
import { parseRange } from '../../src/portal/range';
import { sessionCookie, sessionUser, LoginThrottle } from '../../src/portal/session';
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

test('session cookie: accepted as issued, refused when altered, re-signed, expired or for another secret', () => {
  const o = { secret: 'a'.repeat(32), ttlMs: 60_000, secure: true };
  const set = sessionCookie(o, 'alice', 1_000_000);
  expect(set).toMatch(/HttpOnly/);
  expect(set).toMatch(/SameSite=Strict/);
  expect(set).toMatch(/Secure/);
  const pair = set.split(';')[0]!;
  expect(sessionUser(o, `x=1; ${pair}`, 1_000_001)).toBe('alice');
  expect(sessionUser(o, pair, 1_000_000 + 60_001)).toBeUndefined();
  expect(sessionUser({ ...o, secret: 'b'.repeat(32) }, pair, 1_000_001)).toBeUndefined();
  const [payload, sig] = pair.slice('dc_session='.length).split('.') as [string, string];
  const other = Buffer.from(JSON.stringify({ u: 'admin', exp: 9e15 })).toString('base64url');
  expect(sessionUser(o, `dc_session=${other}.${sig}`, 1_000_001)).toBeUndefined();
  expect(sessionUser(o, `dc_session=${payload}.${sig.slice(1)}x`, 1_000_001)).toBeUndefined();
  expect(sessionUser(o, 'dc_session=garbage', 1_000_001)).toBeUndefined();
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

test('login throttle: 5 failures per address per window, then a wait; a success clears it', () => {
  const t = new LoginThrottle(5, 60_000);
  for (let i = 0; i < 5; i++) {
    expect(t.retryAfter('1.2.3.4', 1000 + i)).toBe(0);
    t.failed('1.2.3.4', 1000 + i);
  }
  expect(t.retryAfter('1.2.3.4', 2000)).toBe(59);
  expect(t.retryAfter('5.6.7.8', 2000)).toBe(0);
  expect(t.retryAfter('1.2.3.4', 61_001)).toBe(0);
  t.succeeded('1.2.3.4');
  expect(t.retryAfter('1.2.3.4', 2000)).toBe(0);
});

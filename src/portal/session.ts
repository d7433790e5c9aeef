import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

// Who is logged in: a cookie holding the user name and an expiry, HMAC-signed with the portal's session
// secret. HttpOnly (no script reads it), SameSite=Strict (no other site can make the browser send it, which
// is also the CSRF defence for the portal's few POSTs), Secure when the portal is served over https.

export const COOKIE = 'dc_session';

export interface SessionOptions {
  secret: string;
  ttlMs: number;
  secure: boolean;
}

function mac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

export function sessionCookie(o: SessionOptions, username: string, now = Date.now()): string {
  const payload = Buffer.from(JSON.stringify({ u: username, exp: now + o.ttlMs })).toString('base64url');
  const attrs = ['Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.floor(o.ttlMs / 1000)}`, ...(o.secure ? ['Secure'] : [])];
  return `${COOKIE}=${payload}.${mac(o.secret, payload)}; ${attrs.join('; ')}`;
}

export function clearedCookie(o: SessionOptions): string {
  return `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${o.secure ? '; Secure' : ''}`;
}

/** The user name in a valid, unexpired session cookie, else undefined. */
export function sessionUser(o: SessionOptions, cookieHeader: string | undefined, now = Date.now()): string | undefined {
  if (!cookieHeader) return undefined;
  const raw = cookieHeader
    .split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${COOKIE}=`))
    ?.slice(COOKIE.length + 1);
  if (!raw) return undefined;
  const [payload, sig] = raw.split('.');
  if (!payload || !sig) return undefined;
  const want = Buffer.from(mac(o.secret, payload));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
  try {
    const s = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { u?: unknown; exp?: unknown };
    return typeof s.u === 'string' && typeof s.exp === 'number' && s.exp > now ? s.u : undefined;
  } catch {
    return undefined;
  }
}

/** The logged-in user of a request: a valid session of an account that still exists. */
export function loggedInUser(
  o: SessionOptions,
  cookieHeader: string | undefined,
  stillExists: (username: string) => boolean,
): string | undefined {
  const user = sessionUser(o, cookieHeader);
  return user && stillExists(user) ? user : undefined;
}

/**
 * Pages need a session: a browser is sent to the login page (and back afterwards), anything else gets 401.
 * `stillExists` makes a removed account's cookie useless at once.
 */
export function requireLogin(o: SessionOptions, stillExists: (username: string) => boolean) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const user = loggedInUser(o, req.headers.cookie, stillExists);
    if (user) {
      res.locals.user = user;
      next();
      return;
    }
    if (req.method === 'GET' && req.accepts(['html', 'json']) === 'html' && !req.path.endsWith('/audio')) {
      res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    res.status(401).json({ ok: false, error: 'log in first' });
  };
}

/** Failed logins per client address: after `max` in `windowMs`, refuse for the rest of the window. */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();
  constructor(
    private readonly max = 5,
    private readonly windowMs = 5 * 60_000,
  ) {}

  /** Seconds to wait, or 0 when the address may try. */
  retryAfter(key: string, now = Date.now()): number {
    const f = this.failures.get(key);
    if (!f || now - f.since >= this.windowMs) return 0;
    return f.count >= this.max ? Math.ceil((f.since + this.windowMs - now) / 1000) : 0;
  }

  failed(key: string, now = Date.now()): void {
    const f = this.failures.get(key);
    if (!f || now - f.since >= this.windowMs) this.failures.set(key, { count: 1, since: now });
    else f.count++;
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }
}

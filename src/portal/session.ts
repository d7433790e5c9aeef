import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { normalizeAddress, peerAllowed } from '../net/access';
import type { Catalog, Recording, Role, Session, SessionLimits } from '../recordings';

// Who is logged in: a cookie holding a random session id (HttpOnly, SameSite=Strict, Secure over https), looked
// up in the catalog's sessions table on every request together with the user's role and whether the account is
// still enabled. Every POST carries the session's CSRF token and, when the browser says where it comes from
// (Origin, else Referer), must come from the portal itself. The login form has its own token, bound to a
// short-lived cookie, so no other site can log a browser in to an account of its choosing.

export const COOKIE = 'dc_session';
const LOGIN_COOKIE = 'dc_login';

export interface SessionOptions extends SessionLimits {
  /** Signs the login form's token. */
  secret: string;
  secure: boolean;
  /** Origins POSTs may come from besides the request's own host (the public URL's). */
  origins: string[];
  /** Reverse proxies whose X-Forwarded-For names the client (portal.trustProxy). */
  trustProxy: string[];
}

export interface PortalLocals {
  session: Session;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  return header
    ?.split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${name}=`))
    ?.slice(name.length + 1);
}

const attrs = (o: SessionOptions, maxAgeSec: number) =>
  ['Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSec}`, ...(o.secure ? ['Secure'] : [])].join('; ');

export function sessionCookie(o: SessionOptions, id: string): string {
  return `${COOKIE}=${id}; ${attrs(o, Math.floor(o.absoluteMs / 1000))}`;
}

export function clearedCookie(o: SessionOptions): string {
  return `${COOKIE}=; ${attrs(o, 0)}`;
}

/** The client's address: the peer, or behind a trusted proxy the last address it was given that is not a proxy. */
export function clientAddress(req: Request, trustProxy: string[]): string {
  const peer = normalizeAddress(req.socket.remoteAddress) || '?';
  if (!trustProxy.length || !peerAllowed(peer, trustProxy)) return peer;
  const hops = String(req.headers['x-forwarded-for'] ?? '')
    .split(',')
    .map((h) => normalizeAddress(h.trim()))
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!peerAllowed(hops[i]!, trustProxy)) return hops[i]!;
  return hops[0] ?? peer;
}

export async function currentSession(o: SessionOptions, catalog: Catalog, req: Request): Promise<Session | undefined> {
  const id = readCookie(req.headers.cookie, COOKIE);
  return id ? catalog.sessions.resolve(id, o) : undefined;
}

/** An agent sees the calls of their extensions (as caller or as dialled number); the other roles see all. */
export function canSee(s: Session, rec: Recording): boolean {
  return s.role !== 'agent' || s.extensions.includes(rec.ani) || s.extensions.includes(rec.dnis);
}

/**
 * Pages need a session (and, given roles, one of them): a browser is sent to the login page and back
 * afterwards, anything else gets 401; a logged-in user without the role gets 403.
 */
export function requireLogin(o: SessionOptions, catalog: Catalog, roles?: Role[]) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const s = await currentSession(o, catalog, req);
    if (!s) {
      if (readCookie(req.headers.cookie, COOKIE)) res.append('set-cookie', clearedCookie(o));
      if (req.method === 'GET' && req.accepts(['html', 'json']) === 'html' && !/\/(audio|download)$/.test(req.path)) {
        res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
        return;
      }
      res.status(401).json({ ok: false, error: 'log in first' });
      return;
    }
    if (roles && !roles.includes(s.role)) {
      res.status(403).json({ ok: false, error: `only for ${roles.join(' or ')}` });
      return;
    }
    (res.locals as PortalLocals).session = s;
    next();
  };
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Origin (or Referer) absent, or one of the portal's own. */
function fromHere(o: SessionOptions, req: Request): boolean {
  const claimed = req.headers.origin ?? (req.headers.referer ? safeOrigin(req.headers.referer) : undefined);
  if (claimed === undefined) return true;
  const host = req.headers.host;
  return o.origins.includes(claimed) || (host !== undefined && (claimed === `http://${host}` || claimed === `https://${host}`));
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'null';
  }
}

/** After requireLogin on every POST: the session's token (form field _csrf or header x-csrf-token), from here. */
export function requireCsrf(o: SessionOptions) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const s = (res.locals as PortalLocals).session;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const token = typeof body._csrf === 'string' ? body._csrf : String(req.headers['x-csrf-token'] ?? '');
    if (!s || !token || !sameToken(token, s.csrf) || !fromHere(o, req)) {
      res.status(403).json({ ok: false, error: 'this form is stale or came from another site: reload the page and try again' });
      return;
    }
    next();
  };
}

/** The login form's token: a random cookie, and its HMAC in the form. */
export function loginToken(o: SessionOptions, req: Request, res: Response): string {
  let nonce = readCookie(req.headers.cookie, LOGIN_COOKIE);
  if (!nonce || !/^[A-Za-z0-9_-]{22,64}$/.test(nonce)) {
    nonce = randomBytes(18).toString('base64url');
    res.append('set-cookie', `${LOGIN_COOKIE}=${nonce}; ${attrs(o, 3600)}`);
  }
  return createHmac('sha256', o.secret).update(nonce).digest('base64url');
}

export function loginTokenValid(o: SessionOptions, req: Request, token: unknown): boolean {
  const nonce = readCookie(req.headers.cookie, LOGIN_COOKIE);
  if (!nonce || typeof token !== 'string' || !fromHere(o, req)) return false;
  return sameToken(token, createHmac('sha256', o.secret).update(nonce).digest('base64url'));
}

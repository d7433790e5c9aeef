// Logging in to the portal over HTTP as a browser does: GET /login for the form's token (and its cookie), then
// POST it. Returns the session cookie and the session's CSRF token for later POSTs.
import { request } from 'node:http';

export interface PortalLogin {
  status: number;
  location: string | null;
  /** "dc_session=..." when the login worked. */
  cookie: string;
  retryAfter: string | null;
}

function cookiesOf(res: Response): string[] {
  return res.headers.getSetCookie().map((c) => c.split(';')[0]!);
}

/** One login attempt (from this process's address; `localAddress` picks another loopback address). */
export async function loginAttempt(
  base: string,
  username: string,
  password: string,
  o: { next?: string; localAddress?: string } = {},
): Promise<PortalLogin> {
  const form = await fetch(`${base}/login`);
  const loginCookie = cookiesOf(form).find((c) => c.startsWith('dc_login='))!;
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const body = new URLSearchParams({ username, password, _csrf: token, ...(o.next ? { next: o.next } : {}) }).toString();
  if (!o.localAddress) {
    const res = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie },
      body,
    });
    await res.arrayBuffer();
    return {
      status: res.status,
      location: res.headers.get('location'),
      cookie: cookiesOf(res).find((c) => c.startsWith('dc_session=') && c.length > 'dc_session='.length) ?? '',
      retryAfter: res.headers.get('retry-after'),
    };
  }
  // fetch cannot choose its source address; node:http can.
  const u = new URL(`${base}/login`);
  return new Promise<PortalLogin>((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        localAddress: o.localAddress,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const set = ([] as string[]).concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!);
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location ?? null,
            cookie: set.find((c) => c.startsWith('dc_session=') && c.length > 'dc_session='.length) ?? '',
            retryAfter: (res.headers['retry-after'] as string | undefined) ?? null,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Logs in (or throws) and reads the session's CSRF token from a page. */
export async function portalLogin(base: string, username: string, password: string): Promise<{ cookie: string; csrf: string }> {
  const r = await loginAttempt(base, username, password);
  if (r.status !== 303 || !r.cookie) throw new Error(`login as ${username}: ${r.status}`);
  const page = await fetch(`${base}/recordings`, { headers: { cookie: r.cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!csrf) throw new Error('no CSRF token on the recordings page');
  return { cookie: r.cookie, csrf };
}

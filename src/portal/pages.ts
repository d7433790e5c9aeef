import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../log';
import type { AuditAction, Bucket, Catalog, Recording, Session } from '../recordings';
import { CSP, PORTAL_CSS, PORTAL_JS, esc, page, type Viewer } from './html';
import { LoginThrottle } from './login-throttle';
import {
  canSee,
  clearedCookie,
  clientAddress,
  COOKIE,
  currentSession,
  loginToken,
  loginTokenValid,
  readCookie,
  requireCsrf,
  requireLogin,
  sessionCookie,
  type PortalLocals,
  type SessionOptions,
} from './session';
import { sendAudio } from './send-audio';
import { BadSearch, cursorOf, PAGE_SIZE, searchForm, searchQuery } from './search';
import { mmss, placeEvents, timelineSvg } from './timeline';

export interface PagesOptions {
  catalog: Catalog;
  root: string;
  /** The archive (recordings on other companions' disks, or whose local copy went). */
  bucket?: Bucket;
  session: SessionOptions;
  log: Logger;
  /** The connectivity monitor's live view, when it runs. */
  connectivity?: () => { name: string; up: boolean | undefined; lastCheck: string | undefined; lastError: string | undefined }[];
  throttle?: LoginThrottle;
}

export { BadSearch, searchQuery } from './search';

export function when(iso: string | null): string {
  return iso ? iso.replace('T', ' ').slice(0, 19) : '';
}

function recordingRow(r: Recording): string {
  return `<tr data-id="${esc(r.id)}"><td><a href="/recordings/${encodeURIComponent(r.id)}">${esc(when(r.startedAt ?? r.createdAt))}</a></td><td>${esc(r.ani || 'anonymous')}</td><td>${esc(r.dnis)}</td><td>${mmss(r.durationMs / 1000)}${r.purgedAt ? ' <span class="muted">(audio deleted)</span>' : r.state === 'no_audio' ? ' <span class="muted">(no audio)</span>' : ''}${r.recovered ? ' <span class="muted">(recovered)</span>' : ''}</td><td>${r.cpaResult ? `<span class="badge ${esc(r.cpaResult)}">${esc(r.cpaResult)}</span>` : '<span class="muted">-</span>'}</td><td>${esc(r.source)}</td></tr>`;
}

export const viewer = (s: Session): Viewer => ({ username: s.username, role: s.role, csrf: s.csrf });
export const sessionOf = (res: Response): Session => (res.locals as PortalLocals).session;

export function sendHtml(res: Response, status: number, body: string): void {
  res.status(status).set({ 'content-security-policy': CSP, 'cache-control': 'no-store' }).type('html').send(body);
}

/** Writes one audit entry for the request's user (or `actor` when there is none). */
export function auditOf(o: Pick<PagesOptions, 'catalog' | 'session'>) {
  return (req: Request, actor: string, action: AuditAction, target?: string, detail?: string) =>
    o.catalog.audit.record({ actor, action, target, detail, remote: clientAddress(req, o.session.trustProxy) });
}

/** Login, search, a recording's page with its player and call picture, the audio with Range support. */
export function pagesRouter(o: PagesOptions): Router {
  const r = express.Router();
  const throttle = o.throttle ?? new LoginThrottle(o.catalog.loginCounts);
  const anyone = requireLogin(o.session, o.catalog);
  const admins = requireLogin(o.session, o.catalog, ['admin']);
  const audit = auditOf(o);
  const html = sendHtml;

  r.get('/assets/portal.css', (_req, res) => res.type('css').set('cache-control', 'max-age=3600').send(PORTAL_CSS));
  r.get('/assets/portal.js', (_req, res) => res.type('js').set('cache-control', 'max-age=3600').send(PORTAL_JS));
  r.get('/', (_req, res) => res.redirect(303, '/recordings'));

  const loginPage = (req: Request, res: Response, next: string, error?: string) =>
    page(
      'Log in',
      `<form class="login" method="post" action="/login"><h1>Recordings portal</h1>${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<label>User name<input name="username" autocomplete="username" required autofocus></label>
<label>Password<input name="password" type="password" autocomplete="current-password" required></label>
<input type="hidden" name="next" value="${esc(next)}"><input type="hidden" name="_csrf" value="${esc(loginToken(o.session, req, res))}"><button class="primary" type="submit">Log in</button></form>`,
    );
  // Only local paths: a login link must not send the user to another site afterwards.
  const safeNext = (v: unknown) => (typeof v === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(v) ? v : '/recordings');

  r.get('/login', async (req, res) => {
    const next = safeNext(req.query.next);
    // Only a session that is live (its user enabled) counts: a dead cookie is cleared, never bounced back here.
    if (await currentSession(o.session, o.catalog, req)) return res.redirect(303, next);
    if (readCookie(req.headers.cookie, COOKIE)) res.append('set-cookie', clearedCookie(o.session));
    html(res, 200, loginPage(req, res, next));
  });

  r.post('/login', express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 }), async (req, res) => {
    const who = clientAddress(req, o.session.trustProxy);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNext(body.next);
    if (!loginTokenValid(o.session, req, body._csrf))
      return html(res, 403, loginPage(req, res, next, 'This login form has expired or came from another site: log in again.'));
    const username = typeof body.username === 'string' ? body.username.trim().toLowerCase().slice(0, 64) : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (!username || !password) return html(res, 400, loginPage(req, res, next, 'Enter your user name and password.'));
    const admitted = await throttle.admit(username, who);
    if (!admitted.ok) {
      o.log.warn({ username, remote: who, why: admitted.reason }, 'portal login refused: too many failed logins');
      return html(
        res.set('retry-after', String(admitted.retryAfterSec)),
        429,
        loginPage(req, res, next, `Too many failed logins: try again in ${admitted.retryAfterSec} s.`),
      );
    }
    if (admitted.delayMs) await new Promise((done) => setTimeout(done, admitted.delayMs));
    const user = await o.catalog.users.check(username, password).catch(async (e: unknown) => {
      await admitted.done();
      throw e;
    });
    if (!user) {
      await admitted.failed();
      await audit(req, username, 'login_failed');
      o.log.warn({ username, remote: who }, 'portal login failed');
      return html(res, 401, loginPage(req, res, next, 'Wrong user name or password.'));
    }
    await admitted.succeeded();
    const s = await o.catalog.sessions.create(user.username, who);
    await audit(req, user.username, 'login', undefined, user.role);
    o.log.info({ username: user.username, role: user.role, remote: who }, 'portal login');
    res.append('set-cookie', sessionCookie(o.session, s.id)).redirect(303, next);
  });

  const logoutCsrf = requireCsrf(o.session);
  r.post('/logout', express.urlencoded({ extended: false, limit: '1kb', parameterLimit: 5 }), async (req, res, next) => {
    const s = await currentSession(o.session, o.catalog, req);
    // Already logged out (another tab did it): nothing to protect, just go to the login page.
    if (!s) return res.append('set-cookie', clearedCookie(o.session)).redirect(303, '/login');
    (res.locals as PortalLocals).session = s;
    logoutCsrf(req, res, () => {
      void (async () => {
        await o.catalog.sessions.end(readCookie(req.headers.cookie, COOKIE)!);
        await audit(req, s.username, 'logout');
        res.append('set-cookie', clearedCookie(o.session)).redirect(303, '/login');
      })().catch(next);
    });
  });

  r.get('/recordings', anyone, async (req, res) => {
    const s = sessionOf(res);
    const agents = s.role === 'agent' ? undefined : (await o.catalog.users.list()).filter((u) => u.role === 'agent').map((u) => u.username);
    const fail = (message: string) =>
      html(
        res,
        400,
        page('Recordings', `<h1>Recordings</h1><p class="error" role="alert">${esc(message)}</p>${searchForm({}, agents)}`, viewer(s)),
      );
    let q: ReturnType<typeof searchQuery>;
    try {
      q = searchQuery(req.query);
    } catch (e) {
      if (!(e instanceof BadSearch)) throw e;
      return fail(e.message);
    }
    if (s.role === 'agent') {
      if (q.agent) return fail('agent: only supervisors and admins search by agent');
      q.query.extensions = s.extensions;
    } else if (q.agent) {
      const a = await o.catalog.users.get(q.agent);
      if (!a || a.role !== 'agent') return fail(`agent: no agent '${q.agent}'`);
      q.query.extensions = a.extensions;
    }
    const rows = await o.catalog.listRecordings(q.query);
    const more = rows.length > PAGE_SIZE;
    const shown = rows.slice(0, PAGE_SIZE);
    const sort = q.query.sort ?? 'date';
    const link = (after?: string) => {
      const f: Record<string, string> = { ...q.form };
      delete f.after;
      for (const k of Object.keys(f)) if (!f[k]) delete f[k];
      return `/recordings?${new URLSearchParams({ ...f, ...(after ? { after } : {}) }).toString()}`;
    };
    const pager = `<div class="pager">${q.query.after ? `<a href="${esc(link())}">first page</a>` : ''}${more ? `<a href="${esc(link(cursorOf(shown[shown.length - 1]!, sort)))}">${sort === 'duration' ? 'shorter' : 'older'}</a>` : ''}</div>`;
    const table = shown.length
      ? `<table><thead><tr><th>Started (UTC)</th><th>ANI</th><th>DNIS</th><th>Length</th><th>CPA</th><th>Source</th></tr></thead><tbody>${shown.map(recordingRow).join('')}</tbody></table>`
      : `<p class="muted">${s.role === 'agent' && !s.extensions.length ? 'No extensions are assigned to you yet: ask an admin.' : 'No recordings match.'}</p>`;
    html(res, 200, page('Recordings', `<h1>Recordings</h1>${searchForm(q.form, agents)}${table}${pager}`, viewer(s)));
  });

  /** The recording of :id if this user may see it; otherwise 404, the same as for an id that does not exist. */
  const recordingOr404 = async (req: Request, res: Response): Promise<Recording | undefined> => {
    const id = String(req.params.id);
    const rec = /^rec_[A-Za-z0-9_-]{1,40}$/.test(id) ? await o.catalog.getRecording(id) : undefined;
    if (!rec || !canSee(sessionOf(res), rec)) {
      res.status(404).json({ ok: false, error: 'no such recording' });
      return undefined;
    }
    return rec;
  };

  r.get('/recordings/:id', anyone, async (req, res) => {
    const rec = await recordingOr404(req, res);
    if (!rec) return;
    const s = sessionOf(res);
    await audit(req, s.username, 'recording_view', rec.id);
    const started = rec.startedAt ? Date.parse(rec.startedAt) : NaN;
    const answered = rec.answeredAt ? Date.parse(rec.answeredAt) : NaN;
    const offsetMs = Number.isFinite(started) && Number.isFinite(answered) ? Math.max(0, answered - started) : 0;
    const placed = placeEvents(rec.cpaEvents, offsetMs, rec.durationMs);
    const deliveries = await o.catalog.deliveriesOf(rec.id);
    const id = encodeURIComponent(rec.id);
    const picture = rec.purgedAt || rec.state === 'no_audio' ? undefined : rec.picture;
    const body = `<h1>${esc(rec.ani || 'anonymous')} &rarr; ${esc(rec.dnis)}</h1>
<dl><dt>Recording</dt><dd>${esc(rec.id)}</dd><dt>Uniqueid</dt><dd>${esc(rec.uniqueid ?? '-')}</dd><dt>Linkedid</dt><dd>${esc(rec.linkedid ?? '-')}</dd><dt>Started</dt><dd>${esc(when(rec.startedAt) || '-')}</dd>
<dt>Answered</dt><dd>${esc(when(rec.answeredAt) || '-')}</dd><dt>Ended</dt><dd>${esc(when(rec.endedAt) || '-')}</dd><dt>Length</dt><dd>${mmss(rec.durationMs / 1000)}</dd>
<dt>CPA result</dt><dd>${rec.cpaResult ? `<span class="badge ${esc(rec.cpaResult)}">${esc(rec.cpaResult)}</span>` : '-'}</dd><dt>Source</dt><dd>${esc(rec.source)}${rec.recovered ? ' (recovered after a restart: what the CPA heard was lost)' : ''}</dd><dt>SHA-256</dt><dd>${esc(rec.sha256)}</dd></dl>
${
  rec.purgedAt
    ? `<p class="muted">The audio was deleted by the retention rule on ${esc(when(rec.purgedAt))}; the call's details and CPA events remain.</p>`
    : rec.state === 'no_audio'
      ? `<p class="muted">The call ended before any audio was recorded (busy, no answer or a failed dial): nothing to play or deliver.</p>`
      : `<audio controls preload="metadata" src="/recordings/${id}/audio" data-duration="${rec.durationMs / 1000}"></audio>
<p><a href="/recordings/${id}/download">Download (${esc(rec.format)})</a></p>`
}
<section class="timeline"><h2>The call</h2>${
      placed.length || picture
        ? `${timelineSvg(placed, rec.durationMs, rec.answeredAt ? offsetMs / 1000 : undefined, picture)}${
            placed.length
              ? `<table class="events"><thead><tr><th>At</th><th>Event</th><th>Detail</th></tr></thead><tbody>${placed
                  .map(
                    (e) =>
                      `<tr><td><button type="button" data-seek="${e.atSec}">${mmss(e.atSec)}</button></td><td>${esc(e.label)}</td><td>${esc(e.cause ?? '')}</td></tr>`,
                  )
                  .join('')}</tbody></table>`
              : '<p class="muted">No CPA events for this recording.</p>'
          }<p class="muted">The level of the recording over time; times are in the recording${offsetMs ? `, and the engine counted from the callee's answer at ${mmss(offsetMs / 1000)}` : ''}. Click to play from there.</p>`
        : '<p class="muted">No CPA events for this recording.</p>'
    }</section>
<h2>Deliveries</h2>${
      deliveries.length
        ? `<table><thead><tr><th>Route</th><th>Status</th><th>Attempts</th><th>Last error</th></tr></thead><tbody>${deliveries.map((d) => `<tr><td>${esc(d.route)}</td><td>${esc(d.status)}</td><td>${d.attempts}</td><td>${esc(d.lastError ?? '')}</td></tr>`).join('')}</tbody></table>`
        : '<p class="muted">None configured.</p>'
    }`;
    html(res, 200, page(`${rec.ani} -> ${rec.dnis}`, body, viewer(s)));
  });

  r.get('/status', admins, async (_req, res) => {
    const now = o.connectivity?.() ?? [];
    const recent = await o.catalog.outages.list({ limit: 50 });
    const state = (up: boolean | undefined) =>
      up === undefined
        ? '<span class="badge">checking</span>'
        : up
          ? '<span class="badge LV">up</span>'
          : '<span class="badge SIT">down</span>';
    const body = `<h1>Connectivity</h1>${
      now.length
        ? `<table><thead><tr><th>Target</th><th>State</th><th>Last check (UTC)</th><th>Last error</th></tr></thead><tbody>${now.map((t) => `<tr><td>${esc(t.name)}</td><td>${state(t.up)}</td><td>${esc(when(t.lastCheck ?? null))}</td><td>${esc(t.lastError ?? '')}</td></tr>`).join('')}</tbody></table>`
        : '<p class="muted">The connectivity monitor is off (monitor.enabled).</p>'
    }<h2>Outages</h2>${
      recent.length
        ? `<table><thead><tr><th>Target</th><th>Seen from</th><th>From (UTC)</th><th>To</th><th>Down for</th><th>Error</th></tr></thead><tbody>${recent.map((x) => `<tr><td>${esc(x.target)}</td><td>${esc(x.instance ?? '')}</td><td>${esc(when(x.startedAt))}</td><td>${x.endedAt ? esc(when(x.endedAt)) : '<strong>ongoing</strong>'}</td><td>${x.durationMs !== null ? mmss(x.durationMs / 1000) : ''}</td><td>${esc(x.error)}</td></tr>`).join('')}</tbody></table>`
        : '<p class="muted">No outages logged.</p>'
    }`;
    html(res, 200, page('Connectivity', body, viewer(sessionOf(res))));
  });

  r.get('/recordings/:id/audio', anyone, async (req, res) => {
    const rec = await recordingOr404(req, res);
    if (!rec) return;
    // A player asks for many ranges; the play is the request for the start (or the whole file).
    const range = req.headers.range;
    if (!range || /^bytes=0-/.test(range)) await audit(req, sessionOf(res).username, 'play', rec.id);
    await sendAudio({ root: o.root, bucket: o.bucket }, rec, req, res, 'inline');
  });

  return r;
}

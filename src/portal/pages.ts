import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../log';
import { DECISION_CODES } from '../cpa';
import {
  ANI_PATTERN,
  DNIS_PATTERN,
  RECORDING_SOURCES as SOURCES,
  type Catalog,
  type Recording,
  type RecordingQuery,
  type RecordingSource,
} from '../recordings';
import { CSP, PORTAL_CSS, PORTAL_JS, esc, page } from './html';
import { LoginThrottle, clearedCookie, requireLogin, sessionCookie, sessionUser, type SessionOptions } from './session';
import { sendAudio } from './send-audio';
import { mmss, placeEvents, timelineSvg } from './timeline';

export interface PagesOptions {
  catalog: Catalog;
  root: string;
  session: SessionOptions;
  log: Logger;
  /** The connectivity monitor's live view, when it runs. */
  connectivity?: () => { name: string; up: boolean | undefined; lastCheck: string | undefined; lastError: string | undefined }[];
}

const PAGE_SIZE = 50;
const CPA_RESULTS = DECISION_CODES;

export class BadSearch extends Error {}

/** The search form's fields, checked: the error names the field and what it accepts. */
export function searchQuery(q: Request['query']): { query: RecordingQuery; page: number; form: Record<string, string> } {
  const form: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) {
    if (!['ani', 'dnis', 'from', 'to', 'cpa', 'source', 'page'].includes(k)) throw new BadSearch(`unknown search field '${k}'`);
    if (typeof v !== 'string') throw new BadSearch(`${k}: give it once`);
    form[k] = v.trim();
  }
  const query: RecordingQuery = { limit: PAGE_SIZE + 1 };
  const phone = (k: 'ani' | 'dnis') => {
    const v = form[k];
    if (!v) return;
    if (!(k === 'ani' ? ANI_PATTERN : DNIS_PATTERN).test(v))
      throw new BadSearch(`${k}: ${k === 'ani' ? 'digits or letters' : 'digits'} (and + * #), up to 32`);
    query[k] = v;
  };
  phone('ani');
  phone('dnis');
  for (const [k, key, add] of [
    ['from', 'since', 0],
    ['to', 'until', 86_400_000],
  ] as const) {
    const v = form[k];
    if (!v) continue;
    // Date.parse takes 2026-02-31 for March 3rd: only a date that comes back as itself is one.
    const ms = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : NaN;
    if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== v) throw new BadSearch(`${k}: a date as YYYY-MM-DD`);
    query[key] = new Date(Date.parse(`${v}T00:00:00Z`) + add).toISOString();
  }
  if (form.cpa) {
    if (!CPA_RESULTS.includes(form.cpa)) throw new BadSearch(`cpa: one of ${CPA_RESULTS.join(', ')}`);
    query.cpaResult = form.cpa;
  }
  if (form.source) {
    if (!SOURCES.includes(form.source as RecordingSource)) throw new BadSearch(`source: one of ${SOURCES.join(', ')}`);
    query.source = form.source as RecordingSource;
  }
  const pageNo = form.page ? Number(form.page) : 1;
  if (!Number.isInteger(pageNo) || pageNo < 1 || pageNo > 10_000) throw new BadSearch('page: a whole number from 1');
  query.offset = (pageNo - 1) * PAGE_SIZE;
  return { query, page: pageNo, form };
}

function searchForm(f: Record<string, string>): string {
  const opt = (list: readonly string[], cur: string | undefined) =>
    ['', ...list].map((v) => `<option value="${esc(v)}"${v === (cur ?? '') ? ' selected' : ''}>${v ? esc(v) : 'any'}</option>`).join('');
  return `<form class="search" method="get" action="/recordings">
<label>ANI (caller)<input name="ani" value="${esc(f.ani)}" inputmode="tel"></label>
<label>DNIS (dialled)<input name="dnis" value="${esc(f.dnis)}" inputmode="tel"></label>
<label>From (UTC)<input name="from" type="date" value="${esc(f.from)}"></label>
<label>To (UTC)<input name="to" type="date" value="${esc(f.to)}"></label>
<label>CPA result<select name="cpa">${opt(CPA_RESULTS, f.cpa)}</select></label>
<label>Source<select name="source">${opt(SOURCES, f.source)}</select></label>
<button class="primary" type="submit">Search</button></form>`;
}

function when(iso: string | null): string {
  return iso ? iso.replace('T', ' ').slice(0, 19) : '';
}

function recordingRow(r: Recording): string {
  return `<tr data-id="${esc(r.id)}"><td><a href="/recordings/${encodeURIComponent(r.id)}">${esc(when(r.startedAt ?? r.createdAt))}</a></td><td>${esc(r.ani || 'anonymous')}</td><td>${esc(r.dnis)}</td><td>${mmss(r.durationMs / 1000)}${r.purgedAt ? ' <span class="muted">(audio deleted)</span>' : r.state === 'no_audio' ? ' <span class="muted">(no audio)</span>' : ''}${r.recovered ? ' <span class="muted">(recovered)</span>' : ''}</td><td>${r.cpaResult ? `<span class="badge ${esc(r.cpaResult)}">${esc(r.cpaResult)}</span>` : '<span class="muted">-</span>'}</td><td>${esc(r.source)}</td></tr>`;
}

/** Login, search, a recording's page with its player and CPA timeline, and the audio with Range support. */
export function pagesRouter(o: PagesOptions): Router {
  const r = express.Router();
  const throttle = new LoginThrottle();
  const mustLogin = requireLogin(o.session, (u) => o.catalog.users.exists(u));
  const html = (res: Response, status: number, body: string) =>
    res.status(status).set({ 'content-security-policy': CSP, 'cache-control': 'no-store' }).type('html').send(body);

  r.get('/assets/portal.css', (_req, res) => res.type('css').set('cache-control', 'max-age=3600').send(PORTAL_CSS));
  r.get('/assets/portal.js', (_req, res) => res.type('js').set('cache-control', 'max-age=3600').send(PORTAL_JS));
  r.get('/', (_req, res) => res.redirect(303, '/recordings'));

  const loginPage = (next: string, error?: string) =>
    page(
      'Log in',
      `<form class="login" method="post" action="/login"><h1>Recordings portal</h1>${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<label>User name<input name="username" autocomplete="username" required autofocus></label>
<label>Password<input name="password" type="password" autocomplete="current-password" required></label>
<input type="hidden" name="next" value="${esc(next)}"><button class="primary" type="submit">Log in</button></form>`,
    );
  // Only local paths: a login link must not send the user to another site afterwards.
  const safeNext = (v: unknown) => (typeof v === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(v) ? v : '/recordings');

  r.get('/login', (req, res) => {
    const next = safeNext(req.query.next);
    if (sessionUser(o.session, req.headers.cookie)) return res.redirect(303, next);
    html(res, 200, loginPage(next));
  });

  r.post('/login', express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 }), async (req, res) => {
    const who = req.socket.remoteAddress ?? '?';
    const wait = throttle.retryAfter(who);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNext(body.next);
    if (wait > 0)
      return html(res.set('retry-after', String(wait)), 429, loginPage(next, `Too many failed logins: try again in ${wait} s.`));
    const username = typeof body.username === 'string' ? body.username.trim().toLowerCase() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (!username || !password) return html(res, 400, loginPage(next, 'Enter your user name and password.'));
    const user = await o.catalog.users.check(username, password);
    if (!user) {
      throttle.failed(who);
      o.log.warn({ username, remote: who }, 'portal login failed');
      return html(res, 401, loginPage(next, 'Wrong user name or password.'));
    }
    throttle.succeeded(who);
    o.log.info({ username }, 'portal login');
    res.set('set-cookie', sessionCookie(o.session, user.username)).redirect(303, next);
  });

  r.post('/logout', (_req, res) => {
    res.set('set-cookie', clearedCookie(o.session)).redirect(303, '/login');
  });

  r.get('/recordings', mustLogin, (req, res) => {
    const user = res.locals.user as string;
    let s: ReturnType<typeof searchQuery>;
    try {
      s = searchQuery(req.query);
    } catch (e) {
      if (!(e instanceof BadSearch)) throw e;
      return html(
        res,
        400,
        page('Recordings', `<h1>Recordings</h1><p class="error" role="alert">${esc(e.message)}</p>${searchForm({})}`, user),
      );
    }
    const rows = o.catalog.listRecordings(s.query);
    const more = rows.length > PAGE_SIZE;
    const shown = rows.slice(0, PAGE_SIZE);
    const link = (p: number) => `/recordings?${new URLSearchParams({ ...s.form, page: String(p) }).toString()}`;
    const pager = `<div class="pager">${s.page > 1 ? `<a href="${esc(link(s.page - 1))}">newer</a>` : ''}${more ? `<a href="${esc(link(s.page + 1))}">older</a>` : ''}</div>`;
    const table = shown.length
      ? `<table><thead><tr><th>Started (UTC)</th><th>ANI</th><th>DNIS</th><th>Length</th><th>CPA</th><th>Source</th></tr></thead><tbody>${shown.map(recordingRow).join('')}</tbody></table>`
      : '<p class="muted">No recordings match.</p>';
    html(res, 200, page('Recordings', `<h1>Recordings</h1>${searchForm(s.form)}${table}${pager}`, user));
  });

  const recordingOr404 = (req: Request, res: Response): Recording | undefined => {
    const id = String(req.params.id);
    const rec = /^rec_[A-Za-z0-9_-]{1,40}$/.test(id) ? o.catalog.getRecording(id) : undefined;
    if (!rec) res.status(404).json({ ok: false, error: 'no such recording' });
    return rec;
  };

  r.get('/recordings/:id', mustLogin, (req, res) => {
    const rec = recordingOr404(req, res);
    if (!rec) return;
    const started = rec.startedAt ? Date.parse(rec.startedAt) : NaN;
    const answered = rec.answeredAt ? Date.parse(rec.answeredAt) : NaN;
    const offsetMs = Number.isFinite(started) && Number.isFinite(answered) ? Math.max(0, answered - started) : 0;
    const placed = placeEvents(rec.cpaEvents, offsetMs, rec.durationMs);
    const deliveries = o.catalog.deliveriesOf(rec.id);
    const id = encodeURIComponent(rec.id);
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
<section class="timeline"><h2>What the call progress analysis heard</h2>${
      placed.length
        ? `${timelineSvg(placed, rec.durationMs, rec.answeredAt ? offsetMs / 1000 : undefined)}<table class="events"><thead><tr><th>At</th><th>Event</th><th>Detail</th></tr></thead><tbody>${placed
            .map(
              (e) =>
                `<tr><td><button type="button" data-seek="${e.atSec}">${mmss(e.atSec)}</button></td><td>${esc(e.label)}</td><td>${esc(e.cause ?? '')}</td></tr>`,
            )
            .join(
              '',
            )}</tbody></table><p class="muted">Times are in the recording; the engine counted from the callee's answer${offsetMs ? ` at ${mmss(offsetMs / 1000)}` : ''}.</p>`
        : '<p class="muted">No CPA events for this recording.</p>'
    }</section>
<h2>Deliveries</h2>${
      deliveries.length
        ? `<table><thead><tr><th>Route</th><th>Status</th><th>Attempts</th><th>Last error</th></tr></thead><tbody>${deliveries.map((d) => `<tr><td>${esc(d.route)}</td><td>${esc(d.status)}</td><td>${d.attempts}</td><td>${esc(d.lastError ?? '')}</td></tr>`).join('')}</tbody></table>`
        : '<p class="muted">None configured.</p>'
    }`;
    html(res, 200, page(`${rec.ani} -> ${rec.dnis}`, body, res.locals.user as string));
  });

  r.get('/status', mustLogin, (_req, res) => {
    const now = o.connectivity?.() ?? [];
    const recent = o.catalog.outages.list({ limit: 50 });
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
        ? `<table><thead><tr><th>Target</th><th>From (UTC)</th><th>To</th><th>Down for</th><th>Error</th></tr></thead><tbody>${recent.map((x) => `<tr><td>${esc(x.target)}</td><td>${esc(when(x.startedAt))}</td><td>${x.endedAt ? esc(when(x.endedAt)) : '<strong>ongoing</strong>'}</td><td>${x.durationMs !== null ? mmss(x.durationMs / 1000) : ''}</td><td>${esc(x.error)}</td></tr>`).join('')}</tbody></table>`
        : '<p class="muted">No outages logged.</p>'
    }`;
    html(res, 200, page('Connectivity', body, res.locals.user as string));
  });

  r.get('/recordings/:id/audio', mustLogin, (req, res) => {
    const rec = recordingOr404(req, res);
    if (!rec) return;
    sendAudio(o.root, rec, req, res, 'inline');
  });

  return r;
}

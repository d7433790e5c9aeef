import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../log';
import { AUDIT_ACTIONS, parseExtensions, ROLES, USERNAME, UserError, type AuditAction, type Catalog, type Role } from '../recordings';
import { csrfField, esc, page, type Viewer } from './html';
import { auditOf, sendHtml as html, sessionOf, viewer, when } from './pages';
import { requireCsrf, requireLogin, type SessionOptions } from './session';

// The admin pages: the delivery outbox (what is pending, failing with its last error and attempts, dead; retry
// one or every dead one), the accounts (add, role, extensions, disable, reset a password, remove) and the audit
// trail, read-only. Admins only; every POST carries the session's CSRF token; every change is audited.

export interface AdminOptions {
  catalog: Catalog;
  session: SessionOptions;
  log: Logger;
}

const STATES = ['failing', 'dead', 'pending'] as const;
/** A delivery id (or a count) as the URLs carry it. */
const ID = /^\d{1,12}$/;

export function adminRouter(o: AdminOptions): Router {
  const r = express.Router();
  const admins = requireLogin(o.session, o.catalog, ['admin']);
  const csrf = requireCsrf(o.session);
  const form = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 });
  const audit = auditOf(o);
  const post = (path: string, h: (req: Request, res: Response) => void | Promise<void>) => r.post(path, admins, form, csrf, h);
  const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;
  const deliveryOf = async (req: Request) => (ID.test(String(req.params.id)) ? o.catalog.getDelivery(Number(req.params.id)) : undefined);
  const field = (req: Request, k: string) => (typeof body(req)[k] === 'string' ? (body(req)[k] as string) : '');

  const deliveriesPage = async (v: Viewer, state: (typeof STATES)[number], notice?: string) => {
    const [counts, rows] = await Promise.all([o.catalog.deliveryStateCounts(), o.catalog.deliveriesIn(state)]);
    const tabs = STATES.map((s) =>
      s === state ? `<strong>${s} (${counts[s]})</strong>` : `<a href="/admin/deliveries?state=${s}">${s} (${counts[s]})</a>`,
    ).join(' ');
    const retryAll =
      state === 'dead' && rows.length
        ? `<form method="post" action="/admin/deliveries/retry-dead">${csrfField(v)}<button class="primary" type="submit">Retry every dead delivery</button></form>`
        : '';
    const table = rows.length
      ? `<table><thead><tr><th>Delivery</th><th>Recording</th><th>Route</th><th>Target</th><th>Attempts</th><th>Last error</th><th></th></tr></thead><tbody>${rows
          .map(
            (d) =>
              `<tr data-delivery="${d.id}"><td><a href="/admin/deliveries/${d.id}">#${d.id}</a></td><td><a href="/recordings/${encodeURIComponent(d.recordingId)}">${esc(d.ani || 'anonymous')} &rarr; ${esc(d.dnis)}</a></td><td>${esc(d.route)} (${esc(d.kind)})</td><td>${esc(d.kind === 'webhook' ? safeOrigin(d.target) : d.target)}</td><td>${d.attempts}</td><td>${esc(d.lastError ?? '')}</td><td>${
                state === 'pending'
                  ? ''
                  : `<form class="inline" method="post" action="/admin/deliveries/${d.id}/retry">${csrfField(v)}<button class="small" type="submit">Retry now</button></form>`
              }</td></tr>`,
          )
          .join('')}</tbody></table>`
      : `<p class="muted">No ${state} deliveries.</p>`;
    return page(
      'Deliveries',
      `<h1>Deliveries</h1>${notice ? `<p class="ok" role="status">${esc(notice)}</p>` : ''}<p>${tabs}</p>${retryAll}${table}`,
      v,
    );
  };

  r.get('/admin/deliveries', admins, async (req, res) => {
    const state = String(req.query.state ?? 'failing');
    if (!(STATES as readonly string[]).includes(state))
      return res.status(400).json({ ok: false, error: `state: one of ${STATES.join(', ')}` });
    // The notice is built from fixed words and numbers, never echoed: a link cannot make the page say anything.
    const num = (k: string) => (ID.test(String(req.query[k])) ? String(req.query[k]) : '');
    const notice =
      req.query.done === 'retried' && num('id')
        ? `Delivery #${num('id')} queued again.`
        : req.query.done === 'retried-dead' && num('n')
          ? `${num('n')} dead deliveries queued again.`
          : undefined;
    html(res, 200, await deliveriesPage(viewer(sessionOf(res)), state as (typeof STATES)[number], notice));
  });

  r.get('/admin/deliveries/:id', admins, async (req, res) => {
    const d = await deliveryOf(req);
    if (!d) return res.status(404).json({ ok: false, error: 'no such delivery' });
    const attempts = await o.catalog.attemptsOf(d.id);
    const v = viewer(sessionOf(res));
    html(
      res,
      200,
      page(
        `Delivery #${d.id}`,
        `<h1>Delivery #${d.id}: ${esc(d.route)} (${esc(d.kind)})</h1><dl><dt>Recording</dt><dd><a href="/recordings/${encodeURIComponent(d.recordingId)}">${esc(d.recordingId)}</a></dd><dt>Status</dt><dd>${esc(d.status)}</dd><dt>Attempts</dt><dd>${d.attempts}</dd><dt>Last error</dt><dd>${esc(d.lastError ?? '-')}</dd><dt>Delivered</dt><dd>${esc(when(d.deliveredAt) || '-')}</dd></dl>
${d.status === 'dead' || d.status === 'pending' ? `<form method="post" action="/admin/deliveries/${d.id}/retry">${csrfField(v)}<button class="primary" type="submit">Retry now</button></form>` : ''}
<h2>Attempts</h2>${
          attempts.length
            ? `<table><thead><tr><th>At (UTC)</th><th>Outcome</th><th>HTTP</th><th>Error</th><th>Took</th></tr></thead><tbody>${attempts.map((a) => `<tr><td>${esc(when(a.at))}</td><td>${esc(a.outcome)}</td><td>${a.httpStatus ?? ''}</td><td>${esc(a.error ?? '')}</td><td>${a.durationMs} ms</td></tr>`).join('')}</tbody></table>`
            : '<p class="muted">Not attempted yet.</p>'
        }`,
        v,
      ),
    );
  });

  post('/admin/deliveries/:id/retry', async (req, res) => {
    const d = await deliveryOf(req);
    if (!d) return void res.status(404).json({ ok: false, error: 'no such delivery' });
    if (!(await o.catalog.retryDelivery(d.id)))
      return void res.status(409).json({ ok: false, error: `delivery #${d.id} is ${d.status}: only dead or pending ones are retried` });
    await audit(req, sessionOf(res).username, 'delivery_retry', String(d.id), `${d.route} of ${d.recordingId}, was ${d.status}`);
    o.log.info({ delivery: d.id, by: sessionOf(res).username }, 'delivery retried from the portal');
    res.redirect(303, `/admin/deliveries?state=${d.status === 'dead' ? 'dead' : 'failing'}&done=retried&id=${d.id}`);
  });

  post('/admin/deliveries/retry-dead', async (req, res) => {
    const n = await o.catalog.retryAllDead();
    await audit(req, sessionOf(res).username, 'delivery_retry_dead', undefined, `${n} deliveries`);
    res.redirect(303, `/admin/deliveries?state=dead&done=retried-dead&n=${n}`);
  });

  const usersPage = async (v: Viewer, notice?: { ok: boolean; text: string }) => {
    const list = await o.catalog.users.list();
    const sessions = await Promise.all(list.map((u) => o.catalog.sessions.countOf(u.username)));
    const roleSelect = (cur?: Role) =>
      `<select name="role">${ROLES.map((x) => `<option${x === cur ? ' selected' : ''}>${x}</option>`).join('')}</select>`;
    const rows = list
      .map((u, i) => {
        const n = encodeURIComponent(u.username);
        return `<tr data-user="${esc(u.username)}"><td>${esc(u.username)}${u.disabled ? ' <span class="muted">(disabled)</span>' : ''}</td><td><form class="inline" method="post" action="/admin/users/${n}">${csrfField(v)}${roleSelect(u.role)}<input name="extensions" value="${esc(u.extensions.join(','))}" placeholder="2001,2002" size="14"><button class="small" type="submit">Save</button></form></td><td>${sessions[i]}</td><td><form class="inline" method="post" action="/admin/users/${n}/${u.disabled ? 'enable' : 'disable'}">${csrfField(v)}<button class="small" type="submit">${u.disabled ? 'Enable' : 'Disable'}</button></form> <form class="inline" method="post" action="/admin/users/${n}/password">${csrfField(v)}<input name="password" type="password" autocomplete="new-password" placeholder="new password" size="12"><button class="small" type="submit">Set password</button></form> <form class="inline" method="post" action="/admin/users/${n}/remove">${csrfField(v)}<button class="small" type="submit">Remove</button></form></td></tr>`;
      })
      .join('');
    return page(
      'Users',
      `<h1>Users</h1>${notice ? `<p class="${notice.ok ? 'ok' : 'error'}" role="${notice.ok ? 'status' : 'alert'}">${esc(notice.text)}</p>` : ''}
<table><thead><tr><th>User</th><th>Role and extensions (agents see the calls of these)</th><th>Sessions</th><th></th></tr></thead><tbody>${rows}</tbody></table>
<h2>Add a user</h2><form class="search" method="post" action="/admin/users">${csrfField(v)}<label>User name<input name="username" required></label><label>Role${roleSelect('agent')}</label><label>Extensions<input name="extensions" placeholder="2001,2002"></label><label>Password<input name="password" type="password" autocomplete="new-password" required></label><button class="primary" type="submit">Add</button></form>`,
      v,
    );
  };

  // After a change the page says what was done, from fixed words: a link cannot make it say anything else.
  const DONE: Partial<Record<AuditAction, string>> = {
    user_add: 'added',
    user_set: 'saved',
    user_disable: 'disabled (their sessions ended):',
    user_enable: 'enabled',
    user_password: 'new password set (their sessions ended) for',
    user_remove: 'removed',
  };
  r.get('/admin/users', admins, async (req, res) => {
    const done = typeof req.query.done === 'string' ? DONE[req.query.done as AuditAction] : undefined;
    const who = typeof req.query.user === 'string' && USERNAME.test(req.query.user) ? req.query.user : '';
    html(res, 200, await usersPage(viewer(sessionOf(res)), done && who ? { ok: true, text: `${done} ${who}` } : undefined));
  });

  /** A change to an account: UserError -> 400 with the page and the reason; success audited, then back to the list. */
  const change = async (req: Request, res: Response, action: AuditAction, target: string, f: () => unknown) => {
    const v = viewer(sessionOf(res));
    try {
      await f();
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      return html(res, 400, await usersPage(v, { ok: false, text: e.message }));
    }
    await audit(req, v.username, action, target);
    o.log.info({ user: target, action, by: v.username }, 'portal account changed');
    res.redirect(303, `/admin/users?done=${action}&user=${encodeURIComponent(target)}`);
  };
  const role = (req: Request): Role => {
    const x = field(req, 'role');
    if (!(ROLES as readonly string[]).includes(x)) throw new UserError(`role: one of ${ROLES.join(', ')}`);
    return x as Role;
  };
  const name = (req: Request) => String(req.params.name);
  const extensions = (req: Request) => parseExtensions(field(req, 'extensions'));

  post('/admin/users', (req, res) => {
    const username = field(req, 'username').trim().toLowerCase();
    return change(req, res, 'user_add', username, () =>
      o.catalog.users.add(username, field(req, 'password'), { role: role(req), extensions: extensions(req) }),
    );
  });
  post('/admin/users/:name', (req, res) =>
    change(req, res, 'user_set', name(req), () => o.catalog.users.set(name(req), { role: role(req), extensions: extensions(req) })),
  );
  post('/admin/users/:name/disable', (req, res) =>
    change(req, res, 'user_disable', name(req), () => o.catalog.users.setDisabled(name(req), true)),
  );
  post('/admin/users/:name/enable', (req, res) =>
    change(req, res, 'user_enable', name(req), () => o.catalog.users.setDisabled(name(req), false)),
  );
  post('/admin/users/:name/password', (req, res) =>
    change(req, res, 'user_password', name(req), () => o.catalog.users.setPassword(name(req), field(req, 'password'))),
  );
  post('/admin/users/:name/remove', (req, res) =>
    change(req, res, 'user_remove', name(req), async () => {
      if (!(await o.catalog.users.remove(name(req)))) throw new UserError(`username: no user '${name(req)}'`);
    }),
  );

  r.get('/admin/audit', admins, async (req, res) => {
    const v = viewer(sessionOf(res));
    const q = req.query as Record<string, unknown>;
    const f: Record<string, string> = {};
    for (const k of ['actor', 'action', 'target', 'from', 'to', 'before'])
      if (typeof q[k] === 'string' && q[k]) f[k] = (q[k] as string).slice(0, 64);
    const bad = (m: string) => res.status(400).json({ ok: false, error: m });
    if (f.action && !(AUDIT_ACTIONS as readonly string[]).includes(f.action)) return bad(`action: one of ${AUDIT_ACTIONS.join(', ')}`);
    for (const k of ['from', 'to']) if (f[k] && !/^\d{4}-\d{2}-\d{2}$/.test(f[k]!)) return bad(`${k}: a date as YYYY-MM-DD`);
    if (f.before && !/^\d{1,15}$/.test(f.before)) return bad('before: use the links');
    const until = f.to ? new Date(Date.parse(`${f.to}T00:00:00Z`) + 86_400_000).toISOString() : undefined;
    const rows = await o.catalog.audit.list({
      actor: f.actor,
      action: f.action as AuditAction | undefined,
      target: f.target,
      since: f.from ? `${f.from}T00:00:00.000Z` : undefined,
      until,
      before: f.before ? Number(f.before) : undefined,
      limit: 101,
    });
    const shown = rows.slice(0, 100);
    const older =
      rows.length > 100
        ? `<a href="/admin/audit?${new URLSearchParams({ ...f, before: String(shown[shown.length - 1]!.id) }).toString()}">older</a>`
        : '';
    const opt = AUDIT_ACTIONS.map((a) => `<option${a === f.action ? ' selected' : ''}>${a}</option>`).join('');
    html(
      res,
      200,
      page(
        'Audit',
        `<h1>Audit trail</h1><form class="search" method="get" action="/admin/audit"><label>Who<input name="actor" value="${esc(f.actor)}"></label><label>Action<select name="action"><option value="">any</option>${opt}</select></label><label>What<input name="target" value="${esc(f.target)}"></label><label>From (UTC)<input name="from" type="date" value="${esc(f.from)}"></label><label>To (UTC)<input name="to" type="date" value="${esc(f.to)}"></label><button class="primary" type="submit">Filter</button></form>
${shown.length ? `<table><thead><tr><th>At (UTC)</th><th>Who</th><th>Action</th><th>What</th><th>From</th><th>Detail</th></tr></thead><tbody>${shown.map((e) => `<tr><td>${esc(when(e.at))}</td><td>${esc(e.actor)}</td><td>${esc(e.action)}</td><td>${e.target?.startsWith('rec_') ? `<a href="/recordings/${encodeURIComponent(e.target)}">${esc(e.target)}</a>` : esc(e.target ?? '')}</td><td>${esc(e.remote ?? '')}</td><td>${esc(e.detail ?? '')}</td></tr>`).join('')}</tbody></table>` : '<p class="muted">Nothing logged that matches.</p>'}<div class="pager">${older}</div>`,
        v,
      ),
    );
  });

  return r;
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

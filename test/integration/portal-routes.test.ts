// Every route the portal registers, enumerated from the app itself (a route added later is checked too, or
// the test fails naming it): each protected one refuses without a session, with a role that may not use it,
// and, for POSTs, without the CSRF token or from another site. An agent gets 404 for another agent's
// recording through every URL of it. And the login throttle under 40 parallel guesses.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import { portalApp, type PortalOptions } from '../../src/portal/app';
import { createLogger } from '../../src/log';
import { encodeWav } from '../../src/media';
import { Catalog, signedDownloadUrl, type Recording } from '../../src/recordings';
import { loginAttempt, portalLogin } from '../support/portal-client';
import { catalogLocation } from '../support/pg';

const dir = mkdtempSync(join(tmpdir(), 'dc-routes-'));
const PASSWORD = 'a long enough password';
let catalog: Catalog;
let server: Server;
let base = '';
let app: Express;
const recs: Record<string, Recording> = {};
let aliceDelivery = 0;

beforeAll(async () => {
  catalog = await Catalog.open(await catalogLocation(dir));
  await catalog.users.add('root', PASSWORD, { role: 'admin' });
  await catalog.users.add('sue', PASSWORD, { role: 'supervisor' });
  await catalog.users.add('alice', PASSWORD, { role: 'agent', extensions: ['2001'] });
  await catalog.users.add('bob', PASSWORD, { role: 'agent', extensions: ['2002'] });
  await catalog.users.add('mallory', PASSWORD, { role: 'agent', extensions: ['2099'] });
  mkdirSync(join(dir, 'rec'), { recursive: true });
  for (const [name, ani] of [
    ['alice', '2001'],
    ['bob', '2002'],
  ] as const) {
    const wav = encodeWav(new Int16Array(8000), 8000);
    writeFileSync(join(dir, 'rec', `${name}.wav`), wav);
    recs[name] = await catalog.addRecording(
      {
        uniqueid: `1.${name}`,
        ani,
        dnis: '4175551234',
        durationMs: 1000,
        path: `${name}.wav`,
        format: 'wav',
        sizeBytes: wav.length,
        sha256: createHash('sha256').update(wav).digest('hex'),
        source: 'ari',
      },
      [{ route: 'webhook', kind: 'webhook', target: 'http://127.0.0.1:1/x' }],
    );
  }
  aliceDelivery = (await catalog.deliveriesOf(recs.alice!.id))[0]!.id;
  const o: PortalOptions = {
    host: '127.0.0.1',
    port: 0,
    log: createLogger('silent'),
    upload: { root: join(dir, 'rec'), tokens: [], maxBytes: 1024, register: () => Promise.reject(new Error('no')) },
    downloads: { catalog, root: join(dir, 'rec'), linkSecret: 'l'.repeat(32) },
    session: { secret: 's'.repeat(32), idleMs: 600_000, absoluteMs: 3600_000, secure: false, origins: [], trustProxy: [] },
    ops: { metricsAllowFrom: ['127.0.0.1'] },
  };
  app = portalApp(o);
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await catalog.close();
  rmSync(dir, { recursive: true, force: true });
});

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: RouteLayer[] };
}

/** Every (method, path) in the app's router, nested routers included. */
function routesOf(stack: RouteLayer[]): { method: string; path: string }[] {
  return stack.flatMap((l) =>
    l.route
      ? Object.keys(l.route.methods).map((m) => ({ method: m.toUpperCase(), path: l.route!.path }))
      : l.handle?.stack
        ? routesOf(l.handle.stack)
        : [],
  );
}

// Open by design, each for its reason.
const PUBLIC = new Set([
  'GET /healthz', // liveness
  'GET /readyz', // readiness
  'GET /metrics', // its own allow-list and token
  'GET /assets/portal.css',
  'GET /assets/portal.js',
  'GET /', // a redirect to /recordings
  'GET /login',
  'POST /login', // its own CSRF token, tested below
  'POST /upload', // IVR token; 503 while uploads are off
  'GET /recordings/:id/download', // a session, or a signed link
]);
const ADMIN = (path: string) => path.startsWith('/admin') || path === '/status';

function concrete(path: string): string {
  return path
    .replace(':id/download', `${recs.alice!.id}/download`)
    .replace('/recordings/:id', `/recordings/${recs.alice!.id}`)
    .replace('/admin/deliveries/:id', `/admin/deliveries/${aliceDelivery}`)
    .replace('/admin/users/:name', '/admin/users/mallory');
}

const call = (method: string, path: string, o: { cookie?: string; csrf?: string; origin?: string } = {}) =>
  fetch(`${base}${concrete(path)}`, {
    method,
    redirect: 'manual',
    headers: {
      accept: 'text/html',
      'content-type': 'application/x-www-form-urlencoded',
      ...(o.cookie ? { cookie: o.cookie } : {}),
      ...(o.origin ? { origin: o.origin } : {}),
    },
    body: method === 'POST' ? new URLSearchParams({ ...(o.csrf ? { _csrf: o.csrf } : {}), role: 'agent', extensions: '2099' }) : undefined,
  });

test('every protected route refuses without a session, with the wrong role, and (POST) without CSRF or from another site', async () => {
  const routes = routesOf((app as unknown as { router: { stack: RouteLayer[] } }).router.stack);
  expect(routes.length).toBeGreaterThan(20);
  const protectedRoutes = routes.filter((r) => !PUBLIC.has(`${r.method} ${r.path}`));
  const agent = await portalLogin(base, 'alice', PASSWORD);
  const supervisor = await portalLogin(base, 'sue', PASSWORD);
  const admin = await portalLogin(base, 'root', PASSWORD);
  const seen: string[] = [];
  for (const r of protectedRoutes) {
    const name = `${r.method} ${r.path}`;
    seen.push(name);
    const none = await call(r.method, r.path);
    expect([name, none.status === 401 || (none.status === 303 && none.headers.get('location')!.startsWith('/login'))]).toEqual([
      name,
      true,
    ]);
    if (ADMIN(r.path)) {
      for (const who of [agent, supervisor]) {
        const wrong = await call(r.method, r.path, who);
        expect([name, wrong.status]).toEqual([name, 403]);
      }
    }
    if (r.method === 'POST') {
      const who = ADMIN(r.path) ? admin : agent;
      expect([name, (await call(r.method, r.path, { cookie: who.cookie })).status]).toEqual([name, 403]);
      expect([name, (await call(r.method, r.path, { cookie: who.cookie, csrf: 'x'.repeat(32) })).status]).toEqual([name, 403]);
      const cross = await call(r.method, r.path, { ...who, origin: 'https://evil.example' });
      expect([name, cross.status]).toEqual([name, 403]);
    }
  }
  // The routes a user reaches are among those checked (a new one shows up here and above).
  for (const must of [
    'GET /recordings',
    'GET /recordings/:id',
    'GET /recordings/:id/audio',
    'POST /logout',
    'GET /admin/users',
    'POST /admin/users/:name/disable',
    'POST /admin/deliveries/:id/retry',
    'GET /admin/audit',
  ])
    expect(seen).toContain(must);
  // With the token, from here, the same request works: the refusals above were about the token.
  const ok = await call('POST', '/admin/users/:name', admin);
  expect(ok.status).toBe(303);
  expect(ok.headers.get('location')).toBe('/admin/users?done=user_set&user=mallory');
  const after = await (await fetch(`${base}/admin/users?done=user_set&user=mallory`, { headers: { cookie: admin.cookie } })).text();
  expect(after).toContain('role="status">saved mallory</p>');
  // the notice is made of fixed words: a crafted link shows nothing of its own
  const crafted = await (
    await fetch(`${base}/admin/users?done=user_set&user=${encodeURIComponent('x<b>call 555</b>')}`, { headers: { cookie: admin.cookie } })
  ).text();
  expect(crafted).not.toContain('role="status"');
  const crafted2 = await (
    await fetch(`${base}/admin/deliveries?done=${encodeURIComponent('Send money')}&id=1`, { headers: { cookie: admin.cookie } })
  ).text();
  expect(crafted2).not.toContain('Send money');
  expect(await catalog.users.get('mallory')).toMatchObject({ role: 'agent', extensions: ['2099'] });
  // A login form posted from another site, or without its cookie, is refused.
  const form = await fetch(`${base}/login`);
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const post = (headers: Record<string, string>) =>
    fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ username: 'root', password: PASSWORD, _csrf: token }),
    });
  const loginCookie = form.headers.getSetCookie()[0]!.split(';')[0]!;
  expect((await post({})).status).toBe(403);
  expect((await post({ cookie: loginCookie, origin: 'https://evil.example' })).status).toBe(403);
  expect((await post({ cookie: loginCookie })).status).toBe(303);
}, 60_000);

test("an agent gets 404 for another agent's recording: page, audio, download; a supervisor gets them all", async () => {
  const alice = await portalLogin(base, 'alice', PASSWORD);
  const sue = await portalLogin(base, 'sue', PASSWORD);
  for (const suffix of ['', '/audio', '/download']) {
    const get = (who: { cookie: string }, id: string) => fetch(`${base}/recordings/${id}${suffix}`, { headers: { cookie: who.cookie } });
    expect([suffix, (await get(alice, recs.bob!.id)).status]).toEqual([suffix, 404]);
    expect([suffix, (await get(alice, recs.alice!.id)).status]).toEqual([suffix, 200]);
    expect([suffix, (await get(sue, recs.bob!.id)).status]).toEqual([suffix, 200]);
  }
  const list = await (await fetch(`${base}/recordings`, { headers: { cookie: alice.cookie } })).text();
  expect(list).toContain(recs.alice!.id);
  expect(list).not.toContain(recs.bob!.id);
  // an agent cannot widen the search to another agent
  expect((await fetch(`${base}/recordings?agent=bob`, { headers: { cookie: alice.cookie } })).status).toBe(400);
  const byAgent = await (await fetch(`${base}/recordings?agent=bob`, { headers: { cookie: sue.cookie } })).text();
  expect(byAgent).toContain(recs.bob!.id);
  expect(byAgent).not.toContain(recs.alice!.id);
  // what they saw is in the audit trail
  expect((await catalog.audit.list({ actor: 'alice', action: 'download' })).map((e) => e.target)).toEqual([recs.alice!.id]);
  // a signed link (from an e-mail) is a capability of its own: it works for whoever holds it, logged in or not
  const link = new URL(signedDownloadUrl(base, 'l'.repeat(32), recs.bob!.id, 3600_000, Date.now()));
  expect((await fetch(link, { headers: { cookie: alice.cookie } })).status).toBe(200);
  expect((await fetch(link)).status).toBe(200);
  link.searchParams.set('sig', `${link.searchParams.get('sig')!.slice(0, -1)}${link.searchParams.get('sig')!.endsWith('A') ? 'B' : 'A'}`);
  expect((await fetch(link, { headers: { cookie: alice.cookie } })).status).toBe(403);
  expect((await catalog.audit.list({ action: 'download', target: recs.bob!.id })).map((e) => e.actor)).toEqual([
    'signed link',
    'signed link (alice)',
    'sue',
  ]);
});

test('40 parallel wrong passwords: at most 5 checked, the rest 429; an own login does not reset it; the owner from another address gets in', async () => {
  const before = (await catalog.audit.list({ actor: 'bob', action: 'login_failed' })).length;
  const tries = await Promise.all(Array.from({ length: 40 }, (_, i) => loginAttempt(base, 'bob', `wrong guess ${i}`)));
  const statuses = tries.map((t) => t.status);
  expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
  expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(35);
  expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  // what was checked is what the trail shows: no more than 5 passwords were tried
  expect((await catalog.audit.list({ actor: 'bob', action: 'login_failed' })).length - before).toBe(
    statuses.filter((s) => s === 401).length,
  );
  // the attacker logs in to an account of their own from the same address: bob stays blocked there
  expect((await loginAttempt(base, 'mallory', PASSWORD)).status).toBe(303);
  expect((await loginAttempt(base, 'bob', PASSWORD)).status).toBe(429);
  // bob, from another address, with his password: in
  const mine = await loginAttempt(base, 'bob', PASSWORD, { localAddress: '127.0.0.2' });
  expect(mine.status).toBe(303);
  expect(mine.cookie).toMatch(/^dc_session=/);
}, 60_000);

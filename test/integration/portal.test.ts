// The recordings portal in a real browser (Debian's chromium through playwright-core): log in, search, play
// with seeking (HTTP Range), the CPA timeline, log out; and the HTTP rules around it.
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { encodeWav } from '../../src/media';
import { Signal } from '../../scripts/lib/signals';
import { REPO, waitFor } from '../support/sandbox';
import { startTestService, type TestService } from '../support/service';
import type { Recording } from '../../src/recordings';
import { loginAttempt, portalLogin } from '../support/portal-client';
import { catalogEnv, catalogLocation } from '../support/pg';

const CLI = join(REPO, 'dist/src/cli.js');
const PASSWORD = 'correct horse battery';
const dir = mkdtempSync(join(tmpdir(), 'dc-portal-'));
const root = join(dir, 'recordings');
let catalogFile = '';
let svc: TestService;
let browser: Browser;
const recs: Record<string, Recording> = {};

async function addRecording(
  name: string,
  r: {
    ani: string;
    dnis: string;
    cpa: string | null;
    events: unknown[];
    startedAt: Date;
    answeredAt: Date | null;
    source: 'ari' | 'agi' | 'upload';
  },
): Promise<void> {
  const wav = encodeWav(new Signal().speech(3000).silence(1000).tone(400, [1000], -12).silence(1600).noise(-50).pcm(), 8000);
  mkdirSync(join(root, '2026/11/23'), { recursive: true });
  const rel = `2026/11/23/${name}.wav`;
  writeFileSync(join(root, rel), wav);
  recs[name] = await svc.catalog.addRecording(
    {
      uniqueid: `1763900000.${Object.keys(recs).length + 1}`,
      ani: r.ani,
      dnis: r.dnis,
      startedAt: r.startedAt,
      answeredAt: r.answeredAt,
      endedAt: new Date(r.startedAt.getTime() + 6000),
      durationMs: 6000,
      path: rel,
      format: 'wav',
      sizeBytes: wav.length,
      sha256: createHash('sha256').update(wav).digest('hex'),
      cpaResult: r.cpa,
      cpaEvents: r.events,
      source: r.source,
    },
    [],
  );
}

beforeAll(async () => {
  catalogFile = await catalogLocation(dir);
  svc = await startTestService('/nonexistent', {
    DC_RECORDINGS_LOCAL_DIR: root,
    ...catalogEnv(catalogFile, dir),
    DC_ARI_URL: 'http://127.0.0.1:1',
    DC_CPA_ENABLED: 'false',
    DC_MONITOR_INTERVAL_MS: '200',
  });
  const t0 = new Date('2026-11-23T10:00:00Z');
  // A machine: answered 1 s into the recording; AM at 2.4 s and the beep's end at 4.4 s after the answer.
  await addRecording('machine', {
    ani: '2125550100',
    dnis: '4175552000',
    cpa: 'AM',
    events: [
      { result: 'AM', at_ms: 2400, cause: 'voice longer than maxtime', decision: true },
      { result: 'BP', at_ms: 3400, freq_hz: 1000 },
    ],
    startedAt: t0,
    answeredAt: new Date(t0.getTime() + 1000),
    source: 'ari',
  });
  await addRecording('live', {
    ani: '3125550111',
    dnis: '4175551234',
    cpa: 'LV',
    events: [{ result: 'LV', at_ms: 1900, decision: true }],
    startedAt: new Date(t0.getTime() + 60_000),
    answeredAt: new Date(t0.getTime() + 60_500),
    source: 'ari',
  });
  await addRecording('hostile', {
    ani: '<img src=x onerror=alert(1)>',
    dnis: '8005551000',
    cpa: null,
    events: [],
    startedAt: new Date(t0.getTime() + 120_000),
    answeredAt: null,
    source: 'upload',
  });
  // The account is made with the CLI, as an admin would (the password on standard input).
  const add = spawnSync('node', [CLI, 'users', 'add', 'alice'], {
    input: `${PASSWORD}\n`,
    env: { ...process.env, ...catalogEnv(catalogFile, dir) },
    encoding: 'utf8',
  });
  expect(add.stderr).toBe('');
  expect(add.status).toBe(0);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function login(password = PASSWORD): Promise<string> {
  return (await portalLogin(svc.portalUrl, 'alice', password)).cookie;
}

test('log in, search, open a recording, play it, seek from the CPA timeline, log out', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${svc.portalUrl}/recordings`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'wrong password!');
    await page.click('button[type=submit]');
    await expect(page.locator('[role=alert]').textContent()).resolves.toContain('Wrong user name or password');

    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/recordings$/);
    expect(await page.locator('tbody tr').count()).toBe(3);
    // The hostile caller id is shown as text, never run as markup.
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.locator('tbody').textContent()).toContain('<img src=x onerror=alert(1)>');

    await page.selectOption('select[name=cpa]', 'AM');
    await page.click('form.search button');
    await page.waitForURL(/cpa=AM/);
    expect(await page.locator('tbody tr').count()).toBe(1);
    await page.fill('input[name=ani]', '3125550111');
    await page.selectOption('select[name=cpa]', '');
    await page.click('form.search button');
    await page.waitForURL(/ani=3125550111/);
    expect(await page.locator('tbody tr').getAttribute('data-id')).toBe(recs.live!.id);

    await page.goto(`${svc.portalUrl}/recordings?cpa=AM`);
    await page.click('tbody tr a');
    await page.waitForURL(new RegExp(`/recordings/${recs.machine!.id}$`));
    // The player loads the WAV's header through the audio URL and knows its length.
    await page.waitForFunction(() => (document.querySelector('audio') as HTMLAudioElement).readyState >= 1, undefined, { timeout: 10_000 });
    const duration = await page.evaluate(() => (document.querySelector('audio') as HTMLAudioElement).duration);
    expect(duration).toBeCloseTo(6, 1);
    // Timeline: the beep ended 1 s (answer) + 3.4 s into the recording; clicking it seeks the player there.
    expect(await page.locator('.timeline [data-result]').evaluateAll((els) => els.map((e) => e.getAttribute('data-result')))).toEqual([
      'AM',
      'BP',
    ]);
    await page.click('.timeline g[data-result=BP]');
    await page.waitForFunction(() => (document.querySelector('audio') as HTMLAudioElement).currentTime >= 4.35, undefined, {
      timeout: 10_000,
    });
    const t = await page.evaluate(() => (document.querySelector('audio') as HTMLAudioElement).currentTime);
    expect(t).toBeLessThan(5.5);
    // Playing: time moves on from the seek point.
    await page.waitForFunction((from) => (document.querySelector('audio') as HTMLAudioElement).currentTime > from + 0.3, t, {
      timeout: 10_000,
    });

    // The download link serves the file itself to a logged-in user.
    const dl = await page.evaluate(async () => {
      const a = document.querySelector('a[href$="/download"]') as HTMLAnchorElement;
      const r = await fetch(a.href);
      return { status: r.status, disposition: r.headers.get('content-disposition'), bytes: (await r.arrayBuffer()).byteLength };
    });
    expect(dl).toMatchObject({ status: 200, bytes: recs.machine!.sizeBytes });
    expect(dl.disposition).toMatch(/^attachment/);

    await page.click('nav button');
    await page.waitForURL(/\/login$/);
    await page.goto(`${svc.portalUrl}/recordings`);
    expect(new URL(page.url()).pathname).toBe('/login');
  } finally {
    await page.close();
  }
}, 60_000);

test('audio: byte ranges (206, suffix, 416), only with a valid session of an existing user', async () => {
  const rec = recs.live!;
  const file = readFileSync(join(root, rec.path));
  const url = `${svc.portalUrl}/recordings/${rec.id}/audio`;
  expect((await fetch(url)).status).toBe(401);
  const cookie = await login();
  const get = (range?: string, c = cookie) => fetch(url, { headers: { cookie: c, ...(range ? { range } : {}) } });

  const whole = await get();
  expect(whole.status).toBe(200);
  expect(whole.headers.get('accept-ranges')).toBe('bytes');
  expect(Buffer.from(await whole.arrayBuffer()).equals(file)).toBe(true);

  const first = await get('bytes=0-99');
  expect(first.status).toBe(206);
  expect(first.headers.get('content-range')).toBe(`bytes 0-99/${file.length}`);
  expect(Buffer.from(await first.arrayBuffer()).equals(file.subarray(0, 100))).toBe(true);

  const tail = await get('bytes=-500');
  expect(tail.status).toBe(206);
  expect(Buffer.from(await tail.arrayBuffer()).equals(file.subarray(file.length - 500))).toBe(true);

  const open = await get(`bytes=${file.length - 10}-`);
  expect(open.headers.get('content-range')).toBe(`bytes ${file.length - 10}-${file.length - 1}/${file.length}`);

  const past = await get(`bytes=${file.length}-`);
  expect(past.status).toBe(416);
  expect(past.headers.get('content-range')).toBe(`bytes */${file.length}`);

  // A made-up or altered session id is no session.
  const value = cookie.slice('dc_session='.length);
  expect((await get(undefined, `dc_session=${value.slice(0, -2)}xy`)).status).toBe(401);
  expect((await get(undefined, `dc_session=${Buffer.from(JSON.stringify({ u: 'alice' })).toString('base64url')}`)).status).toBe(401);
  // A removed account's cookie stops working at once (another admin stays: the last one cannot be removed).
  if (!(await svc.catalog.users.get('root'))) await svc.catalog.users.add('root', PASSWORD, { role: 'admin' });
  await svc.catalog.users.remove('alice');
  expect((await get(undefined, cookie)).status).toBe(401);
  // ... and on the login page it is cleared, never bounced between /login and /recordings.
  const back = await fetch(`${svc.portalUrl}/login`, { headers: { cookie }, redirect: 'manual' });
  expect(back.status).toBe(200);
  expect(back.headers.getSetCookie().some((c) => /^dc_session=;/.test(c))).toBe(true);
  await svc.catalog.users.add('alice', PASSWORD, { role: 'admin' });
}, 30_000);

test('the connectivity page shows what the monitor sees (here: ARI unreachable, an ongoing outage)', async () => {
  const cookie = await login();
  await waitFor('ARI outage', async () => (await svc.catalog.outages.ongoing()).length > 0, 10_000);
  const res = await fetch(`${svc.portalUrl}/status`, { headers: { cookie } });
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).toContain('ari 127.0.0.1:1');
  expect(text).toMatch(/badge SIT">down</);
  expect(text).toContain('<strong>ongoing</strong>');
  expect((await fetch(`${svc.portalUrl}/status`, { redirect: 'manual' })).status).toBe(303);
}, 30_000);

test('bad searches and ids get 400/404 naming the problem; repeated wrong passwords get 429', async () => {
  const cookie = await login();
  const page = (q: string) => fetch(`${svc.portalUrl}${q}`, { headers: { cookie } });
  for (const [q, field] of [
    ['/recordings?foo=1', "unknown search field 'foo'"],
    ['/recordings?from=2026-13-45', 'from: a date as YYYY-MM-DD'],
    ['/recordings?ani=1%27%20OR%201=1', 'ani: digits'],
    ['/recordings?cpa=HUMAN', 'cpa: one of'],
    ['/recordings?after=garbage', 'after: not a page cursor'],
    ['/recordings?min=ten', 'min: a length in seconds'],
    ['/recordings?delivery=lost', 'delivery: one of'],
  ] as const) {
    const res = await page(q);
    expect([q, res.status]).toEqual([q, 400]);
    expect(await res.text()).toContain(field.replace(/'/g, '&#39;'));
  }
  expect((await page('/recordings/..%2F..%2Fetc%2Fpasswd')).status).toBe(404);
  expect((await page('/recordings/rec_doesnotexist/audio')).status).toBe(404);
  // An open redirect is not offered: next= is only ever a local path.
  const next = await loginAttempt(svc.portalUrl, 'alice', PASSWORD, { next: '//evil.example/x' });
  expect(next.location).toBe('/recordings');

  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) {
    const r = await loginAttempt(svc.portalUrl, 'alice', `guess-number-${i}`);
    statuses.push(r.status);
    if (r.status === 429) expect(Number(r.retryAfter)).toBeGreaterThan(0);
  }
  expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
}, 60_000);

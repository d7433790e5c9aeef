// The portal a call centre runs, in Debian's chromium, on recordings made by real sandbox calls: agent alice
// (extension 2001) called a person, agent bob (2002) reached a machine with a beep. alice sees only her call
// and gets 404 for bob's page, audio and download; the supervisor sees both; the receiver refused both
// deliveries (422: dead at once) and the admin retries one from the deliveries page: the receiver gets it;
// logging out in one tab ends the session in the other; on bob's call picture the beep is loud where the CPA
// put it, and clicking it plays from there. Screenshots in test-artifacts/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { runSipp } from '../../scripts/lib/sipp-caller';
import type { Recording } from '../../src/recordings';
import { startWithReceivers, type DeliveryFixture } from '../support/delivery-fixture';
import { REPO, waitFor } from '../support/sandbox';

const ARTIFACTS = join(REPO, 'test-artifacts');
const PASSWORD = 'a long enough password';
const SECRET = 'portal-roles-webhook-secret';
let fx: DeliveryFixture;
let browser: Browser;
let live: Recording;
let machine: Recording;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  fx = await startWithReceivers(SECRET, 'agents@example.test', {}, { connected: true });
  fx.rx.respond = () => ({ status: 422 });
  const users = fx.svc.catalog.users;
  await users.add('root', PASSWORD, { role: 'admin' });
  await users.add('sue', PASSWORD, { role: 'supervisor' });
  await users.add('alice', PASSWORD, { role: 'agent', extensions: ['2001'] });
  await users.add('bob', PASSWORD, { role: 'agent', extensions: ['2002'] });
  const [a, b] = await Promise.all([
    runSipp({ dial: '*1234175551234', ani: '2001', talkMs: 6000, localPort: 5611 }),
    runSipp({ dial: '*1234175552000', ani: '2002', talkMs: 16_000, localPort: 5612 }),
  ]);
  expect([a.successful, b.successful]).toEqual([1, 1]);
  const recs = await waitFor(
    'both recordings catalogued with dead deliveries',
    async () => {
      const rows = await fx.svc.catalog.listRecordings({ limit: 10 });
      const dead = await fx.svc.catalog.deliveriesIn('dead');
      return rows.length === 2 && dead.length === 2 ? rows : undefined;
    },
    30_000,
  );
  live = recs.find((r) => r.ani === '2001')!;
  machine = recs.find((r) => r.ani === '2002')!;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fx?.stop();
});

async function loggedIn(username: string): Promise<BrowserContext> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${fx.svc.portalUrl}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/recordings$/);
  await page.close();
  return ctx;
}

test('an agent sees only their calls, and 404 for the others through every URL; a supervisor sees all', async () => {
  const alice = await loggedIn('alice');
  const page = await alice.newPage();
  await page.goto(`${fx.svc.portalUrl}/recordings`);
  expect(await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual([live.id]);
  expect(await page.locator('nav').textContent()).not.toContain('Deliveries');
  await page.screenshot({ path: join(ARTIFACTS, 'portal-agent-recordings.png'), fullPage: true });
  for (const suffix of ['', '/audio', '/download']) {
    const res = await page.request.get(`${fx.svc.portalUrl}/recordings/${machine.id}${suffix}`);
    expect([suffix, res.status()]).toEqual([suffix, 404]);
  }
  expect((await page.request.get(`${fx.svc.portalUrl}/admin/deliveries`)).status()).toBe(403);
  await alice.close();

  const sue = await loggedIn('sue');
  const sp = await sue.newPage();
  await sp.goto(`${fx.svc.portalUrl}/recordings`);
  expect((await sp.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).sort()).toEqual(
    [live.id, machine.id].sort(),
  );
  await sp.goto(`${fx.svc.portalUrl}/recordings?agent=bob`);
  expect(await sp.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual([machine.id]);
  await sue.close();
  // what they looked at is on record
  expect(await fx.svc.catalog.audit.list({ actor: 'alice', action: 'login' })).toHaveLength(1);
}, 60_000);

test('the call picture shows the beep where the player then plays it', async () => {
  const sue = await loggedIn('sue');
  const page = await sue.newPage();
  await page.goto(`${fx.svc.portalUrl}/recordings/${machine.id}`);
  const bp = (machine.cpaEvents as { result: string; at_ms: number }[]).find((e) => e.result === 'BP')!;
  expect(bp).toBeDefined();
  const answerOffsetMs = Date.parse(machine.answeredAt!) - Date.parse(machine.startedAt!);
  const beepSec = (answerOffsetMs + bp.at_ms) / 1000;
  // the stored picture is loud around the beep's end (the fake PSTN's beep is a loud tone), quiet just after
  const pic = machine.picture!;
  const binAt = (sec: number) => Math.floor((sec * 1000) / pic.binMs);
  expect(Math.max(...pic.levels[0]!.slice(binAt(beepSec - 0.3), binAt(beepSec) + 1))).toBeGreaterThan(-30);
  expect(Math.max(...pic.levels[0]!.slice(binAt(beepSec + 0.3), binAt(beepSec + 1.2)))).toBeLessThan(-40);
  expect(await page.locator('.timeline svg polygon.level').count()).toBe(1);
  await page.waitForFunction(() => (document.querySelector('audio') as HTMLAudioElement).readyState >= 1, undefined, { timeout: 10_000 });
  await page.click('.timeline g[data-result=BP]');
  await page.waitForFunction((t) => Math.abs((document.querySelector('audio') as HTMLAudioElement).currentTime - t) < 0.5, beepSec, {
    timeout: 10_000,
  });
  await page.screenshot({ path: join(ARTIFACTS, 'portal-call-picture.png'), fullPage: true });
  await sue.close();
}, 60_000);

test('an admin retries a dead delivery from the page and the receiver gets it; logout in one tab ends the other', async () => {
  const root = await loggedIn('root');
  const page = await root.newPage();
  const other = await root.newPage();
  await page.goto(`${fx.svc.portalUrl}/admin/deliveries?state=dead`);
  expect(await page.locator('tbody tr').count()).toBe(2);
  await page.screenshot({ path: join(ARTIFACTS, 'portal-admin-dead-deliveries.png'), fullPage: true });
  fx.rx.respond = () => ({ status: 200 });
  const webhookOf = async (id: string) => (await fx.svc.catalog.deliveriesOf(id)).find((d) => d.kind === 'webhook')!;
  const target = await webhookOf(live.id);
  await page.click(`tr[data-delivery="${target.id}"] button`);
  await page.waitForURL(/done=/);
  expect(await page.locator('[role=status]').textContent()).toContain(`Delivery #${target.id} queued again.`);
  const hit = await waitFor(
    'the retried delivery at the receiver',
    () => [...fx.rx.delivered.values()].find((h) => h.metadata.id === live.id),
    20_000,
  );
  expect(hit.signatureValid).toBe(true);
  // the outcome is recorded once the receiver's answer is back, a moment after the receiver has the request
  const recorded = await waitFor(
    'the retried delivery recorded',
    async () => {
      const d = await webhookOf(live.id);
      return d.status !== 'sending' && d.status !== 'pending' ? d : undefined;
    },
    10_000,
  );
  expect(recorded.status).toBe('delivered');
  expect((await webhookOf(machine.id)).status).toBe('dead'); // only the one retried
  expect((await fx.svc.catalog.audit.list({ actor: 'root', action: 'delivery_retry' })).map((e) => e.target)).toEqual([String(target.id)]);

  await other.goto(`${fx.svc.portalUrl}/admin/audit`);
  expect(await other.locator('tbody').textContent()).toContain('delivery_retry');
  await other.screenshot({ path: join(ARTIFACTS, 'portal-admin-audit.png'), fullPage: true });
  await page.click('nav button');
  await page.waitForURL(/\/login$/);
  await other.reload();
  expect(new URL(other.url()).pathname).toBe('/login');
  await root.close();
}, 60_000);

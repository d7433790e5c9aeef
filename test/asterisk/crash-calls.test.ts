// kill -9 of the service with calls up (bridged, or still ringing), then a restart: every call is
// catalogued once and delivered, nothing is left in Asterisk.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog } from '../../src/recordings';
import { runSipp, type SippResult } from '../../scripts/lib/sipp-caller';
import { WebhookReceiver } from '../support/receivers';
import { ChildService } from '../../scripts/lib/child-service';
import { ariGet, ensureSandbox, expectNoLeftovers, waitFor } from '../support/sandbox';

const SECRET = 'crash-calls-secret-0123456789abc';
let chroot: string;
let rx: WebhookReceiver;
let dir: string;

beforeAll(async () => {
  chroot = await ensureSandbox();
}, 600_000);

beforeEach(async () => {
  rx = new WebhookReceiver(SECRET);
  await rx.listen();
  dir = mkdtempSync(join(tmpdir(), 'dc-crash-calls-'));
});

const children: ChildService[] = [];
afterEach(async () => {
  // A failed test must not leave a service on the app's ARI name for the next file.
  for (const c of children.splice(0)) await c.kill('SIGKILL');
  await rx.close();
  rmSync(dir, { recursive: true, force: true });
});

function service(): ChildService {
  const c = new ChildService({
    DC_CATALOG_FILE: join(dir, 'catalog.sqlite'),
    DC_RECORDINGS_LOCAL_DIR: join(chroot, 'var/spool/asterisk/monitor'),
    DC_WEBHOOK_URL: rx.url,
    DC_WEBHOOK_SECRET: SECRET,
    DC_PORTAL_PORT: '0',
    DC_AGI_PORT: '0',
    DC_MONITOR_ENABLED: 'false',
    DC_ARI_RECONNECT_MIN_MS: '200',
    DC_ARI_RECONNECT_MAX_MS: '1000',
    DC_DELIVERY_POLL_MS: '200',
    DC_RECOVER_FILES: 'false', // the shared spool holds other tests' calls; rows written ahead are what counts here
    DC_RECOVER_EVERY_MS: '2000',
    DC_LOG_LEVEL: 'info',
  });
  children.push(c);
  return c;
}

async function ourBridges(): Promise<{ id: string; channels: string[] }[]> {
  return (await ariGet<{ id: string; channels: string[] }[]>('/bridges')).filter((b) => b.id.endsWith('-bridge'));
}

/** Waits until the catalog holds `n` finished recordings of `ani` (each uniqueid once) and the receiver got each. */
async function expectCataloguedAndDelivered(ani: string, n: number, svc?: ChildService): Promise<void> {
  const cat = await Catalog.open(join(dir, 'catalog.sqlite'));
  try {
    const recs = await waitFor(
      `${n} recordings of ${ani} catalogued and delivered`,
      async () => {
        const r = await cat.listRecordings({ ani, limit: 1000 });
        const keys = new Set(r.map((x) => `${x.id}:webhook`));
        return r.length === n && r.every((x) => x.state === 'complete') && [...keys].every((k) => rx.delivered.has(k)) ? r : undefined;
      },
      90_000,
      250,
    ).catch(async (e: Error) => {
      // Say what was there: rows and their states, deliveries, and what the service complained about.
      const r = await cat.listRecordings({ ani, limit: 1000 });
      const states = r.map((x) => x.state).join(',');
      const complaints = (svc?.logs ?? []).filter((l) => (l.level as number) >= 40).map((l) => `${String(l.msg)} ${String(l.err ?? '')}`);
      throw new Error(
        `${e.message}: ${r.length} rows (${states}), ${(await cat.openRecordings()).length} open, ${rx.delivered.size} delivered; warnings: ${complaints.slice(0, 15).join(' | ')}`,
      );
    });
    expect(new Set(recs.map((r) => r.uniqueid)).size).toBe(n);
    expect(await cat.openRecordings()).toEqual([]);
    // duplicates at the receiver only ever repeat a key
    expect(rx.hits.every((h) => h.signatureValid && recs.some((r) => h.idempotencyKey === `${r.id}:webhook`))).toBe(true);
  } finally {
    await cat.close();
  }
}

/** 20 calls from `ani` to a live far end, talking 14 s; resolves once all 20 are bridged (sipp still running). */
async function twentyBridgedCalls(ani: string, localPort: number): Promise<{ done: Promise<SippResult> }> {
  const done = runSipp({ dial: '*1234175551234', ani, talkMs: 14_000, calls: 20, concurrent: 20, rate: 20, localPort });
  await waitFor('20 calls bridged', async () => (await ourBridges()).filter((b) => b.channels.length === 2).length === 20, 30_000, 200);
  return { done }; // wrapped: awaiting this must not wait for the calls to end
}

/** After a restart: the 20 calls end normally, each taken over, catalogued once and delivered; nothing left. */
async function expectTakenOverAndCatalogued(svc: ChildService, ani: string, calls: { done: Promise<SippResult> }): Promise<void> {
  expect(await calls.done).toMatchObject({ successful: 20, failed: 0 });
  await expectCataloguedAndDelivered(ani, 20, svc);
  await expectNoLeftovers();
  expect(svc.logs.filter((l) => l.msg === 'call taken over after a restart')).toHaveLength(20);
  await svc.kill('SIGTERM');
}

test('kill -9 with 20 bridged calls up, restart: the calls go on, all 20 catalogued once and delivered, 0 left in Asterisk', async () => {
  const svc = service();
  await svc.startConnected();
  const ani = '3125550901';
  const calls = await twentyBridgedCalls(ani, 5760);
  await svc.kill();
  await new Promise((r) => setTimeout(r, 1000));
  await svc.startConnected();
  await expectTakenOverAndCatalogued(svc, ani, calls);
}, 180_000);

test('kill -9 while 5 calls ring, restart: the cut-off calls are hung up, catalogued once and delivered, 0 left', async () => {
  const svc = service();
  await svc.startConnected();
  const ani = '3125550902';
  // 6xxx: the far end rings and never answers.
  const calls = runSipp({ dial: '*1234175556000', ani, talkMs: 30_000, calls: 5, concurrent: 5, rate: 20, localPort: 5780 });
  await waitFor(
    '5 callees ringing',
    async () => (await ariGet<{ id: string }[]>('/channels')).filter((c) => c.id.endsWith('-callee')).length === 5,
    20_000,
    100,
  );
  await svc.kill();
  await svc.startConnected();
  const r = await calls;
  expect(r.successful + r.failed).toBe(5);
  await expectCataloguedAndDelivered(ani, 5, svc);
  await expectNoLeftovers();
  await svc.kill('SIGTERM');
}, 180_000);

test('SIGTERM with 20 bridged calls up: the service stops within its bound, the calls go on, the next start takes them over and catalogues all 20', async () => {
  const svc = service();
  await svc.startConnected();
  const ani = '3125550903';
  const calls = await twentyBridgedCalls(ani, 5800);
  const t0 = Date.now();
  const code = await svc.kill('SIGTERM');
  expect(code).toBe(0);
  expect(Date.now() - t0).toBeLessThan(16_000);
  // nothing was hung up: the 20 calls are still bridged in Asterisk
  expect((await ourBridges()).filter((b) => b.channels.length === 2)).toHaveLength(20);
  await svc.startConnected();
  await expectTakenOverAndCatalogued(svc, ani, calls);
}, 180_000);

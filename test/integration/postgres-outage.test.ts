// PostgreSQL restarted under a running recorder and outbox: calls that end while it is away are catalogued
// once it is back, deliveries resume, nothing is lost or sent twice. A real server (Debian's, in a temp dir).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog, Recorder } from '../../src/recordings';
import { OutboxWorker, webhookHandler } from '../../src/transport';
import { createLogger } from '../../src/log';
import { encodeWav } from '../../src/media';
import { Signal } from '../../scripts/lib/signals';
import { startTempPostgres, type TempPostgres } from '../../scripts/lib/postgres';
import { WebhookReceiver } from '../support/receivers';
import { waitFor } from '../support/sandbox';

const SECRET = 'test-webhook-secret-0123456789';
let pg: TempPostgres;
let root = '';

beforeAll(async () => {
  pg = await startTempPostgres();
  root = mkdtempSync(join(tmpdir(), 'dc-pg-outage-'));
  mkdirSync(join(root, 'calls'));
});
afterAll(() => {
  pg?.destroy();
  rmSync(root, { recursive: true, force: true });
});

test('the database restarted during calls: the service reconnects, calls ended meanwhile are catalogued, every delivery arrives once', async () => {
  const logs: Record<string, unknown>[] = [];
  const log = createLogger('info', { write: (l: string) => void logs.push(JSON.parse(l) as Record<string, unknown>) });
  const catalog = await Catalog.open(pg.url);
  const rx = new WebhookReceiver(SECRET);
  await rx.listen();
  const recorder = new Recorder({
    catalog,
    root,
    asteriskDir: '/var/spool/asterisk/monitor',
    routes: [{ name: 'crm', kind: 'webhook', target: rx.url }],
    log,
    isActive: () => false,
    recoverDays: -1,
    retryBaseMs: 500,
    onRegistered: () => worker.kick(),
  });
  const worker = new OutboxWorker({
    catalog,
    root,
    handlers: { webhook: webhookHandler({ secret: SECRET }) },
    format: 'wav',
    log,
    pollMs: 100,
    baseBackoffMs: 100,
    maxBackoffMs: 500,
    leaseMs: 5000,
  });
  worker.start();
  const wav = encodeWav(new Signal().speech(1000).noise(-50).pcm(), 8000);
  const call = (i: number) => {
    const file = join(root, 'calls', `c${i}.wav`);
    writeFileSync(file, wav);
    recorder.callFinished({ uniqueid: `pbx1-1733.${i}`, ani: '2125550100', dnis: '4175551234', file, source: 'agi' });
  };
  try {
    for (let i = 0; i < 5; i++) call(i);
    await waitFor('the first 5 delivered', () => rx.delivered.size === 5, 20_000);

    pg.stop('fast'); // every connection of the pool is cut
    for (let i = 5; i < 10; i++) call(i);
    await waitFor('registrations failing while the database is away', () =>
      logs.some((l) => l.msg === 'recording not catalogued yet, retrying'),
    );
    await new Promise((r) => setTimeout(r, 1500));
    pg.start();

    await waitFor('all 10 catalogued and delivered', async () => (await catalog.counts()).delivered === 10, 30_000);
    const rows = await catalog.listRecordings({ limit: 100 });
    expect(rows.length).toBe(10);
    expect(new Set(rows.map((r) => r.uniqueid)).size).toBe(10);
    expect(rx.delivered.size).toBe(10);
    // Retries carry the same Idempotency-Key: the receiver saw each recording under one key.
    expect([...rx.delivered.keys()].sort()).toEqual(rows.map((r) => `${r.id}:crm`).sort());
    expect([...rx.delivered.values()].every((h) => h.signatureValid)).toBe(true);
  } finally {
    await worker.stop();
    await recorder.stop(5000);
    await catalog.close();
    await rx.close();
  }
}, 90_000);
